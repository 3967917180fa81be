"""The one place where domain errors become API responses: ``{code, message, extra}``."""
from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shidian.core.errors import ErrorCode, ShidianError

STATUS_BY_CODE = {
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.DUPLICATE: status.HTTP_409_CONFLICT,
    ErrorCode.LOCKED: status.HTTP_423_LOCKED,
    ErrorCode.PUBLISHED: status.HTTP_409_CONFLICT,
    ErrorCode.PERIOD_CLOSED: status.HTTP_409_CONFLICT,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ShidianError):
        return Response(exc.as_dict(),
                        status=STATUS_BY_CODE.get(exc.code, status.HTTP_400_BAD_REQUEST))
    return drf_exception_handler(exc, context)
