"""Writes of the orgs app: the division table, agencies and their aliases, users.

Every function here runs in one transaction, validates before it saves, and raises
``ShidianError`` with a message the user can act on. Model changes of agencies, aliases and
users are audited by django-auditlog (registered in ``OrgsConfig.ready``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from shidian.core.errors import ErrorCode, ShidianError, not_found

from . import access, names
from .divisions import DATA_DIR, DivisionDataError, read_level
from .models import Agency, AgencyAlias, AgencyKind, Division, Role, User

# Rows per executemany when loading the division table.
DIVISION_BATCH = 5000


@dataclass
class DivisionsLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def divisions_load(*, levels: int = 5, province: str = "",
                   data_dir: Path = DATA_DIR) -> DivisionsLoadResult:
    """Load the division table down to ``levels`` (5 = villages), for one province or all.

    Idempotent: existing codes get their name and parent updated when they changed, missing
    codes are added, nothing is duplicated and nothing is deleted (agencies and users point
    at divisions). One transaction: a failure leaves the table as it was.
    """
    if not 1 <= levels <= 5:
        raise ShidianError(ErrorCode.INVALID, _("Levels must be between 1 and 5."))
    province = (province or "").strip()
    if province:
        known = {row.code for row in read_level(1, data_dir=data_dir)}
        if province not in known:
            raise ShidianError(ErrorCode.INVALID, _("Unknown province code %(code)s.")
                               % {"code": province}, {"province": province})
    result = DivisionsLoadResult()
    try:
        with transaction.atomic():
            for level in range(1, levels + 1):
                _divisions_load_level(level, province=province, data_dir=data_dir,
                                      result=result)
    except DivisionDataError as exc:
        raise ShidianError(ErrorCode.BAD_FILE, str(exc)) from exc
    return result


def _divisions_load_level(level: int, *, province: str, data_dir: Path,
                          result: DivisionsLoadResult) -> None:
    # New rows go in as multi-row INSERT statements through the connection, inside the caller's
    # transaction: bulk_create spends ~40 µs a row in the SQL compiler (34 s against 8 s for
    # the 665k rows on SQLite, measured), and this table has no signals, audit or defaults to
    # honour. Multi-row VALUES beat executemany on PostgreSQL (one round trip per batch).
    existing = Division.objects.filter(level=level)
    if province:
        existing = existing.filter(code__startswith=province)
    known = {code: (name, parent) for code, name, parent in
             existing.values_list("code", "name", "parent_id").iterator(chunk_size=20000)}
    new: list[tuple[str, str, int, str | None]] = []
    changed: list[Division] = []
    count = 0
    with connection.cursor() as cursor:
        for row in read_level(level, province=province, data_dir=data_dir):
            count += 1
            old = known.get(row.code)
            if old is None:
                new.append((row.code, row.name, level, row.parent))
                if len(new) >= DIVISION_BATCH:
                    result.created += _divisions_insert(cursor, new)
                    new = []
            elif old != (row.name, row.parent):
                changed.append(Division(code=row.code, name=row.name, level=level,
                                        parent_id=row.parent))
            else:
                result.unchanged += 1
        if new:
            result.created += _divisions_insert(cursor, new)
    if changed:  # a new edition renames a few hundred at most: the ORM is fast enough here
        Division.objects.bulk_update(changed, ["name", "parent"], batch_size=500)
        result.updated += len(changed)
    result.by_level[level] = count


def _divisions_insert(cursor: CursorWrapper, rows: list[tuple[str, str, int, str | None]]
                      ) -> int:
    quote = connection.ops.quote_name
    table = quote(Division._meta.db_table)
    columns = ", ".join(quote(Division._meta.get_field(f).column)
                        for f in ("code", "name", "level", "parent"))
    per_statement = min(1000, (connection.features.max_query_params or 4000) // 4)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}",  # noqa: S608
                       [value for row in chunk for value in row])
    return len(rows)


# Messages the pages and tests rely on (formatted with %-placeholders, translated at raise time).
NAME_REQUIRED = gettext_lazy("Enter a name.")
NAME_TOO_LONG = gettext_lazy("The name is longer than %(max)d characters.")
AGENCY_NAME_TAKEN = gettext_lazy("%(division)s already has an agency named %(name)s.")
ALIAS_IS_NAME = gettext_lazy("%(alias)s is the agency's own name.")
ALIAS_TAKEN = gettext_lazy("%(agency)s already has the alias %(alias)s.")
ALIAS_NAMES_OTHER = gettext_lazy("%(alias)s is the name of another agency of %(division)s.")
KIND_UNKNOWN = gettext_lazy("Unknown kind of agency: %(kind)s.")
CREDIT_CODE_INVALID = gettext_lazy(
    "%(code)s is not a valid unified social credit code (18 characters with a check digit).")
CREDIT_CODE_TAKEN = gettext_lazy("The unified social credit code %(code)s belongs to %(agency)s.")
DIVISION_OUT_OF_SCOPE = gettext_lazy("Division %(code)s is not in your area.")
DIVISION_REQUIRED = gettext_lazy("Choose the division the user works in.")
USERNAME_INVALID = gettext_lazy(
    "A user name may contain only letters, digits and @ . + - _ (at most 150 characters).")
USERNAME_TAKEN = gettext_lazy("The user name %(username)s is already taken.")
ROLE_UNKNOWN = gettext_lazy("Unknown role: %(role)s.")
AGENCY_REQUIRED = gettext_lazy("A %(role)s acts for at least one agency.")
AGENCY_OUTSIDE_DIVISION = gettext_lazy("%(agency)s is outside the user's division %(division)s.")
AGENCY_OUT_OF_SCOPE = gettext_lazy("Agency %(agency)s is not in your area.")
OWN_ADMIN_ROLE = gettext_lazy("You cannot take away your own administrator role.")
OWN_ACCOUNT_INACTIVE = gettext_lazy("You cannot deactivate your own account.")
ROLE_SEPARATED = gettext_lazy(
    "The role %(role)s is granted by the security administrator on the security pages.")
PASSWORD_REJECTED = gettext_lazy("The password is not accepted: %(reasons)s")

# Roles whose work is their agencies' work: they must act for at least one agency.
ROLES_WITH_AGENCIES = frozenset({Role.LIAISON, Role.PILOT_SITE})
UNSET = object()


def _invalid(message: str, **extra: object) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, message, dict(extra))


def clean_name(value: str, *, max_length: int = 128) -> str:
    """A unit name as typed, with surrounding and doubled spaces removed."""
    text = " ".join((value or "").split())
    if not text:
        raise _invalid(str(NAME_REQUIRED), field="name")
    if len(text) > max_length:
        raise _invalid(NAME_TOO_LONG % {"max": max_length}, field="name")
    return text


def clean_credit_code(value: str) -> str:
    """A unified social credit code (GB 32100) checked with its check digit, or ""."""
    code = (value or "").strip().upper().replace(" ", "")
    if not code:
        return ""
    try:
        return str(uscc.validate(code))
    except StdnumError:
        raise _invalid(CREDIT_CODE_INVALID % {"code": code}, field="credit_code") from None


def clean_kind(value: str) -> str:
    if value not in AgencyKind.values:
        raise _invalid(KIND_UNKNOWN % {"kind": value}, field="kind")
    return value


def _division_in_scope(actor: User, division: Division) -> Division:
    if not access.divisions_visible_to(user=actor).filter(code=division.code).exists():
        raise ShidianError(ErrorCode.NOT_FOUND, DIVISION_OUT_OF_SCOPE % {"code": division.code},
                           {"field": "division"})
    return division


def _check_agency_name_free(name: str, division: Division, *, exclude: int | None = None
                            ) -> None:
    taken = Agency.objects.filter(division=division, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ShidianError(ErrorCode.DUPLICATE, AGENCY_NAME_TAKEN % {
            "division": division.name, "name": name}, {"field": "name"})


def _check_credit_code_free(code: str, *, exclude: int | None = None) -> None:
    if not code:
        return
    holder = Agency.objects.filter(credit_code=code)
    if exclude is not None:
        holder = holder.exclude(pk=exclude)
    other = holder.first()
    if other is not None:
        raise ShidianError(ErrorCode.DUPLICATE, CREDIT_CODE_TAKEN % {
            "code": code, "agency": other.name}, {"field": "credit_code"})


def _clean_alias(agency: Agency, value: str) -> str:
    alias = clean_name(value)
    if alias == agency.name:
        raise _invalid(ALIAS_IS_NAME % {"alias": alias}, field="alias")
    if agency.pk and agency.aliases.filter(name=alias).exists():
        raise ShidianError(ErrorCode.DUPLICATE, ALIAS_TAKEN % {
            "agency": agency.name, "alias": alias}, {"field": "alias"})
    if Agency.objects.filter(division_id=agency.division_id, name=alias).exclude(
            pk=agency.pk).exists():
        raise ShidianError(ErrorCode.DUPLICATE, ALIAS_NAMES_OTHER % {
            "alias": alias, "division": agency.division.name}, {"field": "alias"})
    return alias


def _lock_agency(actor: User, agency: Agency) -> Agency:
    locked = access.agencies_manageable_by(user=actor).select_for_update(of=("self",)).filter(
        pk=agency.pk).first()
    if locked is None:
        raise not_found("agency")
    return locked


@transaction.atomic
def agency_create(*, actor: User, name: str, division: Division,
                  kind: str = AgencyKind.GOVERNMENT, short_name: str = "",
                  credit_code: str = "", aliases: Iterable[str] = ()) -> Agency:
    """Register an agency of ``division`` (inside the administrator's area)."""
    access.require_admin(actor)
    _division_in_scope(actor, division)
    name = clean_name(name)
    short_name = " ".join((short_name or "").split())[:64]
    kind = clean_kind(kind)
    credit_code = clean_credit_code(credit_code)
    _check_agency_name_free(name, division)
    _check_credit_code_free(credit_code)
    agency = Agency(name=name, short_name=short_name, kind=kind, division=division,
                    credit_code=credit_code, initials=names.initials(name))
    agency.save()
    seen = set()
    for value in aliases:
        if clean_name(value) in seen:
            continue
        alias = _clean_alias(agency, value)
        seen.add(alias)
        AgencyAlias.objects.create(agency=agency, name=alias)
    return agency


@transaction.atomic
def agency_update(*, actor: User, agency: Agency, name: str | None = None,
                  short_name: str | None = None, kind: str | None = None,
                  credit_code: str | None = None, division: Division | None = None,
                  is_active: bool | None = None) -> Agency:
    """Change an agency's fields; only the given ones, only when they differ."""
    access.require_admin(actor)
    agency = _lock_agency(actor, agency)
    changes: dict[str, object] = {}
    if division is not None and division.code != agency.division_id:
        changes["division"] = _division_in_scope(actor, division)
    if name is not None and clean_name(name) != agency.name:
        changes["name"] = clean_name(name)
        changes["initials"] = names.initials(clean_name(name))
    if short_name is not None and " ".join(short_name.split())[:64] != agency.short_name:
        changes["short_name"] = " ".join(short_name.split())[:64]
    if kind is not None and kind != agency.kind:
        changes["kind"] = clean_kind(kind)
    if credit_code is not None and clean_credit_code(credit_code) != agency.credit_code:
        changes["credit_code"] = clean_credit_code(credit_code)
        _check_credit_code_free(str(changes["credit_code"]), exclude=agency.pk)
    if is_active is not None and is_active != agency.is_active:
        changes["is_active"] = is_active
    if not changes:
        return agency
    if "name" in changes or "division" in changes:
        target = changes.get("division", agency.division)
        assert isinstance(target, Division)
        _check_agency_name_free(str(changes.get("name", agency.name)), target,
                                exclude=agency.pk)
    for field_name, value in changes.items():
        setattr(agency, field_name, value)
    agency.save(update_fields=list(changes))
    return agency


@transaction.atomic
def agency_alias_add(*, actor: User, agency: Agency, name: str) -> AgencyAlias:
    access.require_admin(actor)
    agency = _lock_agency(actor, agency)
    return AgencyAlias.objects.create(agency=agency, name=_clean_alias(agency, name))


@transaction.atomic
def agency_alias_remove(*, actor: User, agency: Agency, alias_id: int) -> None:
    access.require_admin(actor)
    agency = _lock_agency(actor, agency)
    alias = agency.aliases.filter(pk=alias_id).first()
    if alias is None:
        raise not_found("alias")
    alias.delete()


def clean_username(value: str, *, exclude: int | None = None) -> str:
    username = (value or "").strip()
    try:
        User.username_validator(username)
    except ValidationError:
        raise _invalid(str(USERNAME_INVALID), field="username") from None
    if not username or len(username) > 150:
        raise _invalid(str(USERNAME_INVALID), field="username")
    taken = User.objects.filter(username__iexact=username)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ShidianError(ErrorCode.DUPLICATE, USERNAME_TAKEN % {"username": username},
                           {"field": "username"})
    return username


def clean_role(value: str) -> str:
    if value not in Role.values:
        raise _invalid(ROLE_UNKNOWN % {"role": value}, field="role")
    if value in access.SEPARATED_ROLES:  # granted by the security administrator only
        raise _invalid(ROLE_SEPARATED % {"role": Role(value).label}, field="role")
    return value


def check_password(password: str, *, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise _invalid(PASSWORD_REJECTED % {"reasons": " ".join(exc.messages)},
                       field="password") from None


def clean_user_scope(actor: User, *, role: str, division: Division | None,
                 agencies: Iterable[Agency]) -> list[Agency]:
    """The division must be inside the admin's area (and given unless the admin is national);
    agencies must be the admin's to manage and inside the user's division."""
    if division is None:
        if actor.division_id is not None and not actor.is_superuser:
            raise _invalid(str(DIVISION_REQUIRED), field="division")
    else:
        _division_in_scope(actor, division)
    chosen = list(dict.fromkeys(agencies))
    manageable = set(access.agencies_manageable_by(user=actor).filter(
        pk__in=[a.pk for a in chosen]).values_list("pk", flat=True))
    for agency in chosen:
        if agency.pk not in manageable:
            raise ShidianError(ErrorCode.NOT_FOUND, AGENCY_OUT_OF_SCOPE % {"agency": agency.name},
                               {"field": "agencies"})
        if division is not None and not agency.division_id.startswith(division.code):
            raise _invalid(AGENCY_OUTSIDE_DIVISION % {"agency": agency.name,
                                                      "division": division.name},
                           field="agencies")
    if role in ROLES_WITH_AGENCIES and not chosen:
        raise _invalid(AGENCY_REQUIRED % {"role": Role(role).label}, field="agencies")
    return chosen


@transaction.atomic
def user_create(*, actor: User, username: str, password: str, role: str,
                division: Division | None = None, agencies: Iterable[Agency] = (),
                display_name: str = "", phone: str = "", email: str = "") -> User:
    """Create a user of the administrator's area, with a checked password (hashed by Argon2)."""
    access.require_admin(actor)
    username = clean_username(username)
    role = clean_role(role)
    chosen = clean_user_scope(actor, role=role, division=division, agencies=agencies)
    user = User(username=username, role=role, division=division,
                display_name=" ".join((display_name or "").split())[:64],
                phone=(phone or "").strip()[:20], email=(email or "").strip(),
                is_staff=role == Role.ADMIN)
    check_password(password, user=user)
    user.set_password(password)
    user.save()
    if chosen:
        user.agencies.set(chosen)
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, role: str | None = None,
                division: Division | None | object = UNSET,
                agencies: Iterable[Agency] | None = None, display_name: str | None = None,
                phone: str | None = None, email: str | None = None,
                is_active: bool | None = None, password: str | None = None) -> User:
    """Change a user of the administrator's area; only given fields, only when they differ."""
    access.require_admin(actor)
    locked = access.users_visible_to(user=actor).select_for_update().filter(pk=user.pk).first()
    if locked is None:
        raise not_found("user")
    user = locked
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        changes["role"] = clean_role(role)
        changes["is_staff"] = role == Role.ADMIN or user.is_superuser
        if user.pk == actor.pk and role != Role.ADMIN and not actor.is_superuser:
            raise _invalid(str(OWN_ADMIN_ROLE), field="role")
    if division is not UNSET and division != user.division:
        changes["division"] = division
    for field_name, value, limit in (("display_name", display_name, 64), ("phone", phone, 20),
                                     ("email", email, 254)):
        if value is not None and " ".join(value.split())[:limit] != getattr(user, field_name):
            changes[field_name] = " ".join(value.split())[:limit]
    if is_active is not None and is_active != user.is_active:
        if user.pk == actor.pk and not is_active:
            raise _invalid(str(OWN_ACCOUNT_INACTIVE), field="is_active")
        changes["is_active"] = is_active
    current = list(user.agencies.all())
    new_agencies = current if agencies is None else list(agencies)
    scope_changed = ("role" in changes or "division" in changes or
                     {a.pk for a in new_agencies} != {a.pk for a in current})
    if scope_changed:
        target_division = changes.get("division", user.division)
        assert target_division is None or isinstance(target_division, Division)
        new_agencies = clean_user_scope(actor, role=str(changes.get("role", user.role)),
                                    division=target_division, agencies=new_agencies)
    if password:
        check_password(password, user=user)
        user.set_password(password)
        changes["password"] = user.password
    for field_name, value in changes.items():
        setattr(user, field_name, value)
    if changes:
        user.save(update_fields=list(changes))
    if {a.pk for a in new_agencies} != {a.pk for a in current}:
        user.agencies.set(new_agencies)
    return user


def user_unlock(*, actor: User, user: User) -> int:
    """Lift the login lock of a user (django-axes counts failures per user name).

    Returns the number of failure records removed (0 when the user was not locked).
    """
    from axes.utils import reset

    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    access.require_admin(actor)
    if not access.users_visible_to(user=actor).filter(pk=user.pk).exists():
        raise not_found("user")
    removed = reset(username=user.username)
    if removed:  # an unlock is a security event: in the (hash-chained) audit trail
        LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(User), object_pk=str(user.pk),
            object_id=user.pk, object_repr=str(user)[:200], action=LogEntry.Action.UPDATE,
            changes={"login lock": ["locked", "unlocked"]}, actor=actor,
            additional_data={"event": "unlock"})
    return removed
