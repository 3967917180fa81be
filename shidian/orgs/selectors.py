"""Reads of the orgs app: division chains, scoped lists, and unit-name resolution."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz

from shidian.core.errors import ErrorCode, ShidianError

from . import access, names
from .models import CODE_LENGTHS, Agency, AgencyAlias, Division, User

DIVISION_UNKNOWN = gettext_lazy("No division with the code or name %(value)s in your area.")
DIVISION_AMBIGUOUS = gettext_lazy(
    "Several divisions are named %(value)s (%(examples)s): give the code instead.")

# Scores of agency_candidates, best first. Fuzzy similarity never reaches an exact reading.
SCORE_NAME = 1.0
SCORE_ALIAS = 0.97
SCORE_KEY = 0.95
SCORE_ALIAS_KEY = 0.93
SCORE_INITIALS = 0.9
SCORE_INITIALS_PREFIX = 0.75
SCORE_HOMOPHONE = 0.8
SCORE_FUZZY_MAX = 0.85
LEVEL_MISMATCH = 0.6
STEP_UP_PENALTY = 0.01  # per level between the plan's division and the agency's
MIN_SCORE = 0.45
# agency_resolve answers only when the best candidate is an exact reading and clearly first.
RESOLVE_MIN = 0.9
RESOLVE_MARGIN = 0.005


def ancestor_codes(code: str) -> list[str]:
    """The codes of a division's ancestors, top first (``510521`` → ``51``, ``5105``)."""
    return [code[:n] for n in sorted(CODE_LENGTHS.values()) if n < len(code)]


def division_chain(*, division: Division) -> list[Division]:
    """The division and its ancestors, nearest first (泸县, 泸州市, 四川省)."""
    codes = [*ancestor_codes(division.code), division.code]
    found = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [found[c] for c in reversed(codes) if c in found]


def significant_code(text: str) -> str:
    """A statistical code as typed (510521, 510521000000, 510500) → its significant digits;
    "" when the text is not a code."""
    digits = (text or "").strip()
    if not digits.isdigit() or len(digits) > 12 or len(digits) < 2:
        return ""
    padded = digits.ljust(12, "0")
    for length in sorted(CODE_LENGTHS.values()):
        if not padded[length:].strip("0"):
            return padded[:length]
    return padded


def division_lookup(*, user: User, text: str) -> Division:
    """The division a person typed, by code or by a name unique in the user's area.

    Raises ``ShidianError`` (NOT_FOUND, or INVALID for a name several divisions share, with
    examples so the person can pick the code).
    """
    value = names.clean(text)
    scope = access.divisions_visible_to(user=user)
    code = significant_code(value)
    if code:
        found = scope.filter(code=code).first()
        if found is None:
            raise ShidianError(ErrorCode.NOT_FOUND, DIVISION_UNKNOWN % {"value": value},
                               {"field": "division"})
        return found
    matches = list(scope.filter(name=value).order_by("code")[:4]) if value else []
    if not matches:
        raise ShidianError(ErrorCode.NOT_FOUND, DIVISION_UNKNOWN % {"value": value},
                           {"field": "division"})
    if len(matches) > 1:
        attach_chain_names(matches)
        examples = "；".join(f"{d.code} {d.chain_names}"  # type: ignore[attr-defined]
                            for d in matches[:3])
        raise ShidianError(ErrorCode.INVALID, DIVISION_AMBIGUOUS % {
            "value": value, "examples": examples}, {"field": "division"})
    return matches[0]


def division_get(*, code: str) -> Division | None:
    return Division.objects.filter(code=code).first()


def divisions_count() -> int:
    return Division.objects.count()


def division_children(*, user: User, parent: Division | None) -> QuerySet[Division]:
    """The divisions one level below ``parent`` (the provinces for None), within the scope."""
    base = access.divisions_visible_to(user=user)
    if parent is None:
        top = user.division_id if user.division_id and not user.is_superuser else None
        return base.filter(code=top) if top else base.filter(parent__isnull=True)
    return base.filter(parent=parent).order_by("code")


def division_search(*, user: User, query: str, limit: int = 20) -> list[Division]:
    """Divisions in the user's scope whose code starts with, or whose name contains, ``query``.

    Townships and villages share names across the country (城关镇, 新村), so each result
    carries its chain for display (``division.chain_names``).
    """
    text = names.clean(query)
    if not text:
        return []
    base = access.divisions_visible_to(user=user)
    if text.isdigit():
        rows = list(base.filter(code__startswith=text.rstrip("0") or text)
                    .order_by("level", "code")[:limit])
    else:
        rows = list(base.filter(name__contains=text).order_by("level", "code")[:limit])
    attach_chain_names(rows)
    return rows


def attach_chain_names(divisions: Iterable[Division]) -> None:
    """Set ``chain_names`` (四川省 / 泸州市 / 泸县) on each division with one query."""
    divisions = list(divisions)
    codes = {c for d in divisions for c in ancestor_codes(d.code)}
    found = dict(Division.objects.filter(code__in=codes).values_list("code", "name"))
    for d in divisions:
        chain = [found[c] for c in ancestor_codes(d.code) if c in found]
        d.chain_names = " / ".join([*chain, d.name])  # type: ignore[attr-defined]


def agency_list(*, user: User, query: str = "", division_code: str = "",
                include_inactive: bool = True) -> QuerySet[Agency]:
    """Agencies the user may see, filtered by a search text and a division subtree.

    The text matches the name, an alias or the pinyin initials (wjw finds 卫健委).
    """
    agencies = access.agencies_visible_to(user=user)
    if division_code:
        agencies = agencies.filter(division__code__startswith=division_code)
    text = names.clean(query)
    if text:
        by_name = Q(name__contains=text) | Q(short_name__contains=text)
        by_alias = Q(aliases__name__contains=text)
        by_initials = Q(initials__contains=text.lower()) if names.is_initials_query(text) else Q(
            pk__in=[])
        agencies = agencies.filter(by_name | by_alias | by_initials).distinct()
    if not include_inactive:
        agencies = agencies.filter(is_active=True)
    return agencies.select_related("division").order_by("division_id", "name")


def user_list(*, user: User, query: str = "", role: str = "",
              division_code: str = "") -> QuerySet[User]:
    """The users an administrator manages: those of the admin's division subtree."""
    users = access.users_visible_to(user=user)
    if role:
        users = users.filter(role=role)
    if division_code:
        users = users.filter(division__code__startswith=division_code)
    text = names.clean(query)
    if text:
        users = users.filter(Q(username__icontains=text) | Q(display_name__contains=text)
                             | Q(agencies__name__contains=text)).distinct()
    return users.select_related("division").prefetch_related("agencies").order_by("username")


def agency_counts(*, user: User, divisions: list[Division]) -> dict[str, int]:
    """How many agencies the user sees in each division's subtree (divisions of one level)."""
    if not divisions:
        return {}
    length = len(divisions[0].code)
    codes = [d.code for d in divisions if len(d.code) == length]
    rows = (access.agencies_visible_to(user=user)
            .annotate(prefix=Substr("division_id", 1, length))
            .filter(prefix__in=codes)
            .values("prefix").annotate(n=Count("id")).order_by())
    return {row["prefix"]: row["n"] for row in rows}


def users_locked(*, usernames: list[str]) -> set[str]:
    """The user names that django-axes has locked (failures counted per user name)."""
    from axes.models import AccessAttempt

    if not usernames:
        return set()
    rows = (AccessAttempt.objects.filter(username__in=usernames).values("username")
            .annotate(failures=Sum("failures_since_start"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT))
    return {row["username"] for row in rows}


class _Row(NamedTuple):
    pk: int
    name: str
    short_name: str
    division_id: str


@dataclass
class _Entry:
    agency: _Row
    names: list[str]
    aliases: list[str]
    keys: list[names.NameKey]
    alias_keys: list[names.NameKey]
    initials: set[str]
    distance: int


def _candidate_pool(division: Division | None
                    ) -> tuple[list[_Row], dict[int, list[str]], dict[str, str]]:
    """Active agencies of the division and its ancestors (all of them without a division),
    their aliases by agency id, and the names of every division code involved."""
    agencies = Agency.objects.filter(is_active=True)
    if division is not None:
        agencies = agencies.filter(division_id__in=[*ancestor_codes(division.code),
                                                    division.code])
    # Plain rows: scoring a few thousand agencies must not build a model instance for each.
    pool = [_Row(*row) for row in agencies.values_list("pk", "name", "short_name",
                                                       "division_id")]
    aliases: dict[int, list[str]] = {}
    for agency_id, alias in AgencyAlias.objects.filter(
            agency__in=agencies).values_list("agency_id", "name"):
        aliases.setdefault(agency_id, []).append(alias)
    codes = {c for a in pool for c in [*ancestor_codes(a.division_id), a.division_id]}
    if division is not None:
        codes.update([*ancestor_codes(division.code), division.code])
    return pool, aliases, dict(Division.objects.filter(code__in=codes).values_list("code",
                                                                                   "name"))


def _chain_names(code: str, division_names: dict[str, str]) -> tuple[str, ...]:
    codes = [*ancestor_codes(code), code]
    return tuple(division_names[c] for c in reversed(codes) if c in division_names)


LEVEL_INDEX = {length: index for index, length in enumerate(sorted(CODE_LENGTHS.values()))}


def _entry(agency: _Row, aliases: list[str], division_names: dict[str, str],
           division: Division | None) -> _Entry:
    chain = _chain_names(agency.division_id, division_names)
    keys = list(names.unit_keys(agency.name, division_names=chain))
    if agency.short_name:
        keys += names.unit_keys(agency.short_name, division_names=chain)
    alias_keys = [k for a in aliases for k in names.unit_keys(a, division_names=chain)]
    initials = {names.initials(k.core) for k in keys + alias_keys}
    distance = 0
    if division is not None:
        distance = LEVEL_INDEX[len(division.code)] - LEVEL_INDEX[len(agency.division_id)]
    return _Entry(agency, [names.clean(agency.name), names.clean(agency.short_name)],
                  [names.clean(a) for a in aliases], keys, alias_keys, initials, distance)


def _score(query: str, query_keys: Sequence[names.NameKey], entry: _Entry) -> float:
    if query in entry.names:
        return SCORE_NAME
    if query in entry.aliases:
        return SCORE_ALIAS
    if names.keys_match(query_keys, entry.keys):
        return SCORE_KEY
    if names.keys_match(query_keys, entry.alias_keys):
        return SCORE_ALIAS_KEY
    if names.is_initials_query(query):
        typed = query.lower()
        full = names.initials(entry.agency.name)
        if typed == full or typed in entry.initials:
            return SCORE_INITIALS
        if full.startswith(typed) or any(i.startswith(typed) for i in entry.initials):
            return SCORE_INITIALS_PREFIX
        return 0.0
    best = 0.0
    for q in query_keys:
        for u in entry.keys + entry.alias_keys:
            if q.level and q.level != u.level:
                factor = LEVEL_MISMATCH
            else:
                factor = 1.0
            if len(q.core) == len(u.core) and names.initials(q.core) == names.initials(u.core):
                best = max(best, SCORE_HOMOPHONE * factor)  # 卫建委 typed for 卫健委
            similarity = fuzz.ratio(q.core, u.core) / 100
            best = max(best, SCORE_FUZZY_MAX * similarity * factor)
    return best


def agency_candidates(*, name: str, division: Division | None = None,
                      limit: int = 5) -> list[tuple[Agency, float]]:
    """Agencies a unit name in a plan may mean, best first, with a score in 0..1.

    Looks at the active agencies of ``division`` and its ancestors (every agency without a
    division): the exact name (1.0), an alias (0.97), the abbreviated reading (区卫健委 for
    区卫生健康委员会, 0.95), pinyin initials typed in Latin letters (0.9), and fuzzy similarity
    (at most 0.85). A level word that does not fit (县卫生健康局 against 市卫生健康委) lowers
    the fuzzy score; agencies further up the tree lose a little, so the nearest comes first.
    """
    query = names.clean(name)
    if not query:
        return []
    pool, aliases, division_names = _candidate_pool(division)
    context = _chain_names(division.code, division_names) if division is not None else ()
    query_keys = names.name_keys(query, division_names=context)
    scored: list[tuple[int, float, str, str]] = []
    for row in pool:
        entry = _entry(row, aliases.get(row.pk, []), division_names, division)
        score = _score(query, query_keys, entry)
        if score <= 0:
            continue
        score = max(0.0, score - STEP_UP_PENALTY * entry.distance)
        if score >= MIN_SCORE:
            scored.append((row.pk, round(score, 4), row.division_id, row.name))
    scored.sort(key=lambda item: (-item[1], item[2], item[3]))
    best = scored[:limit]
    found = Agency.objects.select_related("division").in_bulk([pk for pk, *_ in best])
    return [(found[pk], score) for pk, score, *_ in best if pk in found]


def agency_resolve(*, name: str, division: Division | None) -> Agency | None:
    """The one agency a unit name means, or None when nothing matches exactly or two do."""
    candidates = agency_candidates(name=name, division=division, limit=2)
    if not candidates or candidates[0][1] < RESOLVE_MIN:
        return None
    if len(candidates) > 1 and candidates[0][1] - candidates[1][1] < RESOLVE_MARGIN:
        return None
    return candidates[0][0]
