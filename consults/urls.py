from django.urls import path

from consults import views

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
    path("patients/<int:patient_pk>/review/", views.record_review, name="record_review"),
]
