"""The annual self-inspection report (自检报告, seed 04) of a case programme created from a pack.

The case engine (``shidian.cases.funds``) generates the parts it can read from the cases
(overall, results, funds). The parts that read the programme's plan come from here, because the
catalogue is what ties a case programme to its plan (``InstalledObject`` of kind
``case_programme``): ``targets`` (the plan's indicators with their values and each confirmed
target's attainment, the plan's tasks by status) and ``problems`` (overdue tasks, rectifications
not closed, targets missed or off track). The written parts (seed 04's 改进措施和计划) are saved
per programme, division and year in ``SelfCheckText``, audited, and shown with the computed
problems as prompts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shidian.cases import access as case_access
from shidian.cases import funds
from shidian.cases.audit import audited
from shidian.cases.definitions import case_type_get
from shidian.cases.models import CaseProgramme
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Division, User
from shidian.plans.models import Plan

from .models import InstalledObject, PackInstall, SelfCheckText

MAX_TEXT = 5000
MAX_LISTED = 10
MSG_FORBIDDEN = gettext_lazy("You may not write this programme's self-inspection report here.")
MSG_PART = gettext_lazy("%(part)s is generated from the data and cannot be written.")
MSG_YEAR = gettext_lazy("The year must be between 1990 and 2100.")
MSG_TOO_LONG = gettext_lazy("%(part)s is longer than %(max)s characters.")


def case_programme_plan(*, programme: CaseProgramme) -> Plan | None:
    """The plan of the programme the case programme was installed with, if any."""
    installs = InstalledObject.objects.filter(kind="case_programme",
                                              object_id=programme.pk).values("install_id")
    install = (PackInstall.objects.filter(pk__in=installs, plan__isnull=False)
               .select_related("plan").order_by("-created_at").first())
    return install.plan if install else None


def report_day(year: int, today: dt.date) -> dt.date:
    """The day the report looks at: today, or the year's last day for a past year."""
    return min(today, dt.date(year, 12, 31))


@dataclass
class TargetLine:
    text: str
    standing: str


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return _("no data")
    return f"{value:g}{unit}"


def target_lines(*, plan: Plan, division: Division, year: int, today: dt.date
                 ) -> list[TargetLine]:
    """Each of the plan's indicators with its value of the year at ``division``, and each
    confirmed target with its attainment there as of the report's day."""
    from shidian.indicators.models import Indicator, IndicatorValue
    from shidian.indicators.selectors import plan_targets, standing_label, target_board

    day = report_day(year, today)
    out = []
    targeted = set()
    for target in plan_targets(plan_id=plan.pk):
        indicator = target.indicator
        targeted.add(indicator.pk)
        row = target_board(target=target, today=day,
                           codes=[(division.code, division.name)]).rows[0]
        out.append(TargetLine(_("%(indicator)s %(comparator)s %(target)s by %(deadline)s: "
                                "%(value)s%(as_of)s, %(standing)s.") % {
            "indicator": indicator.name, "comparator": target.comparator,
            "target": _number(target.value, indicator.unit),
            "deadline": target.deadline.isoformat() if target.deadline else "—",
            "value": _number(row.current, indicator.unit),
            "as_of": f"（{row.as_of}）" if row.as_of else "",
            "standing": standing_label(row.standing)}, row.standing))
    for indicator in Indicator.objects.filter(plan=plan).exclude(pk__in=targeted).order_by(
            "name", "pk"):
        value = IndicatorValue.objects.filter(indicator_id=indicator.pk, period=str(year),
                                              code=division.code).values_list(
            "value", flat=True).first()
        out.append(TargetLine(_("%(indicator)s in %(year)s: %(value)s.") % {
            "indicator": indicator.name, "year": year, "value": _number(
                round(value, indicator.decimals) if value is not None else None,
                indicator.unit)}, ""))
    return out


def task_counts_line(*, plan: Plan) -> str:
    from django.db.models import Count

    from shidian.plans.models import TaskStatus

    counts = dict(plan.tasks.values_list("status").annotate(n=Count("id")))
    return _("The plan's %(n)s tasks: %(done)s completed, %(doing)s in progress, %(todo)s not "
             "started.") % {"n": sum(counts.values()),
                            "done": counts.get(TaskStatus.COMPLETED, 0),
                            "doing": counts.get(TaskStatus.IN_PROGRESS, 0),
                            "todo": counts.get(TaskStatus.NOT_STARTED, 0)}


def problem_lines(*, plan: Plan, division: Division, year: int, today: dt.date,
                  targets: list[TargetLine]) -> list[str]:
    """What is wrong as of the report's day: the plan's overdue tasks, rectifications of
    units in ``division`` not closed (销号), and targets missed or off track."""
    from shidian.indicators.selectors import Standing
    from shidian.oversight.models import Rectification, RectificationStatus
    from shidian.plans.models import TaskStatus

    day = report_day(year, today)
    out = []
    overdue = (plan.tasks.filter(deadline__lt=day)
               .exclude(status__in=(TaskStatus.COMPLETED, TaskStatus.SUSPENDED))
               .order_by("deadline", "order"))
    for task in overdue[:MAX_LISTED]:
        out.append(_("Overdue task: %(task)s (due %(deadline)s, %(percent)s%% done).") % {
            "task": task.title, "deadline": task.deadline.isoformat(),
            "percent": task.percent})
    if overdue.count() > MAX_LISTED:
        out.append(_("… and %(n)s more overdue tasks.") % {"n": overdue.count() - MAX_LISTED})
    open_fixes = (Rectification.objects.filter(finding__visit__round__plan=plan)
                  .filter(case_access.prefix_q("owner__division", division.code))
                  .exclude(status=RectificationStatus.CLOSED).select_related("owner")
                  .order_by("deadline", "pk"))
    for fix in open_fixes[:MAX_LISTED]:
        out.append(_("Rectification not closed: %(owner)s, %(measures)s (due %(deadline)s%(late)s)."
                     ) % {"owner": fix.owner.name, "measures": fix.measures[:60],
                          "deadline": fix.deadline.isoformat(),
                          "late": _(", overdue") if fix.deadline < day else ""})
    for line in targets:
        if line.standing in (Standing.MISSED, Standing.OFF_TRACK):
            out.append(_("Target not reached: %(line)s") % {"line": line.text})
    return out or [_("No overdue task, open rectification or missed target.")]


def plan_parts(*, programme: CaseProgramme, division: Division, year: int,
               today: dt.date) -> dict[str, list[str]]:
    """The report's parts computed from the plan: ``targets`` and ``problems`` (none when the
    programme has no plan or the plan is another area's)."""
    plan = case_programme_plan(programme=programme)
    # Another county's plan is not this division's to report on.
    if plan is None or not (plan.division_id is None or division.code.startswith(
            plan.division_id) or plan.division_id.startswith(division.code)):
        return {}
    targets = target_lines(plan=plan, division=division, year=year, today=today)
    return {
        "targets": [task_counts_line(plan=plan), *(t.text for t in targets)],
        "problems": problem_lines(plan=plan, division=division, year=year, today=today,
                                  targets=targets),
    }


def selfcheck_texts(*, programme: CaseProgramme, division: Division, year: int
                    ) -> dict[str, str]:
    return dict(SelfCheckText.objects.filter(programme=programme, division=division, year=year)
                .values_list("part", "text"))


def may_write(user: User, programme: CaseProgramme, division_code: str) -> bool:
    """Who records the programme's funds writes its report (the pilot school, the office)."""
    definition = funds.funds_def(case_type_get(programme.case_type))
    return bool(definition is not None and division_code
                and case_access.may_act(user, definition.by, division_code))


@audited
def selfcheck_text_save(*, user: User, programme: CaseProgramme, division_code: str, year: int,
                        texts: dict[str, str]) -> list[SelfCheckText]:
    """Save the written parts of the year's report at the user's division, all or nothing;
    an unchanged part is left alone (no audit entry)."""
    if not may_write(user, programme, division_code):
        raise ShidianError(ErrorCode.FORBIDDEN, str(MSG_FORBIDDEN), {"reason": "forbidden"})
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        raise ShidianError(ErrorCode.INVALID, str(MSG_YEAR), {"field": "year"})
    definition = funds.report_def(case_type_get(programme.case_type))
    written = {p.key: p for p in definition.parts if not p.generated} if definition else {}
    parts = {p.key: p for p in definition.parts} if definition else {}
    cleaned = {}
    for key, text in texts.items():
        if key not in written:
            raise ShidianError(ErrorCode.INVALID, str(MSG_PART) % {
                "part": parts[key].heading if key in parts else key}, {"field": key})
        text = (text or "").replace("\r\n", "\n").strip()
        if len(text) > MAX_TEXT:
            raise ShidianError(ErrorCode.INVALID, str(MSG_TOO_LONG) % {
                "part": written[key].heading, "max": MAX_TEXT}, {"field": key})
        cleaned[key] = text
    saved = []
    with transaction.atomic():
        # The programme's row is the lock every save of its report takes (FOR NO KEY UPDATE:
        # cases may still be added to it): a second save at once (a double click on the
        # first save) waits, then finds the first one's rows instead of inserting them again.
        list(CaseProgramme.objects.select_for_update(no_key=True).filter(pk=programme.pk)
             .values_list("pk", flat=True))
        division = Division.objects.get(pk=division_code)
        for key, text in cleaned.items():
            row = (SelfCheckText.objects.select_for_update()
                   .filter(programme=programme, division=division, year=year, part=key).first())
            if row is None:
                row = SelfCheckText.objects.create(programme=programme, division=division,
                                                   year=year, part=key, text=text,
                                                   updated_by=user)
            elif row.text != text:
                row.text, row.updated_by = text, user
                row.save(update_fields=["text", "updated_by", "updated_at"])
            saved.append(row)
    return saved


def selfcheck_sections(*, programme: CaseProgramme, division: Division, year: int,
                       today: dt.date, texts: dict[str, str] | None = None
                       ) -> list[funds.ReportSection]:
    """Every part of the report: written parts from ``texts`` over the saved ones."""
    merged = selfcheck_texts(programme=programme, division=division, year=year)
    merged.update({k: v for k, v in (texts or {}).items() if (v or "").strip()})
    return funds.report_sections(programme=programme, division=division.code, year=year,
                                 texts=merged, plan_parts=plan_parts(
                                     programme=programme, division=division, year=year,
                                     today=today))


def selfcheck_docx(*, programme: CaseProgramme, division: Division, year: int, today: dt.date,
                   texts: dict[str, str] | None = None, signature: str = "",
                   dated: dt.date | None = None) -> bytes:
    merged = selfcheck_texts(programme=programme, division=division, year=year)
    merged.update({k: v for k, v in (texts or {}).items() if (v or "").strip()})
    return funds.report_docx(programme=programme, division=division.code, year=year,
                             texts=merged, signature=signature, dated=dated,
                             plan_parts=plan_parts(programme=programme, division=division,
                                                   year=year, today=today))
