"""REST API. Each app's module registers its viewsets on the one router."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from shidian.api import (careflows, catalogue, cases, indicators, orgs, oversight, plans, psych,
                         reporting, selection)
from shidian.api.schema import describe

router = DefaultRouter()
for module in (orgs, plans, reporting, indicators, cases, oversight, catalogue, selection,
               careflows, psych):
    module.register(router)
describe(router)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="web/security/swagger_ui.html"), name="api-docs"),
    path("", include(router.urls)),
]
