from django.urls import path

from shidian.web.views import reporting as views

app_name = "reporting"
urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("tasks/<int:task_id>/report/", views.report_form, name="report_form"),
    path("tasks/<int:task_id>/history/", views.task_history, name="task_history"),
    path("reports/<int:report_id>/", views.report_detail, name="report"),
    path("reports/<int:report_id>/return/", views.report_return, name="report_return"),
    path("reports/<int:report_id>/accept/", views.report_accept, name="report_accept"),
    path("evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("plans/", views.plan_list, name="plans"),
    path("plans/<int:plan_id>/", views.dashboard, name="dashboard"),
    path("plans/<int:plan_id>/reports/", views.period_reports, name="period_reports"),
    path("plans/<int:plan_id>/cycle/", views.cycle_edit, name="cycle"),
    path("plans/<int:plan_id>/decomposition.xlsx", views.export_decomposition,
         name="export_decomposition"),
    path("plans/<int:plan_id>/progress.xlsx", views.export_progress, name="export_progress"),
    path("plans/<int:plan_id>/bulletin.docx", views.export_bulletin, name="export_bulletin"),
]
