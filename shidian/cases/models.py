"""Cases (个案): one household, person or unit moving through a pack's stages.

The stages, fields, rules and documents are defined by the pack (``shidian.cases.definitions``);
these tables store the state. Personal numbers are never stored in clear: each case keeps one
encrypted envelope (``pii``: the subject's and members' ID numbers, accounts) and, for search
and dedup, keyed hashes and masks per person (``CasePerson``).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Agency, Division


class CaseProgramme(models.Model):
    """A year's programme of one case type run by one division (山东省2016年农村危房改造)."""

    name = models.CharField(_("name"), max_length=200)
    case_type = models.CharField(_("case type"), max_length=32)
    # Empty for a national programme.
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="case_programmes", verbose_name=_("division"))
    year = models.PositiveSmallIntegerField(_("year"))
    table = models.CharField(_("subsidy standard"), max_length=64)
    params = models.JSONField(_("standard parameters"), default=dict, blank=True)
    is_open = models.BooleanField(_("open for applications"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("case programme")
        verbose_name_plural = _("case programmes")
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["case_type", "name"], name="case_programme_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    OPEN = "", _("In progress")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged into another case")


class Case(models.Model):
    programme = models.ForeignKey(CaseProgramme, on_delete=models.PROTECT,
                                  related_name="cases", verbose_name=_("case programme"))
    case_type = models.CharField(_("case type"), max_length=32)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="cases",
                                 verbose_name=_("division"))
    stage = models.CharField(_("stage"), max_length=32)
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    due_on = models.DateField(_("stage due on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices,
                               blank=True, default=Outcome.OPEN)
    # A case type whose name field is sensitive (a patient) keeps the name in the envelope:
    # here only its mask (张**) and, for search by the exact name, its keyed hash.
    subject_name = models.CharField(_("name"), max_length=64)
    subject_name_hash = models.CharField(max_length=32, blank=True, default="", db_default="",
                                         db_index=True, editable=False)
    subject_id_masked = models.CharField(_("ID number"), max_length=24)
    subject_id_hash = models.CharField(max_length=32, db_index=True, editable=False)
    data = models.JSONField(_("case data"), default=dict, blank=True)
    pii = models.TextField(editable=False, blank=True)  # Fernet envelope: numbers in clear
    entitlement = models.DecimalField(_("entitlement"), max_digits=12, decimal_places=2,
                                      null=True, blank=True)
    entitlement_detail = models.JSONField(default=list, blank=True, editable=False)
    # The institution that owns the case, for case types owned by institutions (a hospice
    # patient belongs to the ward caring for them); a transfer moves it to another one.
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="cases", verbose_name=_("institution"))
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_cases", verbose_name=_("merged into"))
    import_batch = models.ForeignKey("ImportBatch", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="cases")
    source_row = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["programme", "stage"], name="case_programme_stage"),
            models.Index(fields=["division", "stage"], name="case_division_stage"),
            models.Index(fields=["due_on"], name="case_due_on"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject_name}"

    @property
    def number(self) -> str:
        """The case number shown on pages and archives: year, village code, serial."""
        return f"{self.programme.year if self.programme_id else ''}-{self.division_id}-{self.pk}"


class CasePerson(models.Model):
    """A person of a case (the subject at position 0, then the members), for search and dedup."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="persons")
    position = models.PositiveSmallIntegerField(default=0)
    relation = models.CharField(_("relation"), max_length=16, default="head")
    name = models.CharField(_("name"), max_length=64)
    name_pinyin = models.CharField(max_length=128, blank=True, editable=False)
    id_hash = models.CharField(max_length=32, db_index=True, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=24)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # The case's village, copied so that dedup blocks by village with one index range scan.
    division_code = models.CharField(max_length=12, db_index=True, editable=False, default="")

    class Meta:
        verbose_name = _("person of a case")
        verbose_name_plural = _("persons of cases")
        ordering = ["case_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="case_person_position"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_masked}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Registered")
    TRANSITION = "transition", _("Stage changed")
    EDITED = "edited", _("Data changed")
    DOCUMENT = "document", _("Document added")
    NOTICE = "notice", _("Public notice")
    OBJECTION = "objection", _("Objection")
    PAYMENT = "payment", _("Payment")
    MERGED = "merged", _("Merged")
    PII_VIEW = "pii_view", _("Full number viewed")
    PARTY = "party", _("Party assigned")
    AGREEMENT = "agreement", _("Agreement signed")
    SCHEDULE = "schedule", _("Schedule set")
    ASSESSMENT = "assessment", _("Assessment recorded")
    TRANSFER = "transfer", _("Transfer")
    VIEWED = "viewed", _("Record opened")
    TEAM = "team", _("Case team changed")
    FOLLOWUP = "followup", _("Follow-up")


class CaseEvent(models.Model):
    """The case's timeline: who did what, when, from which stage to which, and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    transition = models.CharField(max_length=48, blank=True)
    from_stage = models.CharField(max_length=32, blank=True)
    to_stage = models.CharField(max_length=32, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at"),
                   models.Index(fields=["kind", "to_stage", "at"], name="case_event_stage_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d}"


def document_path(instance: CaseDocument, filename: str) -> str:
    return f"cases/{instance.case.division_id}/{instance.case_id}/{filename}"


class CaseDocument(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document kind"), max_length=32)
    stage = models.CharField(_("stage"), max_length=32)
    file = models.FileField(_("file"), upload_to=document_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["case", "kind"], name="case_document_kind")]

    def __str__(self) -> str:
        return self.name


class NoticeStatus(models.TextChoices):
    RUNNING = "running", _("Posted")
    CLOSED = "closed", _("Closed")


class PublicNotice(models.Model):
    """A public notice (公示) posted in one village for the cases of one notice stage."""

    programme = models.ForeignKey(CaseProgramme, on_delete=models.PROTECT,
                                  related_name="notices", verbose_name=_("case programme"))
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="notices",
                                 verbose_name=_("division"))
    stage = models.CharField(_("stage"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    place = models.CharField(_("place posted"), max_length=100)
    starts_on = models.DateField(_("posted on"))
    days = models.PositiveSmallIntegerField(_("minimum days"))
    day_kind = models.CharField(max_length=16)
    last_day = models.DateField(_("last day"))
    status = models.CharField(_("status"), max_length=16, choices=NoticeStatus.choices,
                              default=NoticeStatus.RUNNING)
    cases = models.ManyToManyField(Case, through="NoticeEntry", related_name="notices")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.title


class NoticeEntry(models.Model):
    notice = models.ForeignKey(PublicNotice, on_delete=models.CASCADE, related_name="entries")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notice_entries")

    class Meta:
        verbose_name = _("notice entry")
        verbose_name_plural = _("notice entries")
        constraints = [
            models.UniqueConstraint(fields=["notice", "case"], name="notice_entry_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.case_id}"


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class NoticeObjection(models.Model):
    notice = models.ForeignKey(PublicNotice, on_delete=models.CASCADE,
                               related_name="objections")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="objections")
    received_on = models.DateField(_("received on"))
    objector = models.CharField(_("raised by"), max_length=64, blank=True)
    content = models.TextField(_("objection"))
    status = models.CharField(_("status"), max_length=16, choices=ObjectionStatus.choices,
                              default=ObjectionStatus.PENDING)
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.case_id} {self.status}"


class PaymentStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    PAID = "paid", _("Paid")


class Payment(models.Model):
    """One tranche of a case's subsidy, paid into the household's account with a voucher."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="payments")
    tranche = models.CharField(_("tranche"), max_length=32)
    position = models.PositiveSmallIntegerField(default=0)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=PaymentStatus.choices,
                              default=PaymentStatus.PLANNED)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    voucher = models.ForeignKey(CaseDocument, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("voucher"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["case_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "tranche"], name="payment_unique_tranche"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.tranche} {self.amount}"


class PairKind(models.TextChoices):
    EXACT = "exact", _("Same ID number")
    FUZZY = "fuzzy", _("Similar name and birth date")


class PairStatus(models.TextChoices):
    PENDING = "pending", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")


class DuplicatePair(models.Model):
    """Two cases that may be the same household (``case_a`` the older), for review."""

    programme = models.ForeignKey(CaseProgramme, on_delete=models.CASCADE,
                                  related_name="duplicate_pairs")
    case_a = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    case_b = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=PairKind.choices)
    score = models.FloatField(default=1.0)
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=PairStatus.choices,
                              default=PairStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["status", "kind", "-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case_a", "case_b"], name="duplicate_pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.case_a_id}~{self.case_b_id} {self.kind}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATED = "validated", _("Checked")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


def import_path(instance: ImportBatch, filename: str) -> str:
    return f"cases/imports/{instance.programme_id}/{filename}"


class ImportBatch(models.Model):
    """One uploaded household list: checked first, then imported all or valid rows only."""

    programme = models.ForeignKey(CaseProgramme, on_delete=models.PROTECT,
                                  related_name="imports", verbose_name=_("case programme"))
    file = models.FileField(_("file"), upload_to=import_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices,
                              default=ImportStatus.UPLOADED)
    mode = models.CharField(max_length=8, blank=True)  # all | valid
    rows_total = models.PositiveIntegerField(default=0)
    households_total = models.PositiveIntegerField(default=0)
    households_valid = models.PositiveIntegerField(default=0)
    rows_bad = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("household import")
        verbose_name_plural = _("household imports")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ImportRowError(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=64, blank=True)
    household = models.CharField(max_length=64, blank=True)
    code = models.CharField(max_length=32, blank=True)
    message = models.CharField(_("problem"), max_length=300)

    class Meta:
        verbose_name = _("import problem")
        verbose_name_plural = _("import problems")
        ordering = ["batch_id", "row", "id"]

    def __str__(self) -> str:
        return f"{self.row}: {self.message}"


class CaseMember(models.Model):
    """A member of a case's team (个案管理团队) with a duty the pack names (网格员, 精防医生 …).

    For a confidential case type only the team and the users of the institution of a member
    marked ``responsible`` see the case (``shidian.cases.needtoknow``). A removed member keeps
    the row, with ``removed_at``, so the team's history stays on record."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="case_memberships", verbose_name=_("user"))
    duty = models.CharField(_("duty"), max_length=32)
    responsible = models.BooleanField(_("responsible"), default=False)
    agency = models.ForeignKey("orgs.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("institution"))
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case team member")
        verbose_name_plural = _("case team members")
        ordering = ["case_id", "duty", "id"]
        indexes = [models.Index(fields=["user", "removed_at"], name="case_member_user"),
                   models.Index(fields=["agency", "responsible"], name="case_member_agency")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.duty} {self.user_id}"


class FollowUp(models.Model):
    """One scheduled visit (随访) of a case: due on a day the pack's schedule gives, done on
    the day it was made. The visit's findings are encrypted (``data``: a Fernet envelope)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followups")
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    basis = models.CharField(_("schedule basis"), max_length=32, blank=True)
    data = models.TextField(editable=False, blank=True)
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True)
    missed_noted_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["case_id", "due_on", "id"]
        indexes = [models.Index(fields=["done_on", "due_on"], name="followup_open_due"),
                   models.Index(fields=["case", "due_on"], name="followup_case_due")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.due_on}"


# Parties, agreements, schedules, assessments, transfers, sites and funds.
from .relation_models import *  # noqa: E402,F401,F403
