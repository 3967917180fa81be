"""A programme's funds (received and spent, by category) and its annual report (自检报告).

``funds:`` names the categories money is received and spent under and who records it.
``report:`` names the parts of the annual self-inspection report in order, each either written
by the user (``text``) or generated from the data (``generated: overall`` — the cases, their
parties, agreements, schedules and assessments; ``generated: funds`` — the funds table). Seed
04's 自检报告 has 总体情况, 目标和任务完成情况, 主要建设成效, 资金到位和执行情况, 存在主要问题,
改进措施和计划; ``report_docx`` builds it as a Word document in 公文 layout.
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

GENERATED = frozenset({"overall", "funds"})
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
    generated: str = ""  # overall | funds; empty: written by the user
    help: Label | None = None


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
        parts.append(ReportPart(key=str(item.get("key") or i),
                                heading=label_of(item.get("heading"), str(i)),
                                generated=generated,
                                help=label_of(item["help"], "") if item.get("help") else None))
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


def overall_paragraphs(*, programme: CaseProgramme, division: str, year: int) -> list[str]:
    """What the data say of the year: cases by stage, parties and their load, agreements by
    number of signatories, schedules with attendance, assessments passed."""
    from . import parties, schedules

    case_type = case_type_get(programme.case_type)
    cases = Case.objects.filter(access.prefix_q("division", division),
                                programme=programme).exclude(outcome=Outcome.MERGED)
    total = cases.count()
    by_stage = dict(cases.values_list("stage").annotate(n=Count("id")))
    stages = "，".join(f"{s.label}{by_stage[s.key]}" for s in case_type.stages
                      if by_stage.get(s.key))
    out = [_("%(label)s: %(n)s registered (%(stages)s).") % {
        "label": case_type.label, "n": total, "stages": stages or "—"}]
    roles = parties.party_roles(case_type)
    if roles:
        links = (CaseParty.objects.filter(case__in=cases, ended_at__isnull=True)
                 .values("role").annotate(parties=Count("party", distinct=True), n=Count("id")))
        for row in links:
            if row["role"] in roles:
                out.append(_("%(role)s: %(parties)s taking part, %(n)s cases assigned.") % {
                    "role": roles[row["role"]].label, "parties": row["parties"], "n": row["n"]})
    for key, agreement in parties.agreement_defs(case_type).items():
        signed = Agreement.objects.filter(case__in=cases, kind=key,
                                          signed_on__year__lte=year)
        by_size: dict[int, int] = {}
        for signatories in signed.values_list("signatories", flat=True):
            by_size[len(signatories)] = by_size.get(len(signatories), 0) + 1
        if by_size:
            detail = "，".join(_("%(n)s-party: %(count)s") % {"n": n, "count": c}
                              for n, c in sorted(by_size.items()))
            out.append(_("%(agreement)s: %(n)s signed (%(detail)s).") % {
                "agreement": agreement.label, "n": sum(by_size.values()), "detail": detail})
    definition = schedules.schedule_def(case_type)
    if definition is not None:
        days = Attendance.objects.filter(period__case__in=cases, on__year=year)
        present = days.filter(status="present").count()
        absent = days.filter(status="absent").count()
        if present + absent:
            out.append(_("Attendance in %(year)s: %(rate)s of %(days)s recorded days.") % {
                "year": year, "rate": f"{Decimal(present * 100) / (present + absent):.1f}%",
                "days": days.count()})
    for key, assessment in schedules.assessment_defs(case_type).items():
        scored = Assessment.objects.filter(case__in=cases, kind=key, assessed_on__year=year)
        complete = passed = 0
        for case in cases.filter(pk__in=scored.values("case_id")):
            result = next(r for r in schedules.assessment_results(case_type, case)
                          if r.definition.key == key)
            complete += not result.missing
            passed += result.passed
        if complete:
            out.append(_("%(assessment)s: %(n)s assessed by every assessor, %(passed)s passed.")
                       % {"assessment": assessment.label, "n": complete, "passed": passed})
    return out


def report_docx(*, programme: CaseProgramme, division: str, year: int,
                texts: Mapping[str, str], signature: str = "", dated: dt.date | None = None
                ) -> bytes:
    """The annual report as a Word document: generated parts from the data, written parts
    from ``texts`` (by part key; paragraphs split on blank lines or new lines)."""
    from shidian.exports.docx import OfficialDocument, Section
    from shidian.exports.notices import Table, official_notice_docx

    case_type = case_type_get(programme.case_type)
    definition = report_def(case_type)
    if definition is None:
        raise error(ErrorCode.INVALID, REASON_INVALID,
                    _("This kind of programme has no annual report."))
    sections, tables = [], []
    for i, part in enumerate(definition.parts):
        heading = f"{_CN[i]}、{part.heading}"
        if part.generated == "overall":
            paragraphs = overall_paragraphs(programme=programme, division=division, year=year)
        elif part.generated == "funds":
            lines = funds_table(programme=programme, division=division, year=year)
            received = sum((line.received for line in lines), Decimal(0))
            spent = sum((line.spent for line in lines), Decimal(0))
            paragraphs = [_("Received %(received)s yuan, spent %(spent)s yuan, %(left)s yuan "
                            "left.") % {"received": _yuan(received), "spent": _yuan(spent),
                                        "left": _yuan(received - spent)}]
            tables.append(Table(after=heading, header=[
                _("Category"), _("Received (yuan)"), _("Spent (yuan)")], rows=[
                [line.label, _yuan(line.received), _yuan(line.spent)] for line in lines] + [
                [_("Total"), _yuan(received), _yuan(spent)]], widths=[3, 2, 2]))
        else:
            text = (texts.get(part.key) or "").strip()
            paragraphs = [p.strip() for p in text.splitlines() if p.strip()] or ["—"]
        sections.append(Section(heading=heading, paragraphs=paragraphs))
    title = str(definition.title).replace("{year}", str(year))
    document = OfficialDocument(title=title, sections=sections, signature=signature,
                                dated=dated)
    return official_notice_docx(document, tables=tables)
