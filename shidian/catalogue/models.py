"""What a programme created from a pack was given: the install record and what only the
catalogue holds (every reporting cycle, the lists). Everything else lives in its own app
(plans, indicators, reporting, oversight, cases) and is traced by ``InstalledObject``."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shidian.plans.models import Plan, Programme


class PackInstall(models.Model):
    """A programme created from a pack (one per programme)."""

    programme = models.OneToOneField(Programme, on_delete=models.CASCADE,
                                     related_name="pack_install", verbose_name=_("programme"))
    pack = models.CharField(_("pack"), max_length=32)
    start_plan = models.CharField(_("starting plan"), max_length=32)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("plan"))
    year = models.PositiveSmallIntegerField(_("year"))
    # The create form's one-time token: a second submit of the same form finds this install.
    token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("programme from a pack")
        verbose_name_plural = _("programmes from packs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.programme} ({self.pack})"


class InstalledObject(models.Model):
    """One object the install created in another app, by kind and the pack's key."""

    install = models.ForeignKey(PackInstall, on_delete=models.CASCADE, related_name="installed")
    kind = models.CharField(max_length=16)  # case_programme, element, data_set, indicator, target
    key = models.CharField(max_length=80)
    object_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["install", "kind", "key"],
                                               name="installed_object_once")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}={self.object_id}"


class InstalledCycle(models.Model):
    """A reporting cycle of the pack (seed 14: the 8+x list monthly and the weekly report).

    The one marked ``is_plan_cycle`` is also the plan's ``shidian.reporting`` cycle (a plan has
    one); the others are duties recorded with the programme."""

    install = models.ForeignKey(PackInstall, on_delete=models.CASCADE, related_name="cycles")
    key = models.CharField(max_length=32)
    label = models.CharField(_("report"), max_length=200)
    kind = models.CharField(_("cycle"), max_length=16)
    due_day = models.PositiveSmallIntegerField(_("due day"))
    grace_days = models.PositiveSmallIntegerField(_("days open after due"))
    starts_on = models.DateField(_("first period starts"), null=True, blank=True)
    list_key = models.CharField(max_length=32, blank=True)
    is_plan_cycle = models.BooleanField(_("the plan's progress reports"), default=False)

    class Meta:
        verbose_name = _("reporting duty")
        verbose_name_plural = _("reporting duties")
        ordering = ["install_id", "-is_plan_cycle", "key"]
        constraints = [models.UniqueConstraint(fields=["install", "key"],
                                               name="installed_cycle_once")]

    def __str__(self) -> str:
        return self.label

    def get_kind_display(self) -> str:
        """每月, 每年 …: the reporting app's name of the kind (the pack page is in Chinese)."""
        from shidian.reporting.models import CycleKind

        return str(CycleKind(self.kind).label) if self.kind in CycleKind.values else self.kind


class DutyList(models.Model):
    """A list of responsibilities (seed 06's three 权责清单, seed 14's 8+x 清单)."""

    install = models.ForeignKey(PackInstall, on_delete=models.CASCADE, related_name="lists")
    key = models.CharField(max_length=32)
    label = models.CharField(_("list"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_open = models.BooleanField(_("items may be added"), default=False)
    columns = models.JSONField(default=list)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("responsibility list")
        verbose_name_plural = _("responsibility lists")
        ordering = ["install_id", "order"]
        constraints = [models.UniqueConstraint(fields=["install", "key"],
                                               name="duty_list_once")]

    def __str__(self) -> str:
        return self.label


class DutyListItem(models.Model):
    duty_list = models.ForeignKey(DutyList, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveIntegerField(default=0)
    owner = models.CharField(_("responsible"), max_length=200, blank=True)
    duty = models.TextField(_("duty"), blank=True)
    partner = models.CharField(_("towards"), max_length=200, blank=True)
    basis = models.CharField(_("basis"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    from_pack = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("list item")
        verbose_name_plural = _("list items")
        ordering = ["duty_list_id", "order", "id"]

    def __str__(self) -> str:
        return f"{self.owner}: {self.duty[:40]}"


class SelfCheckText(models.Model):
    """A written part of a case programme's annual self-inspection report (自检报告), as the
    pilot saved it for one division and year (seed 04's 改进措施和计划)."""

    programme = models.ForeignKey("cases.CaseProgramme", on_delete=models.CASCADE,
                                  related_name="+", verbose_name=_("programme"))
    division = models.ForeignKey("orgs.Division", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("division"))
    year = models.PositiveSmallIntegerField(_("year"))
    part = models.CharField(_("part"), max_length=32)
    text = models.TextField(_("text"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("self-inspection report text")
        verbose_name_plural = _("self-inspection report texts")
        constraints = [models.UniqueConstraint(fields=["programme", "division", "year", "part"],
                                               name="selfcheck_text_once")]

    def __str__(self) -> str:
        return f"{self.programme_id}/{self.division_id}/{self.year}/{self.part}"
