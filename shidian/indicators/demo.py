"""Demo figures for a psychological-services plan (seed 11, 和林格尔县): counselling rooms
built in each township month by month, the 建成率 indicator and the plan's 80% target, so the
indicator, completeness and attainment pages have something to show.

Everything goes through the indicators services; running it twice adds nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.utils import timezone

from shidian.core.periods import PeriodKind, period_containing
from shidian.orgs.models import Division, User
from shidian.plans.models import Plan

from . import services
from .models import (Aggregation, DataElement, DataSet, Indicator, PeriodType, Target,
                     TargetStatus, ValueType)

PLAN_SOURCE = "11-helinger-psych"
MONTHS = 6


def indicators_demo_load(*, actor: User, log: Callable[[str], None] = print) -> str:
    """Load the demo figures for the seed-11 plan; returns what was done, in a line."""
    plan = Plan.objects.filter(source_name__startswith=PLAN_SOURCE).select_related(
        "division").first()
    if plan is None or plan.division is None:
        return "no seed-11 plan: load the demo plans first"
    county = plan.division
    townships = list(Division.objects.filter(parent=county).order_by("code"))
    if not townships:
        return f"{county.name} has no townships loaded"
    if DataSet.objects.filter(plan=plan).exists():
        return "already loaded"
    with transaction.atomic():
        rooms = DataElement.objects.filter(code="psy_rooms").first() or \
            services.data_element_create(
                user=actor, code="psy_rooms", name="已建成心理咨询室或社会工作室的村（社区）数",
                value_type=ValueType.INTEGER, aggregation=Aggregation.LAST, unit="个")
        villages = DataElement.objects.filter(code="psy_villages").first() or \
            services.data_element_create(
                user=actor, code="psy_villages", name="村（社区）总数",
                value_type=ValueType.INTEGER, aggregation=Aggregation.LAST, unit="个")
        data_set = services.data_set_create(
            user=actor, name="心理咨询室建设进度月报", period_type=PeriodType.MONTH,
            elements=[rooms, villages], division=county, level=4, due_days=5,
            expiry_days=60, plan=plan)
        services.validation_rule_create(
            user=actor, data_set=data_set, left="#{psy_rooms}", operator="<=",
            right="#{psy_villages}", message="建成数不能超过村（社区）总数")
        indicator = Indicator.objects.filter(numerator="#{psy_rooms}").first() or \
            services.indicator_create(
                user=actor, name="村（社区）心理咨询室建成率", numerator="#{psy_rooms}",
                denominator="#{psy_villages}", factor=100, decimals=1, unit="%", plan=plan)
        today = timezone.localdate()
        last = period_containing(today, PeriodKind.MONTH).previous()
        months = [last]
        for _step in range(MONTHS - 1):
            months.insert(0, months[0].previous())
        for number, township in enumerate(townships):
            total = Division.objects.filter(parent=township).count() or 10
            pace = 0.04 + 0.03 * (number % 4)          # townships build at different speeds
            for step, month in enumerate(months):
                if number % 5 == 4 and step == len(months) - 1:
                    continue                             # one township in five is late
                built = min(total, round(total * (0.3 + pace * step)))
                services.values_save(user=actor, data_set=data_set, division=township,
                                     period=month.id, today=min(today, month.end),
                                     values={"psy_rooms": str(built),
                                             "psy_villages": str(total)})
        services.targets_from_plan(user=actor, plan=plan)
        Target.objects.get_or_create(
            indicator=indicator, plan=plan, division=county, level=4,
            source_key="demo:rooms", defaults={
                "value": 80, "comparator": ">=", "status": TargetStatus.CONFIRMED,
                "deadline": date(today.year, 12, 31), "start": months[0].start,
                "source_text": "以村(社区)为单位,心理咨询室或社会工作室建成率达80%以上",
                "created_by": actor})
    log(f"indicators demo: {len(townships)} townships of {county.name}, {MONTHS} months")
    return f"loaded {len(townships)} townships × {MONTHS} months for {plan.title}"
