"""Pages of the orgs app under /orgs/."""
from django.urls import path

from shidian.web.views import orgs

app_name = "orgs"
urlpatterns = [
    path("", orgs.index, name="index"),
    path("divisions/", orgs.division_list, name="divisions"),
    path("divisions/options/", orgs.division_options, name="division-options"),
    path("divisions/<str:code>/", orgs.division_list, name="division"),
    path("agencies/", orgs.agency_list, name="agencies"),
    path("agencies/new/", orgs.agency_new, name="agency-new"),
    path("agencies/options/", orgs.agency_options, name="agency-options"),
    path("agencies/<int:agency_id>/", orgs.agency_detail, name="agency"),
    path("agencies/<int:agency_id>/aliases/", orgs.agency_alias_add, name="alias-add"),
    path("agencies/<int:agency_id>/aliases/<int:alias_id>/delete/", orgs.agency_alias_remove,
         name="alias-remove"),
    path("users/", orgs.user_list, name="users"),
    path("users/new/", orgs.user_new, name="user-new"),
    path("users/<int:user_id>/", orgs.user_detail, name="user"),
    path("users/<int:user_id>/unlock/", orgs.user_unlock, name="user-unlock"),
    path("import/<str:kind>/", orgs.import_page, name="import"),
    path("import/<str:kind>/template.xlsx", orgs.import_template, name="import-template"),
]
