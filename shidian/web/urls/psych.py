"""Pages of the psychological services pack (see shidian/web/views/psych.py)."""
from django.urls import path

from shidian.web.views import psych as views

app_name = "psych"
urlpatterns = [
    path("", views.home, name="home"),
    path("p/<int:programme_id>/followups/", views.followup_board, name="followups"),
    path("p/<int:programme_id>/rooms/", views.rooms, name="rooms"),
    path("p/<int:programme_id>/training/", views.training, name="training"),
    path("patients/<int:case_id>/", views.patient, name="patient"),
    path("patients/<int:case_id>/visits/", views.visit_record, name="visit"),
    path("patients/<int:case_id>/team/", views.team_add, name="team-add"),
    path("patients/<int:case_id>/team/<int:member_id>/remove/", views.team_remove,
         name="team-remove"),
    path("patients/<int:case_id>/access-log/", views.access_log, name="access-log"),
    path("trainees/<int:case_id>/certificate.docx", views.certificate, name="certificate"),
]
