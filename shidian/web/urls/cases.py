from django.urls import path

from shidian.web.views import cases as views

app_name = "cases"
urlpatterns = [
    path("", views.programme_list, name="programmes"),
    path("p/<int:programme_id>/", views.case_list, name="list"),
    path("p/<int:programme_id>/new/", views.case_new, name="new"),
    path("p/<int:programme_id>/notices/", views.notices, name="notices"),
    path("p/<int:programme_id>/duplicates/", views.duplicates, name="duplicates"),
    path("p/<int:programme_id>/imports/", views.import_list, name="imports"),
    path("p/<int:programme_id>/imports/template.xlsx", views.import_template,
         name="import-template"),
    path("p/<int:programme_id>/progress.xlsx", views.progress_report, name="progress"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/edit/", views.case_edit, name="edit"),
    path("<int:case_id>/act/", views.case_act, name="act"),
    path("<int:case_id>/documents/", views.case_document, name="document-add"),
    path("<int:case_id>/reveal/", views.case_reveal, name="reveal"),
    path("<int:case_id>/archive/", views.case_archive, name="archive"),
    path("documents/<int:document_id>/", views.document_download, name="document"),
    path("payments/<int:payment_id>/", views.payment_pay, name="pay"),
    path("notices/<int:notice_id>/", views.notice_detail, name="notice"),
    path("objections/<int:objection_id>/decide/", views.objection_decide,
         name="objection-decide"),
    path("board/<str:division>/", views.board, name="board"),
    path("duplicates/<int:pair_id>/", views.pair_detail, name="pair"),
    path("imports/<int:batch_id>/", views.import_detail, name="import"),
    path("imports/<int:batch_id>/progress/", views.import_progress, name="import-progress"),
]
