"""Bulk import of agencies and users from Excel, all or nothing, with every bad cell reported.

A file is read completely and every row is checked (unknown division, duplicate, bad credit
code, unknown role, ...) before anything is written; the writes then go through the same
services as the pages, in one transaction. ``partial=True`` saves the good rows and reports the
bad ones instead. ``*_template`` builds the downloadable template whose headers the import
expects (in Chinese; the English names are accepted too).
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, override
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.workbooks import open_workbook, sheet_rows

from . import access, selectors, services
from .models import Agency, AgencyKind, Division, Role, User

MAX_AGENCY_ROWS = 5000
# Every password is hashed with Argon2 (~50 ms each): keep one import within a request's time.
MAX_USER_ROWS = 500
LIST_SEPARATORS = "、,，;；\n"

NOT_EXCEL = gettext_lazy("The file is not an Excel workbook (.xlsx). Download the template and "
                         "fill it in.")
EMPTY_FILE = gettext_lazy("The file has no rows below the header.")
TOO_MANY_ROWS = gettext_lazy("The file has more than %(max)d rows: import it in parts.")
MISSING_COLUMNS = gettext_lazy(
    "These columns are missing: %(missing)s. The first row must hold the column names of the "
    "template: %(expected)s.")
UNKNOWN_COLUMN = gettext_lazy("Unknown column %(column)s: it is not in the template.")
DUPLICATE_COLUMN = gettext_lazy("The column %(column)s appears twice.")
REQUIRED = gettext_lazy("Required.")
KIND_UNKNOWN = gettext_lazy("Unknown kind %(value)s; use one of: %(choices)s.")
ROLE_UNKNOWN = gettext_lazy("Unknown role %(value)s; use one of: %(choices)s.")
DUPLICATE_IN_FILE = gettext_lazy("Duplicate of row %(row)d.")
AGENCY_EXISTS = gettext_lazy("%(division)s already has an agency named %(name)s.")
AGENCY_UNKNOWN = gettext_lazy("No agency named %(value)s in the user's division.")
CHANGED_MEANWHILE = gettext_lazy("Someone saved the same record meanwhile: try again.")
AGENCY_AMBIGUOUS = gettext_lazy(
    "Several agencies are named %(value)s in the user's division: rename one first.")


@dataclass(frozen=True)
class Column:
    key: str
    msgid: str  # the header in English; the template shows its Chinese translation
    required: bool = False
    help: Any = ""
    width: int = 18

    @property
    def label(self) -> str:
        return _(self.msgid)


AGENCY_COLUMNS = (
    Column("name", gettext_noop("Agency name"), True,
           gettext_lazy("The full name, e.g. 泸县卫生健康局"), 30),
    Column("division", gettext_noop("Division code or name"), True,
           gettext_lazy("The division code (510521) or a name that is unique in your area"), 16),
    Column("kind", gettext_noop("Kind of agency"), False,
           gettext_lazy("One of the listed kinds; empty means government department"), 14),
    Column("short_name", gettext_noop("Short name"), False, "", 16),
    Column("credit_code", gettext_noop("Unified social credit code"), False,
           gettext_lazy("18 characters, checked"), 22),
    Column("aliases", gettext_noop("Aliases"), False,
           gettext_lazy("Other names plans use, separated by 、"), 30),
)
USER_COLUMNS = (
    Column("username", gettext_noop("User name"), True,
           gettext_lazy("Letters, digits and @ . + - _"), 16),
    Column("display_name", gettext_noop("Full name"), False, "", 12),
    Column("role", gettext_noop("Role"), True, gettext_lazy("One of the listed roles"), 14),
    Column("division", gettext_noop("Division code or name"), True,
           gettext_lazy("The division code (510521) or a name that is unique in your area"), 16),
    Column("agencies", gettext_noop("Agencies acted for"), False,
           gettext_lazy("Names of the agencies the user acts for, separated by 、 (required for "
                        "liaisons and pilot sites)"), 30),
    Column("phone", gettext_noop("Phone"), False, "", 14),
    Column("email", gettext_noop("Email"), False, "", 20),
    Column("password", gettext_noop("Initial password"), True,
           gettext_lazy("At least 10 characters, not only digits, not a common password"), 18),
)


@dataclass
class ImportIssue:
    row: int  # the Excel row number (1 is the header)
    column: str  # header text, "" for the whole row or file
    value: str
    message: str


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


class ImportFailed(ShidianError):
    """Nothing was saved; ``result.issues`` says why, row by row."""

    def __init__(self, result: ImportResult):
        super().__init__(ErrorCode.BAD_FILE, _("The file has errors; nothing was saved."),
                         {"issues": [issue.__dict__ for issue in result.issues]})
        self.result = result


# ---------------------------------------------------------------------------- templates

def _template(columns: tuple[Column, ...], title: str, choices: dict[str, list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    header_fill = PatternFill("solid", fgColor="FDE2E1")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=str(column.label))
        cell.font = Font(bold=True, color="B00000" if column.required else "000000")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        if column.key in choices:
            validation = DataValidation(type="list", allow_blank=not column.required,
                                        formula1='"' + ",".join(choices[column.key]) + '"')
            validation.add(f"{get_column_letter(index)}2:{get_column_letter(index)}5000")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(_("Instructions"))
    notes.append([_("Column"), _("Required"), _("What to enter")])
    for column in columns:
        allowed = "、".join(choices.get(column.key, []))
        notes.append([str(column.label), _("yes") if column.required else _("no"),
                      " ".join(p for p in (str(column.help), allowed) if p)])
    notes.append([])
    notes.append([_("Fill in the first sheet from row 2 and keep the first row as it is. The "
                    "import saves nothing while any row has an error.")])
    for letter, width in zip("ABC", (24, 8, 80), strict=True):
        notes.column_dimensions[letter].width = width
    for cell in notes[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def agencies_template() -> bytes:
    return _template(AGENCY_COLUMNS, _("Agencies"),
                     {"kind": [str(label) for label in AgencyKind.labels]})


def users_template() -> bytes:
    return _template(USER_COLUMNS, _("Users"), {"role": [str(label) for label in Role.labels]})


# ---------------------------------------------------------------------------- reading

def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into a number cell: 510521.0
    return " ".join(str(value).split())


def _header_key(text: str) -> str:
    """Header text without marks people add (*, (必填), spaces)."""
    text = _text(text).replace("*", "").replace("＊", "")
    for opening, closing in (("(", ")"), ("（", "）")):
        if opening in text and text.endswith(closing):
            text = text[:text.index(opening)]
    return text.strip().lower()


def _read_rows(upload: IO[bytes], columns: tuple[Column, ...], result: ImportResult,
               max_rows: int) -> list[tuple[int, dict[str, str]]]:
    """The data rows as {column key: text}, or [] with the file-level issues in ``result``."""
    try:
        book = open_workbook(upload, read_only=True, message=NOT_EXCEL)
    except ShidianError as exc:
        result.issues.append(ImportIssue(0, "", "", exc.message))
        return []
    try:
        rows = sheet_rows(book.worksheets[0], message=NOT_EXCEL)
        header = next(rows, None) or ()
        by_header = {}
        for column in columns:
            by_header[_header_key(column.label)] = column
            by_header[_header_key(column.msgid)] = column
        positions: dict[str, int] = {}
        for index, text in enumerate(header):
            key = _header_key(_text(text))
            if not key:
                continue
            column = by_header.get(key)
            letter = get_column_letter(index + 1)
            if column is None:
                result.issues.append(ImportIssue(1, f"{letter} {_text(text)}", _text(text),
                                                 UNKNOWN_COLUMN % {"column": _text(text)}))
            elif column.key in positions:
                result.issues.append(ImportIssue(1, f"{letter} {_text(text)}", _text(text),
                                                 DUPLICATE_COLUMN % {"column": _text(text)}))
            else:
                positions[column.key] = index
        missing = [c.label for c in columns if c.required and c.key not in positions]
        if missing:  # most likely another file: one message instead of one per column
            found = [_text(text) for text in header if _text(text)]
            result.issues[:] = [ImportIssue(1, "", "、".join(found), MISSING_COLUMNS % {
                "missing": "、".join(missing),
                "expected": "、".join(c.label for c in columns)})]
        if result.issues:
            return []
        data = []
        for row_number, values in enumerate(rows, start=2):
            record = {key: _text(values[i]) if i < len(values) else ""
                      for key, i in positions.items()}
            if any(record.values()):
                data.append((row_number, record))
            if len(data) > max_rows:
                break
    except ShidianError as exc:  # damage met while reading the rows
        result.issues[:] = [ImportIssue(0, "", "", exc.message)]
        return []
    finally:
        book.close()
    if not data:
        result.issues.append(ImportIssue(0, "", "", str(EMPTY_FILE)))
    elif len(data) > max_rows:
        result.issues.append(ImportIssue(0, "", "", TOO_MANY_ROWS % {"max": max_rows}))
        return []
    return data


class _Divisions:
    """Resolve division cells (code or unique name) inside the administrator's area, cached."""

    def __init__(self, actor: User):
        self.actor = actor
        self.cache: dict[str, Division | str] = {}

    def get(self, value: str) -> Division | str:
        """The division, or the message saying why not."""
        if value not in self.cache:
            try:
                self.cache[value] = selectors.division_lookup(user=self.actor, text=value)
            except ShidianError as exc:
                self.cache[value] = exc.message
        return self.cache[value]


def _choice(value: str, choices: Any) -> str | None:
    """A choice given by its Chinese label, English label or stored value."""
    with override("en"):
        english = {str(label): stored for stored, label in choices.choices}
    for stored, label in choices.choices:
        if value in (stored, str(label)) or english.get(value) == stored:
            return str(stored)
    return None


def split_list(value: str) -> list[str]:
    items = [value]
    for separator in LIST_SEPARATORS:
        items = [part for item in items for part in item.split(separator)]
    return [item.strip() for item in items if item.strip()]


def _label(columns: tuple[Column, ...], key: str) -> str:
    return next(str(c.label) for c in columns if c.key == key)


def _issue_from(exc: ShidianError, row: int, columns: tuple[Column, ...], record: dict[str, str],
                default_key: str) -> ImportIssue:
    key = str(exc.extra.get("field") or default_key)
    known = {c.key for c in columns}
    key = key if key in known else default_key
    value = "" if key == "password" else record.get(key, "")
    return ImportIssue(row, _label(columns, key), value, exc.message)


def _run(result: ImportResult, rows: list[tuple[int, dict[str, str]]], *, partial: bool,
         validate: Callable[[int, dict[str, str]], list[ImportIssue]],
         save: Callable[[int, dict[str, str]], None]) -> ImportResult:
    """Check every row, then save the good ones (all or nothing unless ``partial``)."""
    result.rows = len(rows)
    good = []
    for row_number, record in rows:
        problems = validate(row_number, record)
        result.issues.extend(problems)
        if not problems:
            good.append((row_number, record))
    if result.issues and not partial:
        raise ImportFailed(result)
    try:
        with transaction.atomic():
            for row_number, record in good:
                save(row_number, record)
                result.created += 1
    except _RowFailed as failed:  # a check that passed above failed on save: save nothing
        result.created = 0
        result.issues.append(failed.issue)
        raise ImportFailed(result) from None
    result.skipped = result.rows - result.created
    return result


class _RowFailed(Exception):
    def __init__(self, issue: ImportIssue):
        super().__init__(issue.message)
        self.issue = issue


# ---------------------------------------------------------------------------- agencies

def agencies_import(*, actor: User, upload: IO[bytes], partial: bool = False) -> ImportResult:
    """Import agencies from the template's workbook. Raises ``ImportFailed`` (nothing saved)
    when any row is bad, unless ``partial``: then the good rows are saved and the rest listed."""
    access.require_admin(actor)
    result = ImportResult(kind="agencies")
    rows = _read_rows(upload, AGENCY_COLUMNS, result, MAX_AGENCY_ROWS)
    if result.issues:
        raise ImportFailed(result)
    divisions = _Divisions(actor)
    kinds = "、".join(str(label) for label in AgencyKind.labels)
    seen_names: dict[tuple[str, str], int] = {}
    seen_codes: dict[str, int] = {}
    cleaned: dict[int, dict[str, Any]] = {}
    label = lambda key: _label(AGENCY_COLUMNS, key)  # noqa: E731

    def validate(row: int, record: dict[str, str]) -> list[ImportIssue]:
        issues = []
        values: dict[str, Any] = {}
        for key in ("name", "division"):
            if not record.get(key):
                issues.append(ImportIssue(row, label(key), "", str(REQUIRED)))
        if record.get("name"):
            try:
                values["name"] = services.clean_name(record["name"])
            except ShidianError as exc:
                issues.append(ImportIssue(row, label("name"), record["name"], exc.message))
        if record.get("division"):
            division = divisions.get(record["division"])
            if isinstance(division, Division):
                values["division"] = division
            else:
                issues.append(ImportIssue(row, label("division"), record["division"], division))
        kind = record.get("kind", "")
        values["kind"] = _choice(kind, AgencyKind) if kind else AgencyKind.GOVERNMENT
        if values["kind"] is None:
            issues.append(ImportIssue(row, label("kind"), kind, KIND_UNKNOWN % {
                "value": kind, "choices": kinds}))
        try:
            values["credit_code"] = services.clean_credit_code(record.get("credit_code", ""))
        except ShidianError as exc:
            issues.append(ImportIssue(row, label("credit_code"), record["credit_code"],
                                      exc.message))
        values["short_name"] = record.get("short_name", "")
        values["aliases"] = split_list(record.get("aliases", ""))
        if "name" in values and "division" in values:
            key = (values["division"].code, values["name"])
            if key in seen_names:
                issues.append(ImportIssue(row, label("name"), values["name"],
                                          DUPLICATE_IN_FILE % {"row": seen_names[key]}))
            else:
                seen_names[key] = row
                if Agency.objects.filter(division=values["division"],
                                         name=values["name"]).exists():
                    issues.append(ImportIssue(row, label("name"), values["name"],
                                              AGENCY_EXISTS % {"division": values["division"].name,
                                                               "name": values["name"]}))
        code = values.get("credit_code")
        if code:
            if code in seen_codes:
                issues.append(ImportIssue(row, label("credit_code"), code,
                                          DUPLICATE_IN_FILE % {"row": seen_codes[code]}))
            else:
                seen_codes[code] = row
                holder = Agency.objects.filter(credit_code=code).first()
                if holder is not None:
                    issues.append(ImportIssue(row, label("credit_code"), code,
                                              services.CREDIT_CODE_TAKEN % {
                                                  "code": code, "agency": holder.name}))
        if not issues:
            cleaned[row] = values
        return issues

    def save(row: int, record: dict[str, str]) -> None:
        try:
            services.agency_create(actor=actor, **cleaned[row])
        except IntegrityError:
            raise _RowFailed(ImportIssue(row, label("name"), record.get("name", ""),
                                         str(CHANGED_MEANWHILE))) from None
        except ShidianError as exc:
            raise _RowFailed(_issue_from(exc, row, AGENCY_COLUMNS, record, "name")) from None

    return _run(result, rows, partial=partial, validate=validate, save=save)


# ---------------------------------------------------------------------------- users

class _Agencies:
    """Resolve agency names (exact name or alias) inside a division subtree, cached."""

    def __init__(self, actor: User):
        self.scope = access.agencies_manageable_by(user=actor)
        self.cache: dict[tuple[str, str], Agency | str] = {}

    def get(self, name: str, division: Division | None) -> Agency | str:
        key = (name, division.code if division else "")
        if key not in self.cache:
            agencies = self.scope
            if division is not None:
                agencies = agencies.filter(division__code__startswith=division.code)
            by_name = list(agencies.filter(name=name)[:2])
            if not by_name:
                by_name = list(agencies.filter(aliases__name=name).distinct()[:2])
            if not by_name:
                self.cache[key] = AGENCY_UNKNOWN % {"value": name}
            elif len(by_name) > 1:
                self.cache[key] = AGENCY_AMBIGUOUS % {"value": name}
            else:
                self.cache[key] = by_name[0]
        return self.cache[key]


def users_import(*, actor: User, upload: IO[bytes], partial: bool = False) -> ImportResult:
    """Import users from the template's workbook; same rules as ``agencies_import``."""
    access.require_admin(actor)
    result = ImportResult(kind="users")
    rows = _read_rows(upload, USER_COLUMNS, result, MAX_USER_ROWS)
    if result.issues:
        raise ImportFailed(result)
    divisions = _Divisions(actor)
    agencies = _Agencies(actor)
    roles = "、".join(str(label) for label in Role.labels)
    seen: dict[str, int] = {}
    cleaned: dict[int, dict[str, Any]] = {}
    label = lambda key: _label(USER_COLUMNS, key)  # noqa: E731

    def validate(row: int, record: dict[str, str]) -> list[ImportIssue]:
        issues = []
        values: dict[str, Any] = {"display_name": record.get("display_name", ""),
                                  "phone": record.get("phone", ""),
                                  "email": record.get("email", "")}
        for column in USER_COLUMNS:
            if column.required and not record.get(column.key):
                issues.append(ImportIssue(row, str(column.label), "", str(REQUIRED)))
        username = record.get("username", "")
        if username:
            folded = username.lower()
            if folded in seen:
                issues.append(ImportIssue(row, label("username"), username,
                                          DUPLICATE_IN_FILE % {"row": seen[folded]}))
            else:
                seen[folded] = row
                try:
                    values["username"] = services.clean_username(username)
                except ShidianError as exc:
                    issues.append(ImportIssue(row, label("username"), username, exc.message))
        role_text = record.get("role", "")
        if role_text:
            values["role"] = _choice(role_text, Role)
            if values["role"] is None:
                issues.append(ImportIssue(row, label("role"), role_text, ROLE_UNKNOWN % {
                    "value": role_text, "choices": roles}))
        division = None
        if record.get("division"):
            found = divisions.get(record["division"])
            if isinstance(found, Division):
                division = values["division"] = found
            else:
                issues.append(ImportIssue(row, label("division"), record["division"], found))
        chosen = []
        for name in split_list(record.get("agencies", "")):
            agency = agencies.get(name, division)
            if isinstance(agency, Agency):
                chosen.append(agency)
            else:
                issues.append(ImportIssue(row, label("agencies"), name, agency))
        values["agencies"] = chosen
        if values.get("role") and "division" in values and not issues:
            try:
                services.clean_user_scope(actor, role=values["role"], division=division,
                                      agencies=chosen)
            except ShidianError as exc:
                issues.append(_issue_from(exc, row, USER_COLUMNS, record, "agencies"))
        if record.get("password") and values.get("username"):
            try:
                services.check_password(record["password"], user=User(
                    username=values["username"], display_name=values["display_name"],
                    email=values["email"]))
            except ShidianError as exc:
                issues.append(ImportIssue(row, label("password"), "", exc.message))
            values["password"] = record["password"]
        if not issues:
            cleaned[row] = values
        return issues

    def save(row: int, record: dict[str, str]) -> None:
        try:
            services.user_create(actor=actor, **cleaned[row])
        except IntegrityError:
            raise _RowFailed(ImportIssue(row, label("username"), record.get("username", ""),
                                         str(CHANGED_MEANWHILE))) from None
        except ShidianError as exc:
            raise _RowFailed(_issue_from(exc, row, USER_COLUMNS, record, "username")) from None

    return _run(result, rows, partial=partial, validate=validate, save=save)


def iter_issue_rows(result: ImportResult) -> Iterator[tuple[int, str, str, str]]:
    for issue in sorted(result.issues, key=lambda i: (i.row, i.column)):
        yield issue.row, issue.column, issue.value, issue.message
