"""Writes of the catalogue: a programme created from a pack, its lists, its registry feeds.

``programme_create_from_pack`` sets everything up in one transaction, audited under the user:
the plans Programme, the starting plan parsed from the pack's text (a draft for review in the
plan workspace), the case programmes, the data elements, data sets, indicators and dated
targets, the reporting cycles, the oversight rule, the milestones and the lists. Each piece is
made by its own app's service where one exists; nothing of it is saved when any piece fails.
A second submit of the same form (same token) returns the programme of the first.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from auditlog.context import auditlog_value, set_actor
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Division, User

from . import access
from .models import DutyList, DutyListItem, InstalledCycle, InstalledObject, PackInstall
from .packs import PackSpec, StartPlan, applies
from .selectors import pack_get


MSG_FORBIDDEN = gettext_lazy("Only a plan office or an administrator may create programmes.")
MSG_NAME = gettext_lazy("Give the programme a name.")
MSG_YEAR = gettext_lazy("The year must lie between 1990 and 2100.")
MSG_START_PLAN = gettext_lazy("The pack has no starting plan %(key)s.")
MSG_PLAN_UNREADABLE = gettext_lazy("The pack's starting plan could not be read: %(reason)s")
MSG_TOKEN = gettext_lazy("The form has expired; open it again.")
MSG_ITEM_EMPTY = gettext_lazy("Give the responsible party and the duty.")
MSG_LIST_CLOSED = gettext_lazy("This list is fixed by the plan; items cannot be added.")
MSG_NO_CASE_PROGRAMME = gettext_lazy("The programme has no case programme of type %(type)s.")

LEVEL_NAMES = {1: "province", 2: "city", 3: "county", 4: "township", 5: "village"}
_DATE_TEXT = re.compile(r"^(\d{4})(-\d{2}(?:-\d{2})?)?$")


@contextlib.contextmanager
def _audited(user: User) -> Iterator[None]:
    """One transaction whose audit entries name ``user`` (and the request's address)."""
    try:
        outer = auditlog_value.get()
    except LookupError:
        outer = None
    addr = outer.get("remote_addr") if outer else None
    try:
        with transaction.atomic(), set_actor(user, remote_addr=addr):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)


# --- dates moved to the programme's year -------------------------------------------------------

def shift_date(day: dt.date | None, years: int) -> dt.date | None:
    if day is None or not years:
        return day
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def shift_text(value: Any, years: int) -> Any:
    """``2019-08`` / ``2019-08-31`` / ``2019`` moved by whole years; anything else as it is."""
    if not years or not isinstance(value, str):
        return value
    match = _DATE_TEXT.match(value.strip())
    if not match:
        return value
    year = int(match[1]) + years
    rest = match[2] or ""
    if rest.count("-") == 2 and rest.endswith("-02-29"):
        rest = "-02-28"
    return f"{year:04d}{rest}"


def shift_period(period: str, years: int) -> str:
    if not years or len(period) < 4 or not period[:4].isdigit():
        return period
    return f"{int(period[:4]) + years:04d}{period[4:]}"


def shift_parsed(parsed: dict[str, Any], years: int) -> dict[str, Any]:
    """The parser's output with its dates moved (the verbatim ``*_text`` kept as written)."""
    if not years:
        return parsed
    out = dict(parsed)
    period = dict(out.get("period") or {})
    for key in ("start", "end"):
        period[key] = shift_text(period.get(key), years)
    out["period"] = period
    for section, keys in (("tasks", ("deadline",)), ("phases", ("start", "end")),
                          ("indicators", ("deadline",))):
        out[section] = [{**item, **{k: shift_text(item.get(k), years) for k in keys}}
                        for item in out.get(section) or []]
    return out


def start_plan_read(plan: StartPlan) -> tuple[str, dict[str, Any], list[Any]]:
    """The starting plan's text, the parser's output and the tasks' spans (nothing saved)."""
    from shidian.planparse import ReadError, parse_text
    from shidian.planparse.readers import read_file

    try:
        text = read_file(plan.path)
    except (ReadError, OSError) as exc:
        raise ShidianError(ErrorCode.BAD_FILE, str(MSG_PLAN_UNREADABLE) % {
            "reason": getattr(exc, "reason", str(exc))}) from exc
    draft = parse_text(text, name=plan.path.stem)
    return text, draft.to_dict(), [t.span for t in draft.tasks]


# --- the programme ---------------------------------------------------------------------------

def programme_create_from_pack(*, user: User, pack_key: str, name: str, division_code: str,
                               year: int, token: str, start_plan: str = "") -> PackInstall:
    """Create a programme with everything its pack gives (see the module's doc)."""
    if not access.can_create(user):
        raise ShidianError(ErrorCode.FORBIDDEN, str(MSG_FORBIDDEN))
    spec = pack_get(key=pack_key)
    token = (token or "").strip()[:64]
    if not token:
        raise ShidianError(ErrorCode.INVALID, str(MSG_TOKEN))
    earlier = PackInstall.objects.filter(token=token).select_related("programme").first()
    if earlier is not None:
        if earlier.created_by_id != user.pk:
            raise ShidianError(ErrorCode.INVALID, str(MSG_TOKEN))
        return earlier  # the same form submitted twice
    name = (name or "").strip()
    if not name:
        raise ShidianError(ErrorCode.INVALID, str(MSG_NAME), {"field": "name"})
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        raise ShidianError(ErrorCode.INVALID, str(MSG_YEAR), {"field": "year"})
    division = access.division_for_create(user=user, code=division_code)
    try:
        plan_spec = spec.plan(start_plan) if start_plan else spec.plans[0]
    except (KeyError, IndexError):
        raise ShidianError(ErrorCode.INVALID, str(MSG_START_PLAN) % {"key": start_plan},
                           {"field": "start_plan"}) from None
    years = year - plan_spec.year if plan_spec.year else 0
    text, parsed, spans = start_plan_read(plan_spec)  # before the transaction: read-only work
    parsed = shift_parsed(parsed, years)
    try:
        with _audited(user):
            return _install(user=user, spec=spec, plan_spec=plan_spec, name=name,
                            division=division, year=year, years=years, token=token,
                            text=text, parsed=parsed, spans=spans)
    except IntegrityError:
        # Two submits of one form at the same moment: the first one's install stands.
        earlier = PackInstall.objects.filter(token=token, created_by=user).first()
        if earlier is None:
            raise
        return earlier


def _install(*, user: User, spec: PackSpec, plan_spec: StartPlan, name: str,
             division: Division | None, year: int, years: int, token: str, text: str,
             parsed: dict[str, Any], spans: list[Any]) -> PackInstall:
    from shidian.plans import services as plans

    programme = plans.programme_create(user=user, name=name, domain=spec.domain,
                                       division=division, description=spec.description.zh)
    install = PackInstall.objects.create(programme=programme, pack=spec.key,
                                         start_plan=plan_spec.key, year=year, token=token,
                                         created_by=user)
    title = str(parsed.get("title") or plan_spec.label.zh)
    plan = plans.plan_create_from_parsed(
        user=user, programme=programme, division=division, parsed=parsed, source_text=text,
        source_name=plan_spec.path.name, spans=spans, title=title)
    install.plan = plan
    install.save(update_fields=["plan"])

    def record(kind: str, key: str, object_id: int) -> None:
        InstalledObject.objects.create(install=install, kind=kind, key=key[:80],
                                       object_id=object_id)

    _case_programmes(user=user, spec=spec, name=name, division=division, year=year,
                     record=record)
    _indicators(user=user, spec=spec, plan_key=plan_spec.key, plan=plan, division=division,
                years=years, record=record)
    _cycles(user=user, spec=spec, plan_key=plan_spec.key, install=install, plan=plan,
            years=years)
    if spec.oversight is not None:
        from shidian.oversight.models import OversightRule

        # The oversight app's rule_set serves the office of a published plan; the pack's rule
        # is set with the draft and applies once the plan is published.
        OversightRule.objects.update_or_create(plan=plan, defaults={
            "remind_days": spec.oversight.remind_days,
            "escalate_days": spec.oversight.escalate_days,
            "reply_days": spec.oversight.reply_days,
            "min_onsite_inspections": spec.oversight.min_onsite_inspections})
    _lists(user=user, spec=spec, plan_key=plan_spec.key, install=install)
    return install


def _case_programmes(*, user: User, spec: PackSpec, name: str, division: Division | None,
                     year: int, record: Any) -> None:
    from shidian.cases import services as cases
    from shidian.cases.definitions import case_type_get

    chosen = {c.case_type: c for c in spec.case_programmes}
    for key in spec.case_types:
        definition = case_type_get(key)
        wanted = chosen.get(key)
        table = wanted.table if wanted else (definition.tables[0].key
                                             if definition.tables else "")
        made = cases.programme_create(
            user=user, name=f"{name}·{definition.label.zh}"[:200], case_type=key,
            division_code=division.code if division else "", year=year, table=table,
            params=wanted.params if wanted else None)
        record("case_programme", key, made.pk)


def _indicators(*, user: User, spec: PackSpec, plan_key: str, plan: Any,
                division: Division | None, years: int, record: Any) -> None:
    from shidian.indicators import services as ind
    from shidian.indicators.models import (DataElement, IndicatorValue, Target,
                                           TargetStatus)

    elements: dict[str, DataElement] = {}
    for element in spec.elements:
        found = DataElement.objects.filter(code=element.code).first()
        if found is None:
            found = ind.data_element_create(
                user=user, code=element.code, name=element.name,
                value_type=element.value_type, aggregation=element.aggregation,
                unit=element.unit)
        elements[element.code] = found
        record("element", element.code, found.pk)
    for data_set in spec.data_sets:
        if not applies(data_set, plan_key):
            continue
        level = data_set.level
        if level is not None and division is not None and level < division.level:
            level = division.level
        made = ind.data_set_create(
            user=user, name=data_set.name, period_type=data_set.period,
            elements=[elements[c] for c in data_set.elements], division=division, level=level,
            due_days=data_set.due_days, expiry_days=data_set.expiry_days, plan=plan)
        record("data_set", data_set.key, made.pk)
    indicators = {}
    for spec_ind in spec.indicators:
        used = [m.indicator for m in spec.milestones if applies(m, plan_key)]
        if not applies(spec_ind, plan_key) and spec_ind.key not in used:
            continue
        made = ind.indicator_create(
            user=user, name=spec_ind.name, numerator=spec_ind.numerator,
            denominator=spec_ind.denominator, factor=spec_ind.factor,
            decimals=spec_ind.decimals, unit=spec_ind.unit, period_type=spec_ind.period,
            missing_as_zero=spec_ind.missing_as_zero, plan=plan)
        indicators[spec_ind.key] = made
        record("indicator", spec_ind.key, made.pk)
        if not applies(spec_ind, plan_key):
            continue
        for number, target in enumerate(spec_ind.targets):
            level = target.level
            if level is not None and division is not None and level <= division.level:
                level = None  # the programme's area is itself at that level
            deadline = shift_date(target.by, years)
            start = shift_date(target.start, years)
            if target.value is not None:
                made_target = ind.target_create(
                    user=user, indicator=made, value=target.value, deadline=deadline,
                    division=division, level=level, comparator=target.comparator,
                    start=start, cumulative=target.cumulative, plan=plan)
            else:
                baseline = shift_period(target.baseline, years)
                known = IndicatorValue.objects.filter(
                    indicator_id=made.pk, period=baseline,
                    code=division.code if division else "").values_list("value",
                                                                         flat=True).first()
                rule = _("%(name)s: the value of %(period)s plus %(change)s") % {
                    "name": spec_ind.name, "period": baseline, "change": f"{target.change:g}"}
                made_target = Target.objects.create(
                    indicator=made, plan=plan, division=division, level=level,
                    comparator=target.comparator,
                    value=(known + target.change) if known is not None else target.change,
                    start=start, deadline=deadline, cumulative=target.cumulative,
                    status=(TargetStatus.CONFIRMED if known is not None
                            else TargetStatus.DRAFT),
                    source_key=f"pack:{spec_ind.key}:{number}", source_text=rule,
                    created_by=user)
            record("target", f"{spec_ind.key}:{number}", made_target.pk)
    for milestone in spec.milestones:
        if not applies(milestone, plan_key):
            continue
        task = _milestone_task(plan, milestone)
        for number, point in enumerate(milestone.series):
            made_target = ind.target_create(
                user=user, indicator=indicators[milestone.indicator], value=point.value,
                deadline=shift_date(point.by, years), division=division, plan=plan,
                task=task)
            record("milestone", f"{milestone.key}:{number}", made_target.pk)


def _milestone_task(plan: Any, milestone: Any) -> Any:
    """The task of the starting plan a milestone belongs to (``task:`` its number, seed 15c's
    "8"); a number the parsed plan lacks refuses the programme, nothing is half-made."""
    from shidian.plans.models import Task

    if not milestone.task:
        return None

    def bare(number: str) -> str:
        return number.strip().strip("（）()、.． ")

    tasks = list(Task.objects.filter(plan=plan).order_by("order"))
    # The full path ("(二)/8"), else the task's own number ("8": unique in seed 15c).
    found = ([t for t in tasks if t.path == milestone.task.strip()]
             or [t for t in tasks if bare(t.path.split("/")[-1]) == bare(milestone.task)])
    if len(found) == 1:
        return found[0]
    raise ShidianError(
        ErrorCode.INVALID,
        _("The milestone %(milestone)s belongs to task %(task)s, which the starting plan does "
          "not have once (%(n)s tasks of that number).") % {
            "milestone": milestone.label.zh, "task": milestone.task, "n": len(found)},
        {"milestone": milestone.key, "task": milestone.task})


def _cycles(*, user: User, spec: PackSpec, plan_key: str, install: PackInstall, plan: Any,
            years: int) -> None:
    from shidian.reporting.services import cycle_add, cycle_set

    cycles = [c for c in spec.reporting if applies(c, plan_key)]
    main = next((c for c in cycles if c.plan_cycle), cycles[0] if cycles else None)
    for cycle in cycles:
        InstalledCycle.objects.create(
            install=install, key=cycle.key, label=cycle.label.zh[:200], kind=cycle.kind,
            due_day=cycle.due_day, grace_days=cycle.grace_days,
            starts_on=shift_date(cycle.starts, years), list_key=cycle.list,
            is_plan_cycle=cycle is main)
    if main is not None:
        cycle_set(user=user, plan_id=plan.pk, kind=main.kind, due_day=main.due_day,
                  grace_days=main.grace_days, due_month=main.due_month,
                  starts_on=shift_date(main.starts, years) or plan.period_start)
    # The others are the plan's further reports: 我的任务 and the ladder follow them too.
    for cycle in cycles:
        if cycle is not main:
            cycle_add(user=user, plan_id=plan.pk, key=cycle.key, label=cycle.label.zh,
                      kind=cycle.kind, due_day=cycle.due_day, grace_days=cycle.grace_days,
                      due_month=cycle.due_month,
                      starts_on=shift_date(cycle.starts, years) or plan.period_start)


def _lists(*, user: User, spec: PackSpec, plan_key: str, install: PackInstall) -> None:
    for order, each in enumerate(l for l in spec.lists if applies(l, plan_key)):
        made = DutyList.objects.create(
            install=install, key=each.key, label=each.label.zh[:200],
            description=each.description.zh if each.description else "", is_open=each.open,
            columns=list(each.columns), order=order)
        DutyListItem.objects.bulk_create([
            DutyListItem(duty_list=made, order=i, owner=item.owner[:200], duty=item.duty,
                         partner=item.partner[:200], basis=item.basis[:300],
                         note=item.note[:300], from_pack=True, created_by=user)
            for i, item in enumerate(each.items)])


# --- after the start -------------------------------------------------------------------------

def list_item_add(*, user: User, list_id: int | str, owner: str, duty: str, partner: str = "",
                  basis: str = "", note: str = "") -> DutyListItem:
    """Add an item to an open list (the "x" of 8+x; a county's own duties in its 权责清单)."""
    duty_list = access.access_list_for_change(user=user, list_id=list_id)
    owner, duty = (owner or "").strip(), (duty or "").strip()
    if not owner or not duty:
        raise ShidianError(ErrorCode.INVALID, str(MSG_ITEM_EMPTY))
    if not duty_list.is_open:
        raise ShidianError(ErrorCode.INVALID, str(MSG_LIST_CLOSED))
    with _audited(user):
        locked = DutyList.objects.select_for_update().get(pk=duty_list.pk)
        last = locked.items.order_by("-order").values_list("order", flat=True).first()
        return DutyListItem.objects.create(
            duty_list=locked, order=(last or 0) + 1, owner=owner[:200], duty=duty,
            partner=(partner or "").strip()[:200], basis=(basis or "").strip()[:300],
            note=(note or "").strip()[:300], created_by=user)


def feeds_pull(*, user: User, install: PackInstall, period: str) -> int:
    """Fill the data elements the pack feeds from its case registries for ``period`` at every
    division of the data set's level the user enters for; returns the values changed."""
    from shidian.cases.models import CaseProgramme
    from shidian.core.periods import parse_period
    from shidian.indicators import services as ind
    from shidian.indicators.models import DataSet
    from shidian.indicators.selectors import data_set_fields

    from .registry import case_counts

    spec = pack_get(key=install.pack)
    ids = {(k, key): oid for k, key, oid in install.installed.values_list("kind", "key",
                                                                        "object_id")}
    changed = 0
    the_period = parse_period(period)
    for feed in spec.feeds:
        data_set_id = ids.get(("data_set", feed.data_set))
        if data_set_id is None:
            continue  # the data set is not part of this programme's starting plan
        data_set = DataSet.objects.get(pk=data_set_id)
        programme_id = ids.get(("case_programme", feed.case_type))
        if programme_id is None:
            raise ShidianError(ErrorCode.INVALID, str(MSG_NO_CASE_PROGRAMME)
                               % {"type": feed.case_type})
        programme = CaseProgramme.objects.get(pk=programme_id)
        if feed.figure:
            changed += ind.case_figures_pull(user=user, data_set=data_set, programme=programme,
                                             period=period, figures={feed.element: feed.figure})
            continue
        ind.check_entry_open(data_set, the_period)
        fields = [f for f in data_set_fields(data_set) if f.key == feed.element]
        allowed = {d.code: d for d in ind.access.divisions_for_entry(user=user,
                                                                     data_set=data_set)}
        counts = case_counts(programme=programme, feed=feed, level=data_set.level or 3,
                             as_of=the_period.end)
        forms = [ind.form_prepare(data_set=data_set, fields=fields, division=allowed[code],
                                  period=the_period, raw={feed.element: f"{value:g}"},
                                  agency=None, check_outliers=False)
                 for code, value in sorted(counts.items()) if code in allowed]
        changed += ind.forms_save(user=user, data_set=data_set, period=the_period, forms=forms,
                                  source="cases")
    return changed
