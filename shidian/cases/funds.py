"""A programme's funds (received and spent, by category) and its annual report (自检报告).

``funds:`` names the categories money is received and spent under and who records it.
``report:`` names the parts of the annual self-inspection report in order, each either written
by the user (``text``) or generated from the data: ``overall`` (the cases by stage and the
year's attendance), ``results`` (agreements signed, cases by outcome, assessments passed, the
parties and their load), ``funds`` (the funds table), and ``targets`` and ``problems``, which
come from the programme's plan (its targets, overdue tasks, open rectifications) and are
computed by the caller (``shidian.catalogue.selfcheck``, which knows the plan) and passed in as
``plan_parts``. A written part may name a generated one as its ``prompts`` (seed 04's 改进措施
answer its 存在主要问题). Seed 04's 自检报告 has 总体情况, 目标和任务完成情况, 主要建设成效,
资金到位和执行情况, 存在主要问题, 改进措施和计划; ``report_docx`` builds it as a Word document in
公文 layout.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode
from shidian.orgs.models import Division, User

from . import access
from .audit import audited
from .definitions import E_SHAPE, Actor, CaseTypeDef, Label, case_type_get
from .models import Case, CaseProgramme, Outcome
from .relation_models import Agreement, Assessment, Attendance, CaseParty, FundDirection, FundEntry
from .relations import (
    REASON_FORBIDDEN,
    REASON_INVALID,
    error,
    label_of,
    labels,
    read_actor,
    read_mapping,
)

GENERATED = frozenset({"overall", "results", "funds", "targets", "problems"})
# Generated from the programme's plan, not from the cases: computed by the caller.
PLAN_PARTS = frozenset({"targets", "problems"})
DOUBLE_SUBMIT_SECONDS = 60
_CN = "一二三四五六七八九十"


@dataclass(frozen=True)
class FundsDef:
    categories: Mapping[str, Label]
    by: Actor | None


@dataclass(frozen=True)
class ReportPart:
    key: str
    heading: Label
    generated: str = ""  # one of GENERATED; empty: written by the user
    help: Label | None = None
    prompts: str = ""  # a written part: the generated part shown as prompts while writing


@dataclass(frozen=True)
class ReportDef:
    title: Label  # "{year}" is replaced by the year
    parts: tuple[ReportPart, ...]


def load_funds(loader: Any, where: str, raw: Any, context: Mapping[str, Any]) -> FundsDef:
    raw = read_mapping(loader, where, raw)
    categories = labels(loader, f"{where}.categories", raw.get("categories") or {})
    if not categories:
        loader.problem(E_SHAPE, where, "funds name their categories")
    return FundsDef(categories=categories, by=read_actor(loader, f"{where}.by", raw.get("by")))


def load_report(loader: Any, where: str, raw: Any, context: Mapping[str, Any]) -> ReportDef:
    raw = read_mapping(loader, where, raw)
    parts = []
    for i, item in enumerate(raw.get("parts") or []):
        here = f"{where}.parts[{i}]"
        item = read_mapping(loader, here, item)
        generated = str(item.get("generated") or "")
        if generated and generated not in GENERATED:
            loader.problem(E_SHAPE, here, f"unknown generated part {generated!r}")
        if generated == "funds" and "funds" not in context["sections"]:
            loader.problem(E_SHAPE, here, "a funds part needs the funds section")
        prompts = str(item.get("prompts") or "")
        if prompts and (generated or prompts not in GENERATED):
            loader.problem(E_SHAPE, here, f"prompts {prompts!r}: a written part names a "
                           "generated kind")
        parts.append(ReportPart(key=str(item.get("key") or i),
                                heading=label_of(item.get("heading"), str(i)),
                                generated=generated,
                                help=label_of(item["help"], "") if item.get("help") else None,
                                prompts=prompts))
    if not parts:
        loader.problem(E_SHAPE, where, "a report has parts")
    return ReportDef(title=label_of(raw.get("title"), "{year}"), parts=tuple(parts))


def funds_def(case_type: CaseTypeDef) -> FundsDef | None:
    return case_type.sections.get("funds")


def report_def(case_type: CaseTypeDef) -> ReportDef | None:
    return case_type.sections.get("report")


@audited
def fund_record(*, user: User, programme: CaseProgramme, division_code: str, direction: str,
                category: str, amount: Any, on: dt.date, note: str = "") -> FundEntry:
    """Money received or spent by the programme in a division."""
    definition = funds_def(case_type_get(programme.case_type))
    if definition is None or not access.may_act(user, definition.by, division_code):
        raise error(ErrorCode.FORBIDDEN, REASON_FORBIDDEN,
                    _("You may not record funds of this programme here."))
    if not Division.objects.filter(pk=division_code).exists():
        raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown division code."))
    if direction not in FundDirection.values:
        raise error(ErrorCode.INVALID, REASON_INVALID, _("Funds are received or spent."),
                    field="direction")
    if category not in definition.categories:
        raise error(ErrorCode.INVALID, REASON_INVALID, _("Unknown category of funds."),
                    field="category")
    try:
        value = Decimal(str(amount).replace(",", "").strip())
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0 or value >= Decimal("1e10"):
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("The amount must be a positive number of yuan."), field="amount")
    amount = value.quantize(Decimal("0.01"))
    note = (note or "")[:200]
    with transaction.atomic():
        # A double submit (the same entry by the same user within a minute) is one entry.
        CaseProgramme.objects.select_for_update().filter(pk=programme.pk).first()
        recent = FundEntry.objects.filter(
            programme=programme, division_id=division_code, direction=direction,
            category=category, amount=amount, on=on, note=note, recorded_by=user,
            recorded_at__gte=timezone.now() - dt.timedelta(seconds=DOUBLE_SUBMIT_SECONDS)).first()
        if recent is not None:
            return recent
        return FundEntry.objects.create(programme=programme, division_id=division_code,
                                        direction=direction, category=category,
                                        amount=amount, on=on, note=note, recorded_by=user)


def funds_visible_to(*, user: User, programme: CaseProgramme) -> QuerySet[FundEntry]:
    entries = FundEntry.objects.filter(programme=programme)
    if access._nationwide(user):
        return entries
    if not user.is_active or user.role not in access.CASE_ROLES or not user.division_id:
        return entries.none()
    return entries.filter(access.prefix_q("division", user.division_id))


@dataclass
class FundLine:
    category: str
    label: str
    received: Decimal
    spent: Decimal


def funds_table(*, programme: CaseProgramme, division: str, year: int) -> list[FundLine]:
    """Received and spent per category in the year, inside ``division`` (not scoped)."""
    definition = funds_def(case_type_get(programme.case_type))
    if definition is None:
        return []
    rows = (FundEntry.objects.filter(access.prefix_q("division", division), programme=programme,
                                     on__year=year)
            .values("category")
            .annotate(received=Sum("amount", filter=Q(direction=FundDirection.RECEIVED)),
                      spent=Sum("amount", filter=Q(direction=FundDirection.SPENT))))
    sums = {r["category"]: r for r in rows}
    return [FundLine(key, str(label), sums.get(key, {}).get("received") or Decimal(0),
                     sums.get(key, {}).get("spent") or Decimal(0))
            for key, label in definition.categories.items()]


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


def _report_cases(programme: CaseProgramme, division: str) -> QuerySet[Case]:
    return Case.objects.filter(access.prefix_q("division", division),
                               programme=programme).exclude(outcome=Outcome.MERGED)


def overall_paragraphs(*, programme: CaseProgramme, division: str, year: int) -> list[str]:
    """What the data say of the year: cases by stage, schedules with attendance."""
    from . import schedules

    case_type = case_type_get(programme.case_type)
    cases = _report_cases(programme, division)
    total = cases.count()
    by_stage = dict(cases.values_list("stage").annotate(n=Count("id")))
    stages = "，".join(f"{s.label}{by_stage[s.key]}" for s in case_type.stages
                      if by_stage.get(s.key))
    out = [_("%(label)s: %(n)s registered (%(stages)s).") % {
        "label": case_type.label, "n": total, "stages": stages or "—"}]
    definition = schedules.schedule_def(case_type)
    if definition is not None:
        days = Attendance.objects.filter(period__case__in=cases, on__year=year)
        present = days.filter(status="present").count()
        absent = days.filter(status="absent").count()
        if present + absent:
            out.append(_("Attendance in %(year)s: %(rate)s of %(days)s recorded days.") % {
                "year": year, "rate": f"{Decimal(present * 100) / (present + absent):.1f}%",
                "days": days.count()})
    return out


def results_paragraphs(*, programme: CaseProgramme, division: str, year: int) -> list[str]:
    """The results in counts: agreements signed by number of signatories, cases by outcome,
    assessments passed, the parties (mentors) taking part and the cases assigned to them."""
    from . import parties, schedules

    case_type = case_type_get(programme.case_type)
    cases = _report_cases(programme, division)
    out = []
    for key, agreement in parties.agreement_defs(case_type).items():
        signed = Agreement.objects.filter(case__in=cases, kind=key,
                                          signed_on__year__lte=year)
        by_size: dict[int, int] = {}
        for signatories in signed.values_list("signatories", flat=True):
            by_size[len(signatories)] = by_size.get(len(signatories), 0) + 1
        detail = "，".join(_("%(n)s-party: %(count)s") % {"n": n, "count": c}
                          for n, c in sorted(by_size.items()))
        out.append(_("%(agreement)s: %(n)s signed (%(detail)s).") % {
            "agreement": agreement.label, "n": sum(by_size.values()), "detail": detail or "—"})
    by_outcome = dict(cases.values_list("outcome").annotate(n=Count("id")))
    out.append(_("In progress %(open)s, completed %(completed)s, dropped out or stopped "
                 "%(left)s.") % {
        "open": by_outcome.get(Outcome.OPEN, 0), "completed": by_outcome.get(Outcome.COMPLETED, 0),
        "left": by_outcome.get(Outcome.WITHDRAWN, 0) + by_outcome.get(Outcome.REJECTED, 0)})
    for key, assessment in schedules.assessment_defs(case_type).items():
        scored = Assessment.objects.filter(case__in=cases, kind=key, assessed_on__year=year)
        complete = passed = 0
        for case in cases.filter(pk__in=scored.values("case_id")):
            result = next(r for r in schedules.assessment_results(case_type, case)
                          if r.definition.key == key)
            complete += not result.missing
            passed += result.passed
        out.append(_("%(assessment)s: %(n)s assessed by every assessor, %(passed)s passed.")
                   % {"assessment": assessment.label, "n": complete, "passed": passed})
    roles = parties.party_roles(case_type)
    if roles:
        links = dict((row["role"], row) for row in
                     CaseParty.objects.filter(case__in=cases, ended_at__isnull=True)
                     .values("role").annotate(parties=Count("party", distinct=True),
                                              n=Count("id")))
        for key, role in roles.items():
            row = links.get(key) or {"parties": 0, "n": 0}
            out.append(_("%(role)s: %(parties)s taking part, %(n)s cases assigned.") % {
                "role": role.label, "parties": row["parties"], "n": row["n"]})
    return out


@dataclass
class ReportSection:
    part: ReportPart
    heading: str  # numbered: 一、总体情况
    paragraphs: list[str]
    table: Any = None  # shidian.exports.notices.Table for the funds part
    prompts: list[str] | None = None  # a written part: the generated lines it answers


def report_sections(*, programme: CaseProgramme, division: str, year: int,
                    texts: Mapping[str, str],
                    plan_parts: Mapping[str, list[str]] | None = None) -> list[ReportSection]:
    """Every part of the report in order: generated parts from the data (``plan_parts`` for
    the parts computed from the plan), written parts from ``texts`` (by part key)."""
    from shidian.exports.notices import Table

    definition = report_def(case_type_get(programme.case_type))
    if definition is None:
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("This kind of programme has no annual report."))
    plan_parts = plan_parts or {}
    computed: dict[str, list[str]] = {}

    def lines(kind: str) -> list[str]:
        if kind not in computed:
            if kind == "overall":
                computed[kind] = overall_paragraphs(programme=programme, division=division,
                                                    year=year)
            elif kind == "results":
                computed[kind] = results_paragraphs(programme=programme, division=division,
                                                    year=year)
            else:
                computed[kind] = list(plan_parts.get(kind) or [
                    _("No plan is linked to this programme.")])
        return computed[kind]

    sections = []
    for i, part in enumerate(definition.parts):
        heading = f"{_CN[i]}、{part.heading}"
        table = None
        if part.generated == "funds":
            rows = funds_table(programme=programme, division=division, year=year)
            received = sum((line.received for line in rows), Decimal(0))
            spent = sum((line.spent for line in rows), Decimal(0))
            paragraphs = [_("Received %(received)s yuan, spent %(spent)s yuan, %(left)s yuan "
                            "left.") % {"received": _yuan(received), "spent": _yuan(spent),
                                        "left": _yuan(received - spent)}]
            table = Table(after=heading, header=[
                _("Category"), _("Received (yuan)"), _("Spent (yuan)")], rows=[
                [line.label, _yuan(line.received), _yuan(line.spent)] for line in rows] + [
                [_("Total"), _yuan(received), _yuan(spent)]], widths=[3, 2, 2])
        elif part.generated:
            paragraphs = lines(part.generated)
        else:
            text = (texts.get(part.key) or "").strip()
            paragraphs = [p.strip() for p in text.splitlines() if p.strip()] or ["—"]
        sections.append(ReportSection(part=part, heading=heading, paragraphs=paragraphs,
                                      table=table,
                                      prompts=lines(part.prompts) if part.prompts else None))
    return sections


def report_docx(*, programme: CaseProgramme, division: str, year: int,
                texts: Mapping[str, str], signature: str = "", dated: dt.date | None = None,
                plan_parts: Mapping[str, list[str]] | None = None) -> bytes:
    """The annual report as a Word document (``report_sections`` in 公文 layout)."""
    from shidian.exports.docx import OfficialDocument, Section
    from shidian.exports.notices import official_notice_docx

    definition = report_def(case_type_get(programme.case_type))
    sections = report_sections(programme=programme, division=division, year=year, texts=texts,
                               plan_parts=plan_parts)
    assert definition is not None  # report_sections raised otherwise
    title = str(definition.title).replace("{year}", str(year))
    document = OfficialDocument(title=title, sections=[
        Section(heading=s.heading, paragraphs=s.paragraphs) for s in sections],
        signature=signature, dated=dated)
    return official_notice_docx(document, tables=[s.table for s in sections if s.table])
