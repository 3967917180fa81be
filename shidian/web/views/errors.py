"""Error pages: what the user sees when a page is missing, refused, or the server fails.

They render without the request's context and touch no database: the 500 page must work
when the database is the thing that failed. A database that cannot be reached is told
apart from other failures (503, "try again in a moment") so that users do not report a bug
for an outage; the next request reconnects by itself (CONN_HEALTH_CHECKS).
"""
from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

DATABASE_DOWN = (OperationalError, InterfaceError)


def _page(status: int, title: str, message: str) -> HttpResponse:
    body = render_to_string("web/error.html", {"status": status, "title": title,
                                               "message": message})
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    if status == 503:
        response["Retry-After"] = "30"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(400, _("The request cannot be understood"),
                 _("Go back, check what you entered and try again."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(403, _("You may not open this page"),
                 _("Your role or area does not include it. Ask your office if you need it."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(404, _("This page does not exist"),
                 _("It may have been removed, or it is outside your area."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(403, _("The form has expired"),
                 _("Reload the page and submit it again; nothing was saved."))


def server_error(request: HttpRequest) -> HttpResponse:
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_DOWN):
        return _page(503, _("The database cannot be reached"),
                     _("Nothing you submitted in this request was saved. Try again in a "
                       "minute; if it goes on, tell your system administrator."))
    return _page(500, _("Something went wrong on the server"),
                 _("The error has been logged for the administrators. Try again; if it "
                   "happens again, tell your system administrator what you were doing."))
