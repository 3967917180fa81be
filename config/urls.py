from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("shidian.api.urls")),
    path("", include("shidian.web.urls")),
]

# Error pages in Chinese that need no database (shidian/web/views/errors.py).
handler400 = "shidian.web.views.errors.bad_request"
handler403 = "shidian.web.views.errors.permission_denied"
handler404 = "shidian.web.views.errors.page_not_found"
handler500 = "shidian.web.views.errors.server_error"
