"""The audit chain, the security policy and each user's password and second-factor state."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64


class AuditChain(models.Model):
    """The head of one hash chain (a stream: the audit log, the case timelines).

    Sealing locks this row, so two writers can never append the same sequence number; the
    anchor is where a retention purge cut the chain (verification starts from its hash).
    """

    stream = models.CharField(max_length=32, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)
    last_record_id = models.BigIntegerField(default=0)
    anchor_seq = models.BigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")

    def __str__(self) -> str:
        return f"{self.stream} #{self.last_seq}"


class AuditSeal(models.Model):
    """One record's link in its chain: hash = SHA-256(previous hash + the record's content).

    ``digests`` keeps a short hash of each field, so verification can say which field of an
    edited record changed; ``record_time`` says when a deleted record was written.
    """

    stream = models.CharField(max_length=32)
    seq = models.BigIntegerField()
    record_id = models.BigIntegerField()
    record_time = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    digests = models.JSONField(default=dict)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        ordering = ["stream", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="audit_seal_unique_seq"),
            models.UniqueConstraint(fields=["stream", "record_id"],
                                    name="audit_seal_unique_record"),
        ]

    def __str__(self) -> str:
        return f"{self.stream} #{self.seq} → {self.record_id}"


class AuditAnchor(models.Model):
    """A retention purge: the chain's records up to ``seq`` were removed, ``hash`` kept."""

    stream = models.CharField(max_length=32)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    before = models.DateTimeField()
    purged = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stream} ≤ #{self.seq}"


class AuditRedaction(models.Model):
    """Personal information removed from one sealed audit record (PIPL 个人信息保护法).

    The record's fields are rewritten, its seal is not: ``digests_before`` are the seal's
    digests of the rewritten fields (or the previous redaction's ``digests_after``),
    ``content_hash_after`` is what the seal's hash would be over the record as it now is.
    Verification accepts the record when it hashes to the last redaction's
    ``content_hash_after`` and the redaction is in the audit trail as it was made (its own
    sealed ``LogEntry`` carries the same digests, ``audit_data``).
    """

    stream = models.CharField(max_length=32)
    record_id = models.BigIntegerField()
    seq = models.BigIntegerField()  # the record's seal
    fields = models.JSONField(default=list)
    digests_before = models.JSONField(default=dict)
    digests_after = models.JSONField(default=dict)
    content_hash_before = models.CharField(max_length=64)
    content_hash_after = models.CharField(max_length=64)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audit redaction")
        verbose_name_plural = _("audit redactions")
        ordering = ["stream", "record_id", "pk"]
        indexes = [models.Index(fields=["stream", "record_id"], name="audit_redaction_record")]

    def __str__(self) -> str:
        return f"{self.stream} #{self.record_id}: {', '.join(self.fields)}"

    def audit_data(self) -> dict[str, object]:
        """What the redaction's own audit record keeps (``additional_data``): verification
        accepts the redaction only when its row still says the same."""
        return {"stream": self.stream, "record_id": self.record_id, "seq": self.seq,
                "fields": list(self.fields), "digests_before": dict(self.digests_before),
                "digests_after": dict(self.digests_after),
                "content_hash_before": self.content_hash_before,
                "content_hash_after": self.content_hash_after}

    def get_additional_data(self) -> dict[str, object]:  # django-auditlog's hook
        return self.audit_data()


class AuditVerifyRun(models.Model):
    """The result of one verification, shown on the controls page."""

    started_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField(default=False)
    checked = models.PositiveIntegerField(default=0)
    redacted = models.PositiveIntegerField(default=0)  # records verified against a redaction
    problems = models.JSONField(default=list)
    source = models.CharField(max_length=16, default="command")

    class Meta:
        verbose_name = _("audit verification")
        verbose_name_plural = _("audit verifications")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"


class SecurityPolicy(models.Model):
    """The password, session and second-factor policy (one row), set by the security admin."""

    min_length = models.PositiveSmallIntegerField(_("minimum password length"), default=10)
    min_classes = models.PositiveSmallIntegerField(
        _("character classes required"), default=3,
        help_text=_("Of: lower-case letters, upper-case letters, digits, other characters."))
    expiry_days = models.PositiveSmallIntegerField(
        _("password expiry (days)"), default=90, help_text=_("0: passwords do not expire."))
    history_count = models.PositiveSmallIntegerField(_("previous passwords refused"), default=5)
    idle_minutes = models.PositiveSmallIntegerField(_("session idle timeout (minutes)"),
                                                    default=30)
    totp_required = models.BooleanField(
        _("second factor required"), default=False,
        help_text=_("Administrators and plan offices must sign in with a one-time code."))
    change_after_reset = models.BooleanField(
        _("change a password set by someone else"), default=True,
        help_text=_("A user whose password an administrator set must change it at next login."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policies")

    def __str__(self) -> str:
        return str(_("security policy"))


class PasswordState(models.Model):
    """When a user's password was last set, and whether it must be changed at next login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="password_state")
    changed_at = models.DateTimeField(default=timezone.now)
    must_change = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("password state")
        verbose_name_plural = _("password states")

    def __str__(self) -> str:
        return f"{self.user_id} {self.changed_at:%Y-%m-%d}"


class PasswordHistory(models.Model):
    """A previous password's hash, so the last N cannot be reused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d}"


class TotpDevice(models.Model):
    """A user's authenticator (RFC 6238): the secret encrypted at rest, the last step used."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="totp_device")
    secret = models.TextField()  # Fernet token (shidian.core.crypto)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)  # a code is accepted once
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")

    def __str__(self) -> str:
        return f"{self.user_id} {'confirmed' if self.confirmed_at else 'pending'}"
