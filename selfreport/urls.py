from django.urls import path

from selfreport import views, webhooks

app_name = "selfreport"

urlpatterns = [
    path("patients/<int:patient_pk>/self-report/send/", views.send, name="send"),
    path("self-report/links/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("self-report/schedules/<int:pk>/stop/", views.stop, name="stop"),
    path("patients/<int:patient_pk>/self-report/texts/", views.text_consent, name="text_consent"),
    path("patients/<int:patient_pk>/self-report/texts/withdraw/", views.withdraw_text_consent, name="text_withdraw"),
    path("self-report/settings/", views.messaging_settings, name="settings"),
    # The patient's pages: the token is the path, never a query string.
    path("r/<str:token>/", views.start, name="start"),
    path("r/<str:token>/language/", views.switch_language, name="language"),
    path("r/<str:token>/questions/", views.questions, name="questions"),
    path("r/<str:token>/done/", views.done, name="done"),
    # Twilio's webhooks: signed by Twilio, no session (selfreport/webhooks.py).
    path("sms/twilio/inbound/", webhooks.sms_inbound, name="sms_inbound"),
    path("sms/twilio/status/", webhooks.sms_status, name="sms_status"),
]
