"""Data elements, data sets, data values, indicators, targets and their precomputed roll-ups.

Values are stored once per (data element, division, period, disaggregation option, agency).
Roll-ups never walk the tree: a division's statistical code is a prefix of its subtree's
codes, so every level is a GROUP BY on a code prefix (``rollup.py``), written into
``AggregateValue`` and ``IndicatorValue`` after entry. Pages read those tables, not raw values.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThan
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Agency, Division
from shidian.plans.models import Plan


class ValueType(models.TextChoices):
    NUMBER = "number", _("Number")
    INTEGER = "integer", _("Whole number")
    PERCENTAGE = "percentage", _("Percentage")
    BOOLEAN = "boolean", _("Yes/no")
    TEXT = "text", _("Text")


class Aggregation(models.TextChoices):
    """How values of one element combine over periods and over divisions."""

    SUM = "sum", _("Sum")
    AVERAGE = "average", _("Average")
    LAST = "last", _("Last value in period")
    MAX = "max", _("Maximum")
    MIN = "min", _("Minimum")


class PeriodType(models.TextChoices):
    """The kinds of ``shidian.core.periods`` (ids 2021, 2021H1, 2021Q3, 2021M06, 2021W23)."""

    YEAR = "Y", _("Yearly")
    HALF = "H", _("Half-yearly")
    QUARTER = "Q", _("Quarterly")
    MONTH = "M", _("Monthly")
    WEEK = "W", _("Weekly")


class Disaggregation(models.Model):
    """A breakdown of an element's values, such as 贫困类型 (建档立卡户 / 低保户 / 其他)."""

    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("disaggregation")
        verbose_name_plural = _("disaggregations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DisaggregationOption(models.Model):
    disaggregation = models.ForeignKey(Disaggregation, on_delete=models.CASCADE,
                                       related_name="options")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=64)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("disaggregation option")
        verbose_name_plural = _("disaggregation options")
        ordering = ["disaggregation_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["disaggregation", "code"],
                                    name="disaggregation_option_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DataElement(models.Model):
    """One figure that is entered (数据项): 已建成心理咨询室的村数, 完成改造户数."""

    code = models.SlugField(_("code"), max_length=48, unique=True,
                            help_text=_("Used in formulas as #{code}"))
    name = models.CharField(_("name"), max_length=128)
    value_type = models.CharField(_("value type"), max_length=16, choices=ValueType.choices,
                                  default=ValueType.NUMBER)
    aggregation = models.CharField(_("aggregation"), max_length=16,
                                   choices=Aggregation.choices, default=Aggregation.SUM)
    disaggregation = models.ForeignKey(Disaggregation, null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="elements",
                                       verbose_name=_("disaggregation"))
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("data element")
        verbose_name_plural = _("data elements")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DataSet(models.Model):
    """A form reported for each period by the divisions at ``level`` under ``division``
    (the whole country when empty) and/or by the ``agencies`` assigned to it.

    A report is on time until ``due_days`` after the period's end; ``expiry_days`` after the
    end, entry locks (empty: never locks).
    """

    name = models.CharField(_("name"), max_length=128)
    period_type = models.CharField(_("period type"), max_length=1, choices=PeriodType.choices,
                                   default=PeriodType.MONTH)
    elements = models.ManyToManyField(DataElement, through="DataSetElement",
                                      related_name="data_sets", verbose_name=_("data elements"))
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="data_sets", verbose_name=_("area"))
    level = models.PositiveSmallIntegerField(_("reporting level"), null=True, blank=True,
                                             help_text=_("Divisions at this level report"))
    agencies = models.ManyToManyField(Agency, blank=True, related_name="data_sets",
                                      verbose_name=_("reporting agencies"))
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="data_sets", verbose_name=_("plan"))
    due_days = models.PositiveSmallIntegerField(_("due days after period end"), default=10)
    expiry_days = models.PositiveSmallIntegerField(_("entry locks days after period end"),
                                                   null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("data set")
        verbose_name_plural = _("data sets")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataSetElement(models.Model):
    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="members")
    element = models.ForeignKey(DataElement, on_delete=models.PROTECT, related_name="members")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["data_set_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["data_set", "element"], name="data_set_element_once"),
        ]

    def __str__(self) -> str:
        return f"{self.data_set_id}:{self.element_id}"


class Severity(models.TextChoices):
    BLOCK = "block", _("Blocks saving")
    WARN = "warn", _("Warning only")


class Comparator(models.TextChoices):
    GE = ">=", "≥"
    GT = ">", ">"
    LE = "<=", "≤"
    LT = "<", "<"
    EQ = "=", "="


class ValidationRule(models.Model):
    """``left operator right`` over one form's values, e.g. ``#{rooms} <= #{villages}``."""

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE,
                                 related_name="validation_rules")
    left = models.CharField(_("left side"), max_length=400)
    operator = models.CharField(_("operator"), max_length=2, choices=Comparator.choices)
    right = models.CharField(_("right side"), max_length=400)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices,
                                default=Severity.BLOCK)
    message = models.CharField(_("message"), max_length=200)

    class Meta:
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")
        ordering = ["data_set_id", "id"]

    def __str__(self) -> str:
        return f"{self.left} {self.operator} {self.right}"


class DataValue(models.Model):
    """One entered figure. ``period_start``/``period_end`` copy the period's dates so a
    coarser period's values are a range filter, whatever the kind they were entered in."""

    element = models.ForeignKey(DataElement, on_delete=models.PROTECT, related_name="values")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="data_values")
    period = models.CharField(_("period"), max_length=8)
    period_start = models.DateField()
    period_end = models.DateField()
    option = models.CharField(_("disaggregation option"), max_length=32, blank=True, default="",
                              db_column="opt")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="data_values")
    value = models.FloatField(_("value"), null=True, blank=True)
    text = models.TextField(_("text value"), blank=True, default="")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data value")
        verbose_name_plural = _("data values")
        constraints = [
            models.UniqueConstraint(fields=["element", "division", "period", "option"],
                                    condition=Q(agency__isnull=True),
                                    name="data_value_once_per_division"),
            models.UniqueConstraint(fields=["element", "division", "period", "option", "agency"],
                                    condition=Q(agency__isnull=False),
                                    name="data_value_once_per_agency"),
        ]
        indexes = [
            # Covers the roll-up's first GROUP BY (element, option, division) in index order,
            # so SQLite streams it without touching the table or sorting.
            models.Index(fields=["element", "option", "division", "period_start",
                                 "period_end", "value"], name="data_value_rollup"),
            models.Index(fields=["division", "period"], name="data_value_form"),
        ]

    def __str__(self) -> str:
        return f"{self.element_id} {self.division_id} {self.period}={self.value}"


class DataValueHistory(models.Model):
    """Who changed a value, when, from what to what (own table: Excel uploads write thousands
    of values in one statement, which per-object audit signals would make slow)."""

    element_id = models.BigIntegerField()
    division_id = models.CharField(max_length=12)
    period = models.CharField(max_length=8)
    option = models.CharField(max_length=32, blank=True, default="", db_column="opt")
    agency_id = models.BigIntegerField(null=True, blank=True)
    old_value = models.FloatField(null=True, blank=True)
    new_value = models.FloatField(null=True, blank=True)
    old_text = models.TextField(blank=True, default="")
    new_text = models.TextField(blank=True, default="")
    source = models.CharField(max_length=16, default="form")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("value change")
        verbose_name_plural = _("value changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["element_id", "division_id", "period"],
                                name="data_value_history_key")]

    def __str__(self) -> str:
        return f"{self.division_id} {self.period}: {self.old_value} → {self.new_value}"


class CompleteReport(models.Model):
    """A data set's form marked complete for one division (or agency) and period."""

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="reports")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    period = models.CharField(_("period"), max_length=8)
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    on_time = models.BooleanField(_("on time"))

    class Meta:
        verbose_name = _("complete report")
        verbose_name_plural = _("complete reports")
        constraints = [
            models.UniqueConstraint(fields=["data_set", "division", "period"],
                                    condition=Q(agency__isnull=True),
                                    name="complete_report_once_per_division"),
            models.UniqueConstraint(fields=["data_set", "agency", "period"],
                                    condition=Q(agency__isnull=False),
                                    name="complete_report_once_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.data_set_id} {self.division_id} {self.period}"


class IndicatorStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Confirmed")


class Indicator(models.Model):
    """``factor × numerator / denominator`` over data elements, rounded to ``decimals``."""

    name = models.CharField(_("name"), max_length=200)
    numerator = models.CharField(_("numerator"), max_length=400, blank=True)
    denominator = models.CharField(_("denominator"), max_length=400, blank=True,
                                   help_text=_("Empty means 1"))
    factor = models.FloatField(_("factor"), default=1)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=1)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    missing_as_zero = models.BooleanField(_("count missing values as zero"), default=False)
    period_type = models.CharField(_("period type"), max_length=1, choices=PeriodType.choices,
                                   default=PeriodType.MONTH)
    status = models.CharField(_("status"), max_length=8, choices=IndicatorStatus.choices,
                              default=IndicatorStatus.ACTIVE)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="indicators", verbose_name=_("plan"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TargetStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting review")
    CONFIRMED = "confirmed", _("Confirmed")
    DISCARDED = "discarded", _("Discarded")


class Target(models.Model):
    """``indicator comparator value`` by ``deadline``, for the area ``division`` (the whole
    country when empty) or, with ``level``, for each division at that level inside it.

    Several targets of one indicator and area with different deadlines form a series
    (50% by 2020-12, 80% by 2021-12). A target with a ``parent`` is its share of an
    allocation down the tree. ``cumulative`` targets add the indicator up from ``start``
    (5万户 renovated); the others compare its latest value (a rate).
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="targets", verbose_name=_("plan"))
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="targets", verbose_name=_("area"))
    level = models.PositiveSmallIntegerField(_("each division at level"), null=True,
                                             blank=True)
    comparator = models.CharField(_("comparator"), max_length=2, choices=Comparator.choices,
                                  default=Comparator.GE)
    value = models.FloatField(_("target value"))
    start = models.DateField(_("counted from"), null=True, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    cumulative = models.BooleanField(_("cumulative"), default=False)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="shares", verbose_name=_("allocated from"))
    # The plan task a milestone belongs to (seed 15c: the fund allocation series of task 8).
    task = models.ForeignKey("plans.Task", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="milestones", verbose_name=_("plan task"))
    status = models.CharField(_("status"), max_length=12, choices=TargetStatus.choices,
                              default=TargetStatus.CONFIRMED)
    source_key = models.CharField(max_length=32, blank=True, default="")
    source_text = models.TextField(_("source text"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["indicator_id", "division_id", "deadline"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "source_key"],
                                    condition=~Q(source_key=""),
                                    name="target_once_per_plan_source"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.comparator} {self.value:g}"


class AggregateValue(models.Model):
    """A data element's roll-up at one division (``code``; ``""`` = the country) and period,
    from the townships up: a village has no children, so its values are read where they were
    entered (``rollup.leaf_select``) rather than copied here.

    ``total``/``n``/``vmin``/``vmax`` combine up the tree for every aggregation rule:
    sum and last read ``total``, average ``total / n``, max ``vmax``, min ``vmin``.

    Keyed (period, code, element, option), code before element (an indicator's pivot groups
    by code in key order), with no ``id``: a rebuild writing 89 k rows maintains two indexes
    (the key and the children's) instead of three and draws no sequence number per row.
    """

    pk = models.CompositePrimaryKey("period", "code", "element_id", "option")
    element_id = models.BigIntegerField()
    option = models.CharField(max_length=32, blank=True, default="", db_column="opt")
    code = models.CharField(max_length=12)
    parent = models.CharField(max_length=12)
    level = models.PositiveSmallIntegerField()
    period = models.CharField(max_length=8)
    total = models.FloatField(null=True)
    n = models.IntegerField(default=0)
    vmin = models.FloatField(null=True)
    vmax = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["period", "parent"], name="aggregate_value_children")]

    def __str__(self) -> str:
        return f"{self.element_id} {self.code} {self.period}"


class PeriodLeaf(models.Model):
    """A data element's values at one division combined over one of the longer periods
    (``rollup.LEAF_KINDS``: the year), by the element's rule: what ``rollup.leaf_select``
    computes from the values, kept so that a full rebuild of such a period reads one row per
    division and element instead of every value in it (DHIS2's analytics-table lesson).

    Kept right by every writer of values in the same transaction (``services._write_form``
    recomputes the rows of the divisions it wrote; ``services.period_leaf_fill`` builds a
    whole period, for a bulk load and the migration). Disaggregated elements get a row per
    option and their total as option ``""``, as ``leaf_select`` gives them.

    Keyed (period, code, element, option): one division's rows are one range (the refresh
    at entry) and a period's rows come in code order (the rebuild's pivot of the villages
    groups by code). Two partial indexes hold the few rows a rebuild reads apart from the
    villages' plain ones, which would otherwise take a scan of the whole period each: the
    rows entered above the villages (``length(code) < 12``) and the option rows of
    disaggregated elements (``opt > ''``). Village rows without an option, nearly all of
    them, are in neither, so entry maintains only the key for them.
    """

    pk = models.CompositePrimaryKey("period", "code", "element_id", "option")
    period = models.CharField(max_length=8)
    code = models.CharField(max_length=12)
    element_id = models.BigIntegerField()
    option = models.CharField(max_length=32, blank=True, default="", db_column="opt")
    v = models.FloatField()

    class Meta:
        indexes = [
            # The conditions are written as rollup's statements write them (SQLite uses a
            # partial index only for a query holding the very same term).
            models.Index(fields=["period", "code"],
                         condition=Q(LessThan(Length("code"), 12)),
                         name="period_leaf_above_villages"),
            models.Index(fields=["period", "element_id"],
                         condition=Q(GreaterThan(F("option"), "")),
                         name="period_leaf_options"),
        ]

    def __str__(self) -> str:
        return f"{self.element_id} {self.code} {self.period}={self.v}"


class IndicatorValue(models.Model):
    """An indicator's value at one division and period, computed from ``AggregateValue`` (and
    the villages' values).

    The key is the only index: (period, indicator, parent, code) finds one division's value
    (its parent follows from its code: ``rollup.parent_of``) and a division's children as one
    range, so a rebuild writing 665 k rows maintains one index instead of three (no ``id``,
    no separate unique key, no children index): 1.9 s instead of 4.5 s on PostgreSQL.
    """

    pk = models.CompositePrimaryKey("period", "indicator_id", "parent", "code")
    indicator_id = models.BigIntegerField()
    code = models.CharField(max_length=12)
    parent = models.CharField(max_length=12)
    level = models.PositiveSmallIntegerField()
    period = models.CharField(max_length=8)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    value = models.FloatField(null=True)

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.code} {self.period}={self.value}"
