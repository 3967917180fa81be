"""The upload checker, kept under its old name: it lives in ``shidian.core.uploads`` now, shared
by every app that accepts files."""
from __future__ import annotations

from shidian.core.uploads import (  # noqa: F401  (re-exported for existing callers)
    ALLOWED_EXTENSIONS,
    DOCX,
    JPEG,
    PDF,
    PNG,
    TYPE_BY_EXTENSION,
    XLSX,
    extension_of,
    sniff_content_type,
)
