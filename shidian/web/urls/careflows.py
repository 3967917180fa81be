from django.urls import path

from shidian.web.views import careflows as views

app_name = "careflows"
urlpatterns = [
    path("cases/<int:case_id>/", views.case_relations, name="case"),
    path("cases/<int:case_id>/parties/", views.party_register, name="party-register"),
    path("cases/<int:case_id>/assign/", views.party_assign, name="assign"),
    path("cases/<int:case_id>/agreements/", views.agreement_sign, name="sign"),
    path("cases/<int:case_id>/schedule/", views.schedule_set, name="schedule"),
    path("cases/<int:case_id>/attendance/", views.attendance_record, name="attendance"),
    path("cases/<int:case_id>/assessments/", views.assessment_record, name="assess"),
    path("cases/<int:case_id>/referral/", views.transfer_request, name="refer"),
    path("referrals/", views.referral_inbox, name="referrals"),
    path("referrals/<int:transfer_id>/decide/", views.referral_decide, name="decide"),
    path("p/<int:programme_id>/new/", views.owned_case_new, name="owned-new"),
    path("p/<int:programme_id>/funds/", views.programme_funds, name="funds"),
    path("p/<int:programme_id>/report/", views.programme_selfcheck, name="selfcheck"),
    path("p/<int:programme_id>/report.docx", views.programme_report, name="report"),
]
