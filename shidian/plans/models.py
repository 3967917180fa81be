"""Programmes, plans, their versions, phases and the task-decomposition table."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Agency, Division


class Programme(models.Model):
    """A pilot programme (试点项目), owning one or more plans at several levels."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=32, blank=True)
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="programmes", verbose_name=_("division"))
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Plan(models.Model):
    """An implementation plan (实施方案).

    The rows of ``Task``/``Phase``/``TaskUnit`` are the working copy. Publishing freezes them
    into a ``PlanVersion`` snapshot; an edit after publishing puts the plan back into draft
    with ``version`` + 1 pending, so a published version never changes.
    """

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="plans",
                                  verbose_name=_("programme"))
    title = models.CharField(_("title"), max_length=300)
    issuer = models.CharField(_("issuer"), max_length=200, blank=True)
    domain = models.CharField(_("domain"), max_length=32, blank=True)
    # Empty for a national plan (a ministry's), which only national users see.
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="plans", verbose_name=_("division"))
    office = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="offices_of", verbose_name=_("plan office"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children", verbose_name=_("higher-level plan"))
    status = models.CharField(_("status"), max_length=16, choices=PlanStatus.choices,
                              default=PlanStatus.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=0,
                                          help_text=_("Number of the last published version"))
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    source_name = models.CharField(_("source file"), max_length=255, blank=True)
    source_text = models.TextField(_("source text"), blank=True)
    parsed = models.JSONField(_("parser output"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["programme_id", "division_id", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def area_name(self) -> str:
        """The division the plan is for, or 全国 for a national plan (no division)."""
        from django.utils.translation import gettext

        return self.division.name if self.division_id else gettext("National")


class PlanVersion(models.Model):
    """A published, frozen copy of a plan's decomposition."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class Phase(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=200)
    start = models.DateField(_("start"), null=True, blank=True)
    end = models.DateField(_("end"), null=True, blank=True)
    text = models.CharField(_("period text"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["plan_id", "order"]

    def __str__(self) -> str:
        return self.name


class Recurrence(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half-yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    SUSPENDED = "suspended", _("Suspended")


class Task(models.Model):
    """A row of the task-decomposition table (任务分解表)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children", verbose_name=_("parent task"))
    order = models.PositiveIntegerField(default=0)
    path = models.CharField(_("number"), max_length=100, blank=True)
    title = models.CharField(_("task"), max_length=500)
    content = models.TextField(_("details"), blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    deadline_text = models.CharField(_("deadline as written"), max_length=200, blank=True)
    recurrence = models.CharField(_("recurrence"), max_length=16, choices=Recurrence.choices,
                                  blank=True)
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="tasks", verbose_name=_("phase"))
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices,
                              default=TaskStatus.NOT_STARTED)
    percent = models.PositiveSmallIntegerField(_("percent done"), default=0)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    # Where the task stands in the plan's source text, for highlighting in review.
    source_start = models.PositiveIntegerField(null=True, blank=True)
    source_end = models.PositiveIntegerField(null=True, blank=True)
    # Cascade: the task of the higher-level plan that this task takes up.
    parent_task = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="child_tasks",
                                    verbose_name=_("higher-level task"))
    # The plan version that first published this task; empty while it exists only in a draft.
    # Units see a task (and report on it) only once it has been published.
    first_version = models.PositiveIntegerField(_("first published in version"), null=True,
                                                blank=True, editable=False)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["plan_id", "order"]

    def __str__(self) -> str:
        return f"{self.path} {self.title}".strip()


class UnitRole(models.TextChoices):
    LEAD = "lead", _("Lead unit")
    RESPONSIBLE = "responsible", _("Responsible unit")


class TaskUnit(models.Model):
    """A unit's part in a task: lead (牵头) or responsible/cooperating (责任/配合).

    ``name`` keeps the unit as the plan writes it; ``agency`` is filled once it is resolved.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="units")
    role = models.CharField(_("role"), max_length=16, choices=UnitRole.choices)
    name = models.CharField(_("unit as written"), max_length=200)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="task_units", verbose_name=_("agency"))
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("task unit")
        verbose_name_plural = _("task units")
        ordering = ["task_id", "role", "order"]
        indexes = [models.Index(fields=["agency", "role"])]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict[str, int]:
        """Stored with each audit entry, so a task's history finds its deleted units too."""
        return {"task_id": self.task_id, "plan_id": self.task.plan_id}


class FindingKind(models.TextChoices):
    ALLOCATION_SUM = "allocation_sum", _("Allocation table does not add up")
    ALLOCATION_TEXT = "allocation_text", _("Allocation total differs from the text")
    DEADLINE_AFTER_PERIOD = "deadline_after_period", _("Deadline after the plan period")
    PHASE_ORDER = "phase_order", _("Phase dates out of order")
    TARGET_CONFLICT = "target_conflict", _("Target stated twice with different numbers")
    LONE_LEAD_UNIT = "lone_lead_unit", _("Lead unit named nowhere else")
    NUMBERING_GAP = "numbering_gap", _("Numbering gap")
    OTHER = "other", _("Other")


class PlanFinding(models.Model):
    """An inconsistency the parser (or a reviewer) flagged in the plan text."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("kind"), max_length=32)
    message = models.CharField(_("message"), max_length=500)
    location = models.JSONField(_("location"), default=dict, blank=True)
    resolved = models.BooleanField(_("resolved"), default=False)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["plan_id", "id"]

    def __str__(self) -> str:
        return self.message
