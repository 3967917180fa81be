"""Reporting cycles, progress reports and evidence."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Agency
from shidian.plans.models import Plan, Task, TaskStatus


class CycleKind(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")


class ReportingCycle(models.Model):
    """How often the units of a plan report, and by when (每月25日前).

    ``due_day`` is the day of the period's last month (monthly, quarterly, half-yearly,
    yearly) or the weekday (1 = Monday, weekly) by which a report counts as on time;
    ``due_month`` moves it to an earlier month of a longer period (seed 03: the annual summary
    by the end of November is ``yearly``, ``due_month`` 11, ``due_day`` 30). ``grace_days``
    after the period's due date, the period closes and no more reports are accepted for it.
    """

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="cycle")
    kind = models.CharField(_("cycle"), max_length=16, choices=CycleKind.choices,
                            default=CycleKind.MONTHLY)
    due_day = models.PositiveSmallIntegerField(_("due day"), default=25)
    # The month of the period (1 = its first) in which reports are due; 0 = its last month.
    due_month = models.PositiveSmallIntegerField(_("due month of the period"), default=0)
    grace_days = models.PositiveSmallIntegerField(_("days open after due"), default=10)
    starts_on = models.DateField(_("first period starts"), null=True, blank=True)

    class Meta:
        verbose_name = _("reporting cycle")
        verbose_name_plural = _("reporting cycles")

    def __str__(self) -> str:
        return f"{self.plan}: {self.get_kind_display()}"


class ExtraCycle(models.Model):
    """A further report the plan's units owe beside the progress reports of the plan's cycle
    (seed 14: the weekly work report beside the 8+x monthly list; the hospice plans' annual
    summary). Its reports are progress reports of its periods, so a plan has at most one
    cycle of each kind (the period id says which cycle a report belongs to); the rules are
    those of ``ReportingCycle``."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="extra_cycles")
    key = models.CharField(max_length=32)
    label = models.CharField(_("report"), max_length=200)
    kind = models.CharField(_("cycle"), max_length=16, choices=CycleKind.choices)
    due_day = models.PositiveSmallIntegerField(_("due day"))
    due_month = models.PositiveSmallIntegerField(_("due month of the period"), default=0)
    grace_days = models.PositiveSmallIntegerField(_("days open after due"))
    starts_on = models.DateField(_("first period starts"), null=True, blank=True)

    class Meta:
        verbose_name = _("further reporting cycle")
        verbose_name_plural = _("further reporting cycles")
        ordering = ["plan_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="extra_cycle_key_once"),
            models.UniqueConstraint(fields=["plan", "kind"], name="extra_cycle_kind_once"),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.label}"


def evidence_path(instance: "Evidence", filename: str) -> str:
    return f"evidence/{instance.agency_id}/{instance.sha256[:2]}/{instance.sha256}"


class Evidence(models.Model):
    """A file attached once by a unit and referenced by any number of reports."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "sha256"], name="evidence_once_per_agency"),
        ]

    def __str__(self) -> str:
        return self.original_name


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for rework")
    ACCEPTED = "accepted", _("Accepted")


class ProgressReport(models.Model):
    """One unit's progress on one task for one period (``2021M06``, ``2021W23``, ``2021Q3``)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="reports")
    period = models.CharField(_("period"), max_length=8)
    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices,
                              default=ReportStatus.DRAFT)
    task_status = models.CharField(_("task status"), max_length=16, choices=TaskStatus.choices,
                                   default=TaskStatus.IN_PROGRESS)
    percent = models.PositiveSmallIntegerField(_("percent done"), default=0)
    done = models.TextField(_("work done"), blank=True)
    problems = models.TextField(_("problems"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="reports")
    # A lead unit's report may include what the cooperating units sent in.
    includes = models.ManyToManyField("self", symmetrical=False, blank=True,
                                      related_name="included_in")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    on_time = models.BooleanField(_("on time"), null=True)
    return_reason = models.CharField(_("reason for return"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["task_id", "period", "agency_id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "agency", "period"],
                                    name="one_report_per_task_unit_period"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.period} {self.agency}"
