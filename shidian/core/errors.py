"""One error type for the domain, rendered at the edge (page message or API body).

Callers branch on ``code``, never on the (Chinese) message text.
"""
from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INVALID = "invalid"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    LOCKED = "locked"
    BAD_FILE = "bad_file"
    PERIOD_CLOSED = "period_closed"
    PUBLISHED = "published"


class ShidianError(Exception):
    """A failure the user can understand and act on."""

    def __init__(self, code: ErrorCode, message: str, extra: dict[str, Any] | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "message": self.message, "extra": self.extra}


def not_found(what: str, **extra: Any) -> ShidianError:
    """The refusal of a record that does not exist or lies outside the user's scope.

    Both get the same words ("Not found.", in the user's language), so that nobody learns
    whether a record they may not see exists; the kind of record (``what``, English, for
    programs and logs) goes in ``extra["object"]`` with anything else given."""
    from django.utils.translation import gettext

    return ShidianError(ErrorCode.NOT_FOUND, gettext("Not found."), {"object": what, **extra})
