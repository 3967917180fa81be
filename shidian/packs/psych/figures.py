"""The psych registries as indicator values: rooms → 建成率, patients → 规范管理率 / 治疗率.

Figures are computed per village as of a period's last day, from the registries' own dates
(建成日期, 登记日期 and 结案日期, visits' due and done days), and
written through the indicators services as the data set's values at village level (source
"cases", with history); the indicators engine then rolls them up to townships, the county and
above. Computing a past month again gives the same figures.

- 建成率 (seed 11 (一), 12f 具体指标1): villages whose village room (``room_kind`` village) is
  built with a 建成日期 by the day / villages of the area open on that day. Every village counts
  in the denominator, whether or not it reported a room.
- 在册: registered (登记日期) by the day and not closed (结案日期) by then.
- 规范管理率: patients on the register whose visits due in the period were made by their due
  days, with at least one visit made (``shidian.cases.followups.cases_regular``) / patients on
  the register (stage ``managed`` or ``closing`` on the day).
- 治疗率: patients whose latest visit by the day found them taking medication (规律服药 or
  间断服药) / patients on the register; the same for 精神分裂症 (diagnosis from the envelope).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Q

from shidian.cases import access as case_access
from shidian.cases import followups
from shidian.cases.models import Case, CaseProgramme, FollowUp, Outcome
from shidian.cases.services import case_secrets
from shidian.core.errors import ErrorCode, ShidianError
from shidian.core.periods import Period, parse_period
from shidian.indicators import services as indicator_services
from shidian.indicators.models import (DataElement, DataSet, Indicator, IndicatorStatus,
                                       PeriodType, Target, TargetStatus)
from shidian.indicators.selectors import data_set_fields
from shidian.orgs.models import Division, User

PACK = Path(__file__).resolve().parent
ROOM = "psych_room"
PATIENT = "psych_patient"
ON_REGISTER = ("managed", "closing")
TREATED = ("regular", "intermittent")
DATA_SET_KEY = "registry"
LEVELS = {"province": 1, "city": 2, "county": 3, "township": 4, "village": 5}


def spec() -> dict[str, Any]:
    with open(PACK / "indicators.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _deadline(text: Any) -> dt.date:
    year, month = (int(x) for x in str(text).split("-")[:2])
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def indicators_setup(*, user: User, division: Division, plan: Any = None) -> DataSet:
    """The pack's elements, its village data set for ``division`` and its indicators with
    their dated targets for the area (from ``indicators.yaml``); running it again reuses
    what exists."""
    raw = spec()
    with transaction.atomic():
        elements = {}
        for item in raw["elements"]:
            elements[item["code"]] = DataElement.objects.filter(code=item["code"]).first() or \
                indicator_services.data_element_create(
                    user=user, code=item["code"], name=item["name"],
                    value_type=item.get("value_type", "number"),
                    aggregation=item.get("aggregation", "sum"), unit=item.get("unit", ""))
        ds_raw = next(d for d in raw["data_sets"] if d["key"] == DATA_SET_KEY)
        data_set = DataSet.objects.filter(name=ds_raw["name"], division=division).first()
        if data_set is None:
            data_set = indicator_services.data_set_create(
                user=user, name=ds_raw["name"], period_type=ds_raw["period"],
                elements=[elements[c] for c in ds_raw["elements"]], division=division,
                level=LEVELS[ds_raw["level"]], due_days=int(ds_raw.get("due_days", 10)),
                plan=plan)
        for item in raw["indicators"]:
            indicator = Indicator.objects.filter(name=item["name"],
                                                 numerator=item["numerator"]).first()
            if indicator is None:
                indicator = indicator_services.indicator_create(
                    user=user, name=item["name"], numerator=item["numerator"],
                    denominator=item.get("denominator", ""), factor=item.get("factor", 1),
                    decimals=item.get("decimals", 1), unit=item.get("unit", ""),
                    period_type=item.get("period", PeriodType.MONTH), plan=plan)
            for target in item.get("targets") or []:
                Target.objects.get_or_create(
                    indicator=indicator, division=division,
                    deadline=_deadline(target["by"]), value=float(target["value"]),
                    defaults={"comparator": target.get("comparator", ">="),
                              "status": TargetStatus.CONFIRMED, "plan": plan,
                              "level": LEVELS.get(target.get("level", ""), None),
                              "source_key": f"psych:{item['key']}", "created_by": user})
    return data_set


def indicator_by_key(key: str) -> Indicator | None:
    item = next((i for i in spec()["indicators"] if i["key"] == key), None)
    if item is None:
        return None
    return Indicator.objects.filter(name=item["name"], numerator=item["numerator"],
                                    status=IndicatorStatus.ACTIVE).first()


# --- reading the registries as of a day -------------------------------------------------------

def villages_open(area: str, day: dt.date) -> list[str]:
    return list(Division.objects.filter(level=5).filter(
        case_access.prefix_q("code", area))
        .filter(Q(opened_on__isnull=True) | Q(opened_on__lte=day))
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=day))
        .order_by("code").values_list("code", flat=True))


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def room_figures(*, programme: CaseProgramme, area: str, day: dt.date) -> dict[str, dict]:
    """Per village: ``villages`` 1, and ``built`` 1 when its village room is built (stage
    ``built``) with a 建成日期 on or before ``day``. A revoked room (back to 未建成) no longer
    counts in any month: it was not properly built."""
    rooms = Case.objects.filter(programme=programme, case_type=ROOM, stage="built").filter(
        case_access.prefix_q("division", area)).exclude(outcome=Outcome.MERGED)
    built = {c.division_id for c in rooms.only("division_id", "data")
             if c.data.get("room_kind") == "village"
             and (_date(c.data.get("built_on")) or day + dt.timedelta(days=1)) <= day}
    return {code: {"villages": 1, "built": int(code in built)}
            for code in villages_open(area, day)}


def on_register(case: Case, day: dt.date) -> bool:
    """On the register at the end of ``day``: registered by then, not closed by then."""
    registered = _date(case.data.get("registered_on"))
    closed = _date(case.data.get("closed_on")) if case.stage == "closed" else None
    return bool(registered and registered <= day and (closed is None or closed > day))


def patient_figures(*, programme: CaseProgramme, area: str, period: Period
                    ) -> dict[str, dict[str, int]]:
    """Per village: patients on the register at the period's end, regularly managed, treated,
    and the same for schizophrenia."""
    day = period.end
    cases = list(Case.objects.filter(programme=programme, case_type=PATIENT)
                 .filter(case_access.prefix_q("division", area))
                 .exclude(outcome__in=[Outcome.MERGED, Outcome.WITHDRAWN, Outcome.REJECTED]))
    listed = [c for c in cases if on_register(c, day)]
    ids = [c.pk for c in listed]
    regular = followups.cases_regular(Case.objects.filter(pk__in=ids), start=period.start,
                                      end=day)
    latest: dict[int, Any] = {}
    for visit in FollowUp.objects.filter(case_id__in=ids, done_on__lte=day).order_by(
            "case_id", "done_on", "id"):
        latest[visit.case_id] = visit
    rows: dict[str, dict[str, int]] = defaultdict(lambda: {
        "patients": 0, "regular": 0, "treated": 0, "schizo": 0, "schizo_treated": 0})
    for case in listed:
        row = rows[case.division_id]
        visit = latest.get(case.pk)
        treated = bool(visit and followups.visit_data(visit).get("medication") in TREATED)
        schizo = case_secrets(case).get("diagnosis") == "schizophrenia"
        row["patients"] += 1
        row["regular"] += case.pk in regular
        row["treated"] += treated
        row["schizo"] += schizo
        row["schizo_treated"] += schizo and treated
    return dict(rows)


ELEMENTS = {"villages": "psy_room_villages", "built": "psy_room_built",
            "patients": "psy_patients", "regular": "psy_patients_regular",
            "treated": "psy_patients_treated", "schizo": "psy_schizo",
            "schizo_treated": "psy_schizo_treated"}


def figures_push(*, user: User, data_set: DataSet, period: str,
                 rooms: CaseProgramme | None = None, patients: CaseProgramme | None = None
                 ) -> int:
    """Write the registries' figures of ``period`` for every village of the data set's area;
    returns the number of values changed (0 when nothing moved)."""
    the_period = parse_period(period)
    area = data_set.division_id or ""
    if data_set.level != 5:
        raise ShidianError(ErrorCode.INVALID, "the psych data set is entered by villages")
    if not (user.is_superuser or user.role in ("office", "admin") and user.division_id
            and area.startswith(user.division_id)):
        raise ShidianError(ErrorCode.FORBIDDEN, "only the area's office pushes the figures")
    values: dict[str, dict[str, str]] = defaultdict(dict)
    if rooms is not None:
        for code, row in room_figures(programme=rooms, area=area,
                                      day=the_period.end).items():
            for key, n in row.items():
                values[code][ELEMENTS[key]] = str(n)
    if patients is not None:
        for code in villages_open(area, the_period.end):
            for key in ("patients", "regular", "treated", "schizo", "schizo_treated"):
                values[code][ELEMENTS[key]] = "0"
        for code, row in patient_figures(programme=patients, area=area,
                                         period=the_period).items():
            for key, n in row.items():
                values[code][ELEMENTS[key]] = str(n)
    fields = data_set_fields(data_set)
    divisions = {d.code: d for d in Division.objects.filter(code__in=list(values))}
    forms = [indicator_services.form_prepare(
        data_set=data_set, fields=fields, division=divisions[code], period=the_period, raw=raw,
        agency=None, check_outliers=False) for code, raw in sorted(values.items())
        if code in divisions]
    return indicator_services.forms_save(user=user, data_set=data_set, period=the_period,
                                         forms=forms, source="cases")


def room_targets(*, programme: CaseProgramme, day: dt.date) -> list[dict[str, Any]]:
    """The 建成率 targets of the programme's area with the rolled-up value of the month of
    ``day`` (or of the deadline's month once it passed) and whether each is met."""
    from shidian.indicators.models import IndicatorValue

    indicator = indicator_by_key("room_rate")
    if indicator is None or not programme.division_id:
        return []
    rows = []
    for target in Target.objects.filter(indicator=indicator, division_id=programme.division_id,
                                        status=TargetStatus.CONFIRMED).order_by("deadline"):
        at = min(day, target.deadline) if target.deadline else day
        period = f"{at.year}M{at.month:02d}"
        value = IndicatorValue.objects.filter(indicator_id=indicator.pk, period=period,
                                              code=programme.division_id).values_list(
            "value", flat=True).first()
        if value is None:
            state = "no_data"
        elif value >= target.value:
            state = "met"
        elif target.deadline and day > target.deadline:
            state = "missed"
        else:
            state = "open"
        rows.append({"target": target, "period": period, "value": value, "state": state})
    return rows
