"""Opening uploaded Excel workbooks, where a damaged file must become a user's error.

openpyxl reports a damaged .xlsx through whichever library met the damage first: zipfile
(``BadZipFile``), zlib (``zlib.error``), the XML parser (lxml's ``XMLSyntaxError``, a
``SyntaxError``), or its own readers (``KeyError``, ``ValueError``, ``TypeError``...). In
read-only mode the sheet XML is parsed lazily, so the same errors can come while the rows are
being read. Importers call these two functions and catch one ``ShidianError`` instead of each
keeping its own incomplete list (found by ``tests/fuzz``).
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO, Any
from zipfile import BadZipFile

from django.utils.translation import gettext_lazy

from .errors import ErrorCode, ShidianError

NOT_A_WORKBOOK = gettext_lazy("The file is not an Excel workbook (.xlsx) or it is damaged; "
                              "save it again in Excel or WPS as .xlsx.")

DAMAGE = (BadZipFile, zlib.error, EOFError, OSError, KeyError, IndexError, ValueError,
          TypeError, AttributeError, SyntaxError, AssertionError)


def _damaged(message: Any, params: dict[str, Any] | None) -> ShidianError:
    return ShidianError(ErrorCode.BAD_FILE, str(message or NOT_A_WORKBOOK), params or {})


def open_workbook(source: str | IO[bytes] | Any, *, read_only: bool = False,
                  message: Any = None, params: dict[str, Any] | None = None) -> Any:
    """The workbook (values, not formulas) or a BAD_FILE ShidianError saying it is damaged."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(source, read_only=read_only, data_only=True)
        if not book.worksheets:
            raise ValueError("no worksheet")
        return book
    except (InvalidFileException, *DAMAGE) as exc:
        raise _damaged(message, params) from exc


def sheet_rows(sheet: Any, *, message: Any = None, params: dict[str, Any] | None = None,
               **options: Any) -> Iterator[tuple[Any, ...]]:
    """``sheet.iter_rows(values_only=True, **options)``, with damage met while reading turned
    into the same BAD_FILE error as at opening."""
    rows = sheet.iter_rows(values_only=True, **options)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except DAMAGE as exc:
            raise _damaged(message, params) from exc
        yield row
