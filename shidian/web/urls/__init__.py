"""Pages. Each app's pages have their own URL module (``urls/<app>.py``)."""
from django.urls import include, path

from shidian.web.views import account

urlpatterns = [
    path("", account.home, name="home"),
    path("login/", account.ShidianLoginView.as_view(), name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("orgs/", include("shidian.web.urls.orgs")),
    path("plans/", include("shidian.web.urls.plans")),
    path("reporting/", include("shidian.web.urls.reporting")),
    path("indicators/", include("shidian.web.urls.indicators")),
    path("cases/", include("shidian.web.urls.cases")),
    path("psych/", include("shidian.web.urls.psych")),
    path("oversight/", include("shidian.web.urls.oversight")),
    path("security/", include("shidian.web.urls.security")),
    path("selection/", include("shidian.web.urls.selection")),
    path("catalogue/", include("shidian.web.urls.catalogue")),
    path("careflows/", include("shidian.web.urls.careflows")),
]
