from django.urls import path

from consults import note_views, pcp_views, views

app_name = "consults"
urlpatterns = [
    path("", views.agenda_list, name="agendas"),
    path("build/", views.build_now, name="build_now"),
    path("<int:pk>/", views.agenda_detail, name="agenda"),
    path("<int:pk>/items/add/", views.add_item, name="add_item"),
    path("<int:pk>/items/<int:item_pk>/remove/", views.remove_item, name="remove_item"),
    path("<int:pk>/items/<int:item_pk>/restore/", views.restore_item, name="restore_item"),
    path("<int:pk>/items/<int:item_pk>/move/<str:direction>/", views.move_item, name="move_item"),
    path("<int:pk>/items/<int:item_pk>/question/", views.set_question, name="set_question"),
    path("<int:pk>/questions/", views.save_questions, name="save_questions"),
    path("<int:pk>/order/", views.reorder, name="reorder"),
    path("<int:pk>/held/", views.hold_meeting, name="hold_meeting"),
    path("patients/<int:patient_pk>/review/", views.record_review, name="record_review"),
    path("<int:pk>/session/", views.update_session, name="update_session"),
    path("<int:pk>/items/<int:item_pk>/", note_views.workspace, name="workspace"),
    path("notes/<int:pk>/", note_views.note_detail, name="note"),
    path("notes/<int:pk>/save/", note_views.save_note, name="save_note"),
    path("notes/<int:pk>/amend/", note_views.amend_note, name="amend_note"),
    path("notes/<int:pk>/print/", note_views.print_note, name="print_note"),
    path("patients/<int:patient_pk>/note/", note_views.start_note, name="start_note"),
    path("recommendations/", note_views.recommendations, name="recommendations"),
    path("recommendations/<int:pk>/communicated/", note_views.communicate, name="communicate"),
    path("recommendations/<int:pk>/response/", note_views.respond, name="respond"),
    path("recommendations/<int:pk>/implemented/", note_views.implemented, name="implemented"),
    path("report/", views.report, name="report"),
    path("pcp/", pcp_views.pcp_home, name="pcp_home"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.mark_notification_read, name="notification_read"),
    path("notifications/read/", views.mark_all_notifications_read, name="notifications_read"),
]
