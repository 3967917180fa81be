"""Reads of the case engine: lists with filters, the case page, notice boards, archives, and
the progress figures other apps pull (``case_progress``: 开工/竣工/验收 counts and paid amounts
per county and month, for the indicators engine's monthly report and the Excel 进度月报).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from shidian.core import crypto
from shidian.orgs.models import Division, User

from . import access
from .definitions import CaseTypeDef, DocumentKind, case_type_get
from .models import (
    Case,
    CaseDocument,
    CaseEvent,
    CaseProgramme,
    EventKind,
    NoticeStatus,
    Outcome,
    Payment,
    PaymentStatus,
    PublicNotice,
)


def case_list(*, user: User, programme: CaseProgramme | None = None, stage: str = "",
              division: str = "", overdue: bool = False, outcome: str | None = None,
              query: str = "", today: dt.date | None = None) -> QuerySet[Case]:
    """The cases this user may see, filtered; a query that is an ID number is searched by its
    keyed hash (heads and members), anything else by the head's name (or, for names kept
    encrypted, by the keyed hash of the exact name)."""
    cases = access.cases_visible_to(user=user)
    filters = Q()
    if programme is not None:
        filters &= Q(programme=programme)
    if stage:
        filters &= Q(stage=stage)
    if division:
        filters &= access.prefix_q("division", division)
    if overdue:
        filters &= Q(due_on__lt=today or timezone.localdate(), outcome=Outcome.OPEN)
    if outcome is not None:
        filters &= Q(outcome=outcome)
    query = (query or "").strip()
    if query:
        number = crypto.normalize_id_number(query)
        if len(number) == 18 and number[:17].isdigit():
            filters &= Q(persons__id_hash=crypto.search_hash(number))
        else:
            # A name kept in the envelope (a patient) is found by the exact name's hash.
            filters &= (Q(subject_name__contains=query)
                        | Q(subject_name_hash=crypto.name_hash(query)))
    return (cases.filter(filters).select_related("programme", "division").distinct()
            .order_by("-id"))


def stage_counts(*, user: User, programme: CaseProgramme) -> dict[str, int]:
    rows = (access.cases_visible_to(user=user).filter(programme=programme)
            .values("stage").annotate(n=Count("id")))
    return {row["stage"]: row["n"] for row in rows}


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str
    actor: str
    text: str
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def case_timeline(*, case: Case, case_type: CaseTypeDef) -> list[CaseEvent]:
    events = list(case.events.select_related("actor").order_by("at", "id"))
    labels = {s.key: str(s.label) for s in case_type.stages}
    transitions = {t.key: str(t.label) for t in case_type.transitions}
    documents = {d.key: str(d.label) for d in case_type.documents}
    for event in events:
        kind = (event.data or {}).get("kind", "")
        event.document_label = documents.get(kind, "")  # type: ignore[attr-defined]
        source = labels.get(event.from_stage, event.from_stage)
        event.from_label = source  # type: ignore[attr-defined]
        event.to_label = labels.get(event.to_stage, event.to_stage)  # type: ignore[attr-defined]
        event.action_label = transitions.get(event.transition, "")  # type: ignore[attr-defined]
    return events


@dataclass
class ArchiveItem:
    kind: DocumentKind
    documents: list[CaseDocument]

    @property
    def complete(self) -> bool:
        return bool(self.documents)


@dataclass
class Archive:
    """一户一档: every paper the pack's archive lists, in order, with what is still missing."""

    case: Case
    items: list[ArchiveItem]
    notices: list[PublicNotice]

    @property
    def missing(self) -> list[DocumentKind]:
        return [item.kind for item in self.items if not item.complete]

    @property
    def complete(self) -> bool:
        return not self.missing


def case_archive(*, case: Case, case_type: CaseTypeDef) -> Archive:
    documents: dict[str, list[CaseDocument]] = defaultdict(list)
    for document in case.documents.order_by("uploaded_at", "id"):
        documents[document.kind].append(document)
    items = [ArchiveItem(case_type.document(kind), documents.get(kind, []))
             for kind in case_type.archive]
    notices = list(PublicNotice.objects.filter(entries__case=case).order_by("starts_on"))
    return Archive(case=case, items=items, notices=notices)


def archives_incomplete(*, user: User, programme: CaseProgramme) -> list[tuple[Case, int]]:
    """Completed cases whose archive misses papers, with how many are missing."""
    case_type = case_type_get(programme.case_type)
    wanted = set(case_type.archive)
    cases = list(access.cases_visible_to(user=user).filter(
        programme=programme, outcome=Outcome.COMPLETED).select_related("programme"))
    have: dict[int, set[str]] = defaultdict(set)
    for case_id, kind in CaseDocument.objects.filter(case__in=cases).values_list("case_id",
                                                                                 "kind"):
        have[case_id].add(kind)
    out = [(case, len(wanted - have[case.pk])) for case in cases]
    return [(case, n) for case, n in out if n]


def notice_board(*, user: User, division: str, today: dt.date | None = None
                 ) -> list[PublicNotice]:
    """The notices posted in one village (or under a township), newest first, with entries."""
    today = today or timezone.localdate()
    notices = (access.notices_visible_to(user=user)
               .filter(access.prefix_q("division", division), status=NoticeStatus.RUNNING)
               .select_related("division", "programme").order_by("-starts_on", "-id"))
    out = list(notices)
    for notice in out:
        notice.entry_cases = list(  # type: ignore[attr-defined]
            Case.objects.filter(notice_entries__notice=notice).order_by("id"))
        notice.running = notice.starts_on <= today <= notice.last_day  # type: ignore[attr-defined]
    return out


def programme_list(*, user: User) -> QuerySet[CaseProgramme]:
    return access.programmes_visible_to(user=user).select_related("division").order_by(
        "-year", "name")


# --- progress for the rest of the platform ----------------------------------------------------

MILESTONES = ("approved", "started", "finished", "accepted", "paid")


@dataclass
class Progress:
    division: str
    name: str
    registered: int = 0
    approved: int = 0  # reached the stage after county approval
    started: int = 0  # 开工
    finished: int = 0  # 竣工
    accepted: int = 0  # 验收合格
    completed: int = 0  # 补助拨付完毕，归档
    paid_amount: Decimal = Decimal(0)  # 拨付
    entitled_amount: Decimal = Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


def case_progress(*, programme: CaseProgramme, level: int = 3, division: str = "",
                  as_of: dt.date | None = None) -> list[Progress]:
    """Counts per division at ``level`` (3 = county): cases registered, and those that had
    reached each milestone (开工 ``started``, 竣工 ``finished``, 验收 ``accepted``, 拨付) by the
    end of ``as_of`` (default today), with amounts entitled and paid. Milestones are read from
    the timeline (the first time a case entered the milestone's stage), so a month's report
    stays the same when asked again later. One query per figure, grouped by code prefix.

    Not scoped to a user: callers (the indicators engine, the county report) pass the division
    they are allowed to see. This is the selector other apps pull; see README of the housing
    pack for the figures' meaning."""
    case_type = case_type_get(programme.case_type)
    width = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}[level]
    as_of = as_of or timezone.localdate()
    end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
    cases = Case.objects.filter(programme=programme, created_at__lt=end)
    if division:
        cases = cases.filter(access.prefix_q("division", division))
    prefix = Substr("division_id", 1, width)
    rows: dict[str, Progress] = {}

    def row(code: str) -> Progress:
        if code not in rows:
            rows[code] = Progress(division=code, name="")
        return rows[code]

    for item in cases.exclude(outcome=Outcome.MERGED).annotate(p=prefix).values("p").annotate(
            n=Count("id")):
        row(item["p"]).registered = item["n"]
    stage_of = {m: case_type.milestone_stage(m) for m in ("started", "finished", "accepted",
                                                          "paid")}
    approve_targets = {t.target for t in case_type.transitions if t.fix_entitlement}
    stage_of["approved"] = next(iter(approve_targets), None)
    for milestone, stage in stage_of.items():
        if not stage:
            continue
        events = (CaseEvent.objects.filter(case__in=cases, kind=EventKind.TRANSITION,
                                           to_stage=stage, at__lt=end)
                  .annotate(p=Substr("case__division_id", 1, width))
                  .values("p").annotate(n=Count("case_id", distinct=True)))
        for item in events:
            setattr(row(item["p"]), "completed" if milestone == "paid" else milestone,
                    item["n"])
    paid = (Payment.objects.filter(case__in=cases, status=PaymentStatus.PAID, paid_on__lte=as_of)
            .annotate(p=Substr("case__division_id", 1, width)).values("p")
            .annotate(total=Sum("amount")))
    for item in paid:
        row(item["p"]).paid_amount = item["total"] or Decimal(0)
    entitled = (cases.exclude(entitlement=None).annotate(p=prefix).values("p")
                .annotate(total=Sum("entitlement")))
    for item in entitled:
        row(item["p"]).entitled_amount = item["total"] or Decimal(0)
    names = dict(Division.objects.filter(code__in=rows).values_list("code", "name"))
    for code, progress in rows.items():
        progress.name = names.get(code, code)
    return [rows[code] for code in sorted(rows)]
