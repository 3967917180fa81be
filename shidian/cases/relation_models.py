"""State of the case engine's relations: parties, agreements, schedules, assessments, transfers,
and funds (imported by ``models.py``, so Django finds them in the cases app).

- A **party** (``Party``) is a person or organisation that takes part in cases of a programme
  in a role the pack names (企业师傅, 学校, 监护人); ``CaseParty`` ties it to a case. A role may
  cap how many open cases one party holds at once (``limit``).
- An **agreement** (``Agreement``) is signed by named parties of the case; the pack says which
  must sign and when another is required (a guardian for a minor).
- A **schedule** (``SchedulePeriod``) divides a case's time into periods of kinds the pack names
  (在校学习 / 企业实践), each with its attendance (``Attendance``).
- An **assessment** (``Assessment``) is one assessor role's score of one case (teacher and
  mentor both score).
- A **transfer** (``CaseTransfer``) moves a case owned by an institution (``Case.agency``) to
  another one, which accepts or declines it (转介).
- A **fund entry** (``FundEntry``) is money received or spent by a programme, by category.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Agency, Division


class Party(models.Model):
    """A person or organisation known to a programme in one role (a mentor, a school)."""

    programme = models.ForeignKey("cases.CaseProgramme", on_delete=models.PROTECT,
                                  related_name="parties", verbose_name=_("case programme"))
    role = models.CharField(_("role"), max_length=32)
    name = models.CharField(_("name"), max_length=128)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("agency"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("division"))
    id_hash = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=24, blank=True)
    pii = models.TextField(editable=False, blank=True)  # Fernet envelope: the ID number
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["programme_id", "role", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "role", "id_hash"],
                                    condition=~models.Q(id_hash=""), name="party_unique_person"),
        ]

    def __str__(self) -> str:
        return self.name


class CaseParty(models.Model):
    """A party in a role on one case, from ``assigned_at`` until ``ended_at``."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="parties")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="cases")
    role = models.CharField(_("role"), max_length=32)
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("party of a case")
        verbose_name_plural = _("parties of cases")
        ordering = ["case_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "role"], condition=models.Q(
                ended_at__isnull=True), name="case_party_one_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.role} {self.party_id}"


class Agreement(models.Model):
    """An agreement of the case signed by the parties listed in ``signatories``."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="agreements")
    kind = models.CharField(_("agreement"), max_length=32)
    signed_on = models.DateField(_("signed on"))
    signatories = models.JSONField(default=list)  # [{role, party, name}]
    document = models.ForeignKey("cases.CaseDocument", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["case_id", "signed_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="agreement_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.signed_on}"


class SchedulePeriod(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="periods")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(_("kind"), max_length=32)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("schedule period")
        verbose_name_plural = _("schedule periods")
        ordering = ["case_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="schedule_period_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.starts_on}–{self.ends_on}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present (attended)")
    LEAVE = "leave", _("On leave")
    ABSENT = "absent", _("Absent")


class Attendance(models.Model):
    period = models.ForeignKey(SchedulePeriod, on_delete=models.CASCADE,
                               related_name="attendance")
    on = models.DateField(_("date"))
    status = models.CharField(_("attendance"), max_length=8, choices=AttendanceStatus.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["period_id", "on"]
        constraints = [
            models.UniqueConstraint(fields=["period", "on"], name="attendance_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.period_id} {self.on} {self.status}"


class Assessment(models.Model):
    """One assessor role's score of a case (the teacher's, the mentor's)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(_("assessment"), max_length=32)
    assessor_role = models.CharField(_("assessor"), max_length=32)
    party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    assessed_on = models.DateField(_("assessed on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["case_id", "kind", "assessor_role"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "assessor_role"],
                                    name="assessment_unique_assessor"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.assessor_role} {self.score}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the receiver")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class CaseTransfer(models.Model):
    """A case handed from one institution to another (转介), accepted by the receiver."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="transfers")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("from"))
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("to"))
    status = models.CharField(_("status"), max_length=12, choices=TransferStatus.choices,
                              default=TransferStatus.PENDING)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"),
                                    name="case_transfer_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.from_agency_id}→{self.to_agency_id} {self.status}"


class FundDirection(models.TextChoices):
    RECEIVED = "received", _("Received")
    SPENT = "spent", _("Spent")


class FundEntry(models.Model):
    """Money a programme received or spent (资金到位 / 资金执行), by the pack's categories."""

    programme = models.ForeignKey("cases.CaseProgramme", on_delete=models.PROTECT,
                                  related_name="funds", verbose_name=_("case programme"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("division"))
    direction = models.CharField(_("direction"), max_length=8, choices=FundDirection.choices)
    category = models.CharField(_("category"), max_length=32)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fund entry")
        verbose_name_plural = _("fund entries")
        ordering = ["programme_id", "on", "id"]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.direction} {self.category} {self.amount}"
