from django.urls import path

from shidian.web.views import selection as views

app_name = "selection"
urlpatterns = [
    path("", views.index, name="index"),
    path("plans/<int:plan_id>/calls/new/", views.call_new, name="call_new"),
    path("calls/<int:call_id>/", views.call_detail, name="call"),
    path("calls/<int:call_id>/quotas/", views.quotas, name="quotas"),
    path("calls/<int:call_id>/board/", views.board, name="board"),
    path("calls/<int:call_id>/apply/", views.apply, name="apply"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path("applications/<int:application_id>/decide/", views.decide, name="decide"),
    path("applications/<int:application_id>/forward/", views.forward, name="forward"),
    path("applications/<int:application_id>/return/", views.send_back, name="return"),
    path("documents/<int:document_id>/", views.document, name="document"),
    path("reviews/<int:review_id>/", views.review, name="review"),
    path("sites/<int:site_id>/", views.site, name="site"),
    path("sites/<int:site_id>/taskbook.docx", views.taskbook, name="taskbook"),
]
