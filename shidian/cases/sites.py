"""Institutions taking part in a programme (pilot sites by level) and what they count.

``sites:`` names the levels of site (市级指导中心, 县级病区, 社区卫生服务中心, 护理院), the capacities
counted per site (beds, teams), and who keeps the list. ``site_counts`` gives, for the end of a
day, the sites by level and the capacities summed: the figures a plan targets ("到2021年底…
安宁疗护团队2个…县级医疗机构1个"), for the indicators engine to read as data values.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode
from shidian.orgs.models import Agency, User

from . import access
from .audit import audited
from .definitions import E_SHAPE, Actor, CaseTypeDef, Label, case_type_get
from .models import CaseProgramme
from .relation_models import ProgrammeSite
from .relations import (
    REASON_FORBIDDEN,
    REASON_INVALID,
    error,
    labels,
    read_actor,
    read_mapping,
)


@dataclass(frozen=True)
class SitesDef:
    levels: Mapping[str, Label]
    measures: Mapping[str, Label]
    by: Actor | None


def load_sites(loader: Any, where: str, raw: Any, context: Mapping[str, Any]) -> SitesDef:
    raw = read_mapping(loader, where, raw)
    levels = labels(loader, f"{where}.levels", raw.get("levels") or {})
    if not levels:
        loader.problem(E_SHAPE, where, "sites name their levels")
    return SitesDef(levels=levels,
                    measures=labels(loader, f"{where}.measures", raw.get("measures") or {}),
                    by=read_actor(loader, f"{where}.by", raw.get("by")))


def sites_def(case_type: CaseTypeDef) -> SitesDef | None:
    return case_type.sections.get("sites")


def _definition(programme: CaseProgramme) -> SitesDef:
    definition = sites_def(case_type_get(programme.case_type))
    if definition is None:
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("This kind of programme has no pilot sites."))
    return definition


def _measures(definition: SitesDef, raw: Mapping[str, Any] | None) -> dict[str, int]:
    out = {}
    for key, value in (raw or {}).items():
        if key not in definition.measures:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("Unknown capacity %(name)s.") % {"name": key})
        if value in (None, ""):
            continue
        try:
            number = int(str(value).strip())
        except ValueError:
            number = -1
        if number < 0:
            raise error(ErrorCode.INVALID, REASON_INVALID,
                        _("%(name)s must be a whole number, 0 or more.")
                        % {"name": definition.measures[key]}, field=key)
        out[key] = number
    return out


@audited
def site_save(*, user: User, programme: CaseProgramme, agency_id: int, level: str,
              since: dt.date, measures: Mapping[str, Any] | None = None,
              until: dt.date | None = None) -> ProgrammeSite:
    """Add an institution to the programme's sites, or change its level, dates or counts."""
    definition = _definition(programme)
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown institution."),
                    field="agency")
    if not access.may_act(user, definition.by, agency.division_id):
        raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                    _("You may not keep the sites of this programme here."))
    if programme.division_id and not agency.division_id.startswith(programme.division_id):
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("%(agency)s is outside the programme's area.") % {"agency": agency})
    if level not in definition.levels:
        raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown site level."), field="level")
    if until is not None and until < since:
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("The end date precedes the start date."), field="until")
    counts = _measures(definition, measures)
    with transaction.atomic():
        site, created = ProgrammeSite.objects.select_for_update().get_or_create(
            programme=programme, agency=agency, defaults={
                "level": level, "since": since, "until": until, "measures": counts,
                "created_by": user})
        if not created:
            site.level, site.since, site.until = level, since, until
            site.measures = {**site.measures, **counts}
            site.save(update_fields=["level", "since", "until", "measures"])
    return site


def sites_visible_to(*, user: User, programme: CaseProgramme) -> QuerySet[ProgrammeSite]:
    sites = ProgrammeSite.objects.filter(programme=programme).select_related(
        "agency", "agency__division")
    if access._nationwide(user):
        return sites
    if not user.is_active or user.role not in access.CASE_ROLES or not user.division_id:
        return sites.none()
    return sites.filter(access.prefix_q("agency__division", user.division_id))


@dataclass
class SiteCounts:
    as_of: dt.date
    sites: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    measures: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "sites": self.sites,
                "by_level": self.by_level, "measures": self.measures}


def site_counts(*, programme: CaseProgramme, as_of: dt.date, division: str = "") -> SiteCounts:
    """Sites taking part at the end of ``as_of`` (inside ``division``), by level, and their
    capacities summed. Not scoped: the caller passes a division it may see."""
    definition = _definition(programme)
    counts = SiteCounts(as_of=as_of, by_level={key: 0 for key in definition.levels},
                        measures={key: 0 for key in definition.measures})
    sites = ProgrammeSite.objects.filter(Q(until__isnull=True) | Q(until__gte=as_of),
                                         programme=programme, since__lte=as_of)
    if division:
        sites = sites.filter(access.prefix_q("agency__division", division))
    for level, measures in sites.values_list("level", "measures"):
        counts.sites += 1
        counts.by_level[level] = counts.by_level.get(level, 0) + 1
        for key, value in (measures or {}).items():
            counts.measures[key] = counts.measures.get(key, 0) + int(value)
    return counts
