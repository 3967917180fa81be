from django.urls import path

from shidian.web.views import indicators as views

app_name = "indicators"
urlpatterns = [
    path("", views.index, name="index"),
    path("define/", views.define, name="define"),
    path("datasets/<int:data_set_id>/entry/", views.entry, name="entry"),
    path("datasets/<int:data_set_id>/upload/", views.upload, name="upload"),
    path("datasets/<int:data_set_id>/template.xlsx", views.template_download, name="template"),
    path("datasets/<int:data_set_id>/completeness/", views.completeness, name="completeness"),
    path("<int:indicator_id>/", views.indicator_detail, name="indicator"),
    path("<int:indicator_id>/export.xlsx", views.indicator_export, name="indicator_export"),
    path("plans/<int:plan_id>/targets/", views.plan_targets, name="plan_targets"),
    path("plans/<int:plan_id>/board/", views.plan_board, name="plan_board"),
    path("plans/<int:plan_id>/board.xlsx", views.plan_board_export, name="plan_board_export"),
    path("targets/<int:target_id>/", views.target_detail, name="target"),
    path("targets/<int:target_id>/confirm/", views.target_confirm, name="target_confirm"),
    path("targets/<int:target_id>/allocate/", views.target_allocate, name="target_allocate"),
]
