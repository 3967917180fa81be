"""REST API. Each app's module registers its viewsets on the one router."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from shidian.api import (catalogue, cases, indicators, orgs, oversight, plans, reporting,
                         selection)

router = DefaultRouter()
for module in (orgs, plans, reporting, indicators, cases, oversight, catalogue, selection):
    module.register(router)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
