from django.urls import path

from shidian.web.views import plans as views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("programmes/", views.programme_list, name="programmes"),
    path("import/", views.plan_import, name="import"),
    path("<int:plan_id>/", views.plan_review, name="review"),
    path("<int:plan_id>/publish/", views.plan_publish, name="publish"),
    path("<int:plan_id>/edit/", views.plan_edit, name="edit"),
    path("<int:plan_id>/tasks/new/", views.task_create, name="task-create"),
    path("<int:plan_id>/units/candidates/", views.unit_candidates, name="unit-candidates"),
    path("<int:plan_id>/versions/", views.plan_versions, name="versions"),
    path("<int:plan_id>/versions/<int:number>/", views.plan_version, name="version"),
    path("<int:plan_id>/cascade/", views.plan_cascade, name="cascade"),
    path("<int:plan_id>/coverage/", views.plan_coverage, name="coverage"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
    path("tasks/<int:task_id>/row/", views.task_row, name="task-row"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="task-edit"),
    path("tasks/<int:task_id>/delete/", views.task_delete, name="task-delete"),
    path("units/<int:unit_id>/resolve/", views.unit_resolve, name="unit-resolve"),
    path("units/<int:unit_id>/create-agency/", views.unit_create_agency,
         name="unit-create-agency"),
]
