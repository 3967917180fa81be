"""Reads of the selection app: checklists, boards, quota use, an expert's queue, task books."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from shidian.orgs.models import User

from . import eligibility
from .models import (Application, ApplicationStatus, Call, Condition, ConditionAnswer,
                     ConditionKind, PilotSite, Quota, ReviewAssignment, ReviewStatus)


@dataclass
class CheckRow:
    condition: Condition
    answer: ConditionAnswer | None
    verdict: eligibility.Verdict


def application_checklist(*, application: Application) -> list[CheckRow]:
    """Each condition that applies to the application, with its answer and verdict."""
    from .services import conditions_of

    answers = {a.condition_id: a for a in application.answers.all()}
    rows = []
    for condition in conditions_of(application):
        answer = answers.get(condition.pk)
        if condition.kind == ConditionKind.COMPUTED:
            verdict = eligibility.judge_computed(
                condition_id=condition.pk, rule=condition.rule, field_name=condition.field_name,
                value=answer.value if answer else None)
        else:
            verdict = eligibility.judge_declared(
                condition_id=condition.pk, declared=bool(answer and answer.declared),
                needs_document=condition.needs_document,
                has_document=bool(answer and answer.document_id))
        rows.append(CheckRow(condition, answer, verdict))
    return rows


@dataclass
class QuotaRow:
    quota: Quota
    approved: int
    forwarded: int

    @property
    def left(self) -> int:
        return self.quota.amount - self.approved


def quota_rows(*, call: Call) -> list[QuotaRow]:
    """Every quota of the call with the places taken (approved) and applications waiting."""
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for row in (Application.objects.filter(call=call)
                .values("category_id", "region", "status").annotate(n=Count("pk"))):
        counts[(row["category_id"], row["region"])][row["status"]] = row["n"]
    rows = []
    for quota in call.quotas.select_related("category", "province").order_by(
            "category__order", "pk"):
        n = counts.get((quota.category_id, quota.region), {})
        rows.append(QuotaRow(quota, n.get(ApplicationStatus.APPROVED, 0),
                             n.get(ApplicationStatus.FORWARDED, 0)))
    return rows


@dataclass
class CategoryQuotas:
    category_id: int
    label: str
    total: int
    approved: int
    rows: list[QuotaRow] = field(default_factory=list)


def quotas_by_category(*, call: Call) -> list[CategoryQuotas]:
    groups: dict[int, CategoryQuotas] = {}
    for row in quota_rows(call=call):
        category = row.quota.category
        group = groups.setdefault(category.pk, CategoryQuotas(category.pk, str(category), 0, 0))
        group.total += row.quota.amount
        group.approved += row.approved
        group.rows.append(row)
    return list(groups.values())


def board(*, call: Call, applications: QuerySet[Application]) -> list[Application]:
    """The office's board: forwarded and decided applications by category and rank."""
    return list(applications.filter(call=call)
                .select_related("agency", "agency__division", "category", "province", "site")
                .annotate(scored=Count("reviews", filter=Q(reviews__status=ReviewStatus.SCORED)),
                          assigned=Count("reviews"))
                .order_by("category__order", "rank", "-score", "pk"))


def province_queue(*, user: User) -> list[Application]:
    """Applications of the provincial office's province, waiting ones first."""
    order = {ApplicationStatus.SUBMITTED: 0, ApplicationStatus.RETURNED: 1}
    rows = list(Application.objects.filter(province_id=user.division_id)
                .exclude(status=ApplicationStatus.DRAFT)
                .select_related("call", "agency", "category").order_by("-submitted_at"))
    rows.sort(key=lambda a: order.get(a.status, 2))
    return rows


def expert_queue(*, user: User) -> list[ReviewAssignment]:
    return list(ReviewAssignment.objects.filter(expert=user)
                .select_related("application", "application__agency", "application__call",
                                "application__category")
                .order_by("status", "application__call_id", "application_id"))


def review_sheet(*, review: ReviewAssignment) -> list[tuple[object, Decimal | None]]:
    items = list(review.application.call.score_items.order_by("order", "pk"))
    given = {s.item_id: s.value for s in review.scores.all()}
    return [(item, given.get(item.pk)) for item in items]


def sites_of(*, sites: QuerySet[PilotSite]) -> list[PilotSite]:
    return list(sites.select_related("agency", "agency__division", "call", "plan",
                                     "application__category").order_by("call_id", "number"))
