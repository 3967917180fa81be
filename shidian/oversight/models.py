"""Oversight (督办): the escalation ladder and its messages, supervision notices, inspections
with findings and rectification, scorecards with evaluations, and bulletins (通报).

The ladder 提醒 → 催办 → 督办 → 通报 → 整改 → 销号 is computed from the plans' tasks and report
duties by ``ladder``; what it says to people becomes ``Message`` rows, one per event, channel
and recipient, each with a unique key so a message is never sent twice.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Agency
from shidian.plans.models import Plan, Programme, Task
from shidian.reporting.models import Evidence


# -- rules and channels ---------------------------------------------------------------------
class OversightRule(models.Model):
    """A plan's escalation rule: remind ``remind_days`` working days before a task or report is
    due; after the due date, 催办 the unit's liaisons; ``escalate_days`` working days later,
    escalate to the unit's leaders and propose a 督办 notice to the office.

    A plan without a saved rule follows the defaults (``ladder.DEFAULT_RULE``).
    """

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="oversight_rule")
    remind_days = models.PositiveSmallIntegerField(_("remind working days before due"),
                                                   default=3)
    escalate_days = models.PositiveSmallIntegerField(_("escalate working days after due"),
                                                     default=5)
    reply_days = models.PositiveSmallIntegerField(_("working days to reply to a notice"),
                                                  default=5)
    min_onsite_inspections = models.PositiveSmallIntegerField(
        _("on-site inspections required per site"), default=0)
    is_active = models.BooleanField(_("send reminders"), default=True)
    send_email = models.BooleanField(_("also by e-mail"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("oversight rule")
        verbose_name_plural = _("oversight rules")

    def __str__(self) -> str:
        return f"{self.plan}: {self.remind_days}/{self.escalate_days}"


class Channel(models.TextChoices):
    INBOX = "inbox", _("Inbox")
    EMAIL = "email", _("E-mail")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    WECOM = "wecom", _("WeCom group robot")


WEBHOOK_CHANNELS = (Channel.DINGTALK, Channel.WECOM)


class Webhook(models.Model):
    """A group robot of the plan's work group (工作群) that receives the ladder's messages.

    The robot's address carries its access token and DingTalk's signing secret is a password:
    both are stored encrypted (``shidian.core.crypto``) and never shown again in full.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="webhooks")
    kind = models.CharField(_("kind"), max_length=16,
                            choices=[(c.value, c.label) for c in WEBHOOK_CHANNELS])
    name = models.CharField(_("name"), max_length=100)
    url_token = models.TextField()
    url_hint = models.CharField(_("address"), max_length=120)
    secret_token = models.TextField(blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_status = models.CharField(_("last delivery"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["plan_id", "name"]

    def __str__(self) -> str:
        return self.name


class MessageKind(models.TextChoices):
    REMIND = "remind", _("Reminder")
    URGE = "urge", _("Urging (催办)")
    ESCALATE = "escalate", _("Escalation to the leader")
    PROPOSE = "propose", _("Proposed supervision notice")
    NOTICE = "notice", _("Supervision notice")
    NOTICE_REPLY = "notice_reply", _("Reply to a supervision notice")
    NOTICE_DECISION = "notice_decision", _("Decision on a reply")
    NOTICE_OVERDUE = "notice_overdue", _("Reply overdue")
    RECTIFICATION = "rectification", _("Rectification")
    REVIEW = "review", _("Scoring as a reviewer")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    """One message on one channel to one recipient (a user, an e-mail address or a robot).

    ``key`` names the event, the channel and the recipient; it is unique, so computing the same
    event twice (two ticks at once, a tick run again) inserts nothing new and sends nothing new.
    """

    key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=160, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    level = models.CharField(max_length=8, blank=True)  # green / yellow / red of the event
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="oversight_messages")
    address = models.CharField(max_length=254, blank=True)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="messages")
    mentions = models.JSONField(default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("message"))
    link = models.CharField(max_length=300, blank=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    notice = models.ForeignKey("SupervisionNotice", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="messages")
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices,
                              default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "status", "read_at"],
                         name="oversight_inbox"),
            models.Index(fields=["status", "channel"], name="oversight_outbox"),
        ]

    def __str__(self) -> str:
        return self.subject


class TickLease(models.Model):
    """Who runs the tick now: a lease taken by a conditional update, so a second tick started
    while one runs sends nothing (and a crashed tick's lease simply runs out)."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("tick lease")
        verbose_name_plural = _("tick leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder}"


# -- supervision notices (督办通知) -----------------------------------------------------------
class NoticeStatus(models.TextChoices):
    ISSUED = "issued", _("Awaiting reply")
    REPLIED = "replied", _("Replied")
    RETURNED = "returned", _("Returned for a new reply")
    ESCALATED = "escalated", _("Escalated")
    ACCEPTED = "accepted", _("Closed (accepted)")


OPEN_NOTICE_STATUSES = (NoticeStatus.ISSUED, NoticeStatus.REPLIED, NoticeStatus.RETURNED,
                        NoticeStatus.ESCALATED)


class DocumentSeries(models.TextChoices):
    NOTICE = "notice", _("Supervision notices")
    BULLETIN = "bulletin", _("Bulletins")
    BRIEFING = "briefing", _("Briefings")


class DocumentCounter(models.Model):
    """The last number an issuing office gave a series in a year (督办〔2026〕N号)."""

    series = models.CharField(max_length=12, choices=DocumentSeries.choices)
    issuer_key = models.CharField(max_length=12, blank=True)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")
        constraints = [
            models.UniqueConstraint(fields=["series", "issuer_key", "year"],
                                    name="document_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.issuer_key or '-'} {self.year}: {self.last_number}"


class SupervisionNotice(models.Model):
    """A 督办通知 from an office to an agency about one or more tasks, with a reply deadline.

    Numbered per issuing office (its division; empty for a national office) and year.
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="notices")
    issuer_key = models.CharField(max_length=12, blank=True)
    issuer_name = models.CharField(_("issuing office"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("notice number"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="notices",
                               verbose_name=_("addressed to"))
    tasks = models.ManyToManyField(Task, related_name="notices", verbose_name=_("tasks"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("what is required"))
    reply_due = models.DateField(_("reply by"))
    status = models.CharField(_("status"), max_length=12, choices=NoticeStatus.choices,
                              default=NoticeStatus.ISSUED)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalation_note = models.CharField(_("escalation note"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer_key", "year", "number"],
                                    name="notice_number_unique"),
        ]
        indexes = [models.Index(fields=["agency", "status"])]

    def __str__(self) -> str:
        return f"{self.display_number} {self.title}"

    @property
    def display_number(self) -> str:
        from django.utils.translation import gettext

        return gettext("Supervision [%(year)s] No. %(number)s") % {"year": self.year,
                                                                   "number": self.number}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_NOTICE_STATUSES


class ReplyDecision(models.TextChoices):
    PENDING = "", _("Awaiting decision")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


class NoticeReply(models.Model):
    """The addressed unit's answer: the measures taken and the date the work will be done."""

    notice = models.ForeignKey(SupervisionNotice, on_delete=models.CASCADE,
                               related_name="replies")
    measures = models.TextField(_("measures taken"))
    done_by = models.DateField(_("to be completed by"))
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="notice_replies")
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    replied_at = models.DateTimeField(_("replied at"))
    decision = models.CharField(_("decision"), max_length=12, choices=ReplyDecision.choices,
                                default=ReplyDecision.PENDING, blank=True)
    decision_note = models.CharField(_("office's note"), max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice reply")
        verbose_name_plural = _("notice replies")
        ordering = ["notice_id", "replied_at", "id"]

    def __str__(self) -> str:
        return f"{self.notice}: {self.replied_at:%Y-%m-%d}"


# -- inspections and rectification (督导检查, 整改) --------------------------------------------
class InspectionRound(models.Model):
    """A round of inspections (督导检查) of a plan: a team, the sites it visits, the dates."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="inspection_rounds")
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="InspectionMember",
                                     related_name="inspection_rounds",
                                     verbose_name=_("team"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.name


class InspectionMember(models.Model):
    round = models.ForeignKey(InspectionRound, on_delete=models.CASCADE,
                              related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    is_leader = models.BooleanField(_("team leader"), default=False)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="inspection_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.round}: {self.user}"


class InspectionVisit(models.Model):
    """One site of a round: when it is to be visited and, once done, when it was."""

    round = models.ForeignKey(InspectionRound, on_delete=models.CASCADE, related_name="visits")
    site = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="inspection_visits",
                             verbose_name=_("site"))
    planned_on = models.DateField(_("planned for"))
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    on_site = models.BooleanField(_("on-site"), default=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("inspection visit")
        verbose_name_plural = _("inspection visits")
        ordering = ["planned_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "site"], name="visit_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.round}: {self.site}"


class Severity(models.TextChoices):
    GENERAL = "general", _("General")
    SERIOUS = "serious", _("Serious")


class Finding(models.Model):
    """A problem the team found at a site (问题), with photos as evidence."""

    visit = models.ForeignKey(InspectionVisit, on_delete=models.CASCADE,
                              related_name="findings")
    description = models.TextField(_("problem found"))
    severity = models.CharField(_("severity"), max_length=12, choices=Severity.choices,
                                default=Severity.GENERAL)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("inspection finding")
        verbose_name_plural = _("inspection findings")
        ordering = ["visit_id", "id"]

    def __str__(self) -> str:
        return self.description[:60]


def finding_photo_path(instance: "FindingPhoto", filename: str) -> str:
    return f"oversight/findings/{instance.sha256[:2]}/{instance.sha256}"


class FindingPhoto(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=finding_photo_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("finding photo")
        verbose_name_plural = _("finding photos")
        ordering = ["finding_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["finding", "sha256"], name="photo_once_per_finding"),
        ]

    def __str__(self) -> str:
        return self.original_name


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("Being rectified")
    SUBMITTED = "submitted", _("Completion reported")
    RETURNED = "returned", _("Returned")
    CLOSED = "closed", _("Closed (销号)")


class Rectification(models.Model):
    """The rectification order (整改) a finding becomes: an owner, measures and a deadline."""

    finding = models.OneToOneField(Finding, on_delete=models.CASCADE,
                                   related_name="rectification")
    owner = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="rectifications",
                              verbose_name=_("owner"))
    measures = models.TextField(_("rectification measures"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=12, choices=RectificationStatus.choices,
                              default=RectificationStatus.OPEN)
    completion_note = models.TextField(_("what was done"), blank=True)
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="rectifications")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=500, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return f"{self.owner}: {self.measures[:40]}"


# -- scorecards, evaluations, bulletins -------------------------------------------------------
class SubjectKind(models.TextChoices):
    AGENCY = "agency", _("The plan's units")
    DIVISION = "division", _("The divisions one level below the plan's")


class Scorecard(models.Model):
    """A 考核指标体系: weighted items, grade thresholds in percent of the full score.

    It belongs to a plan, or (a programme's annual evaluation, 年度考核) to a programme: then
    its rounds assess the subjects of every published plan of the programme and rank them
    together. ``model_site_from`` is the score rate a unit needs to be named a model site
    (示范基地); empty means the excellent line.
    """

    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="scorecards")
    programme = models.ForeignKey(Programme, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="scorecards", verbose_name=_("programme"))
    name = models.CharField(_("name"), max_length=200)
    subject_kind = models.CharField(_("who is assessed"), max_length=12,
                                    choices=SubjectKind.choices, default=SubjectKind.AGENCY)
    excellent_from = models.DecimalField(_("excellent from (%)"), max_digits=5,
                                         decimal_places=2, default=90)
    good_from = models.DecimalField(_("good from (%)"), max_digits=5, decimal_places=2,
                                    default=80)
    pass_from = models.DecimalField(_("pass from (%)"), max_digits=5, decimal_places=2,
                                    default=60)
    model_site_from = models.DecimalField(_("model sites from (%)"), max_digits=5,
                                          decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["plan_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(plan__isnull=False, programme__isnull=True)
                           | models.Q(plan__isnull=True, programme__isnull=False)),
                name="scorecard_of_plan_or_programme"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def of_programme(self) -> bool:
        return self.programme_id is not None

    @property
    def owner_title(self) -> str:
        """The plan's title, or the programme's name for a programme's scorecard."""
        return self.programme.name if self.programme_id else self.plan.title


class ScoreRule(models.TextChoices):
    ON_TIME_REPORTS = "on_time_reports", _("Reports submitted on time")
    TASKS_ON_TIME = "tasks_on_time", _("Tasks completed on time")
    TARGET_ATTAINMENT = "target_attainment", _("Targets attained")
    RECTIFICATIONS_CLOSED = "rectifications_closed", _("Rectifications closed")
    MANUAL = "manual", _("Scored by reviewers")


class ScoreItem(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("item"), max_length=200)
    weight = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    rule = models.CharField(_("scored by"), max_length=24, choices=ScoreRule.choices)
    guidance = models.CharField(_("scoring guidance"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["scorecard_id", "order", "id"]

    def __str__(self) -> str:
        return self.name


class EvaluationStatus(models.TextChoices):
    SELF = "self", _("Self-assessment")
    REVIEW = "review", _("Reviewer scoring")
    FINAL = "final", _("Final")


class Evaluation(models.Model):
    """One round of a scorecard for a period (2026, 2026Q3, 2026M10)."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE,
                                  related_name="evaluations")
    period = models.CharField(_("period"), max_length=8)
    status = models.CharField(_("status"), max_length=8, choices=EvaluationStatus.choices,
                              default=EvaluationStatus.SELF)
    model_sites = models.ManyToManyField(Agency, blank=True, related_name="model_site_of",
                                         verbose_name=_("model sites"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["scorecard_id", "period"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "period"],
                                    name="evaluation_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} {self.period}"


class Score(models.Model):
    """One item's score for one subject: the rule's measure, or self and reviewer scores."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(ScoreItem, on_delete=models.CASCADE, related_name="scores")
    subject = models.CharField(max_length=16)  # "a<agency id>" or "d<division code>"
    measure = models.FloatField(null=True, blank=True)  # the rule's ratio, 0..1
    self_score = models.DecimalField(_("self-assessment"), max_digits=6, decimal_places=2,
                                     null=True, blank=True)
    self_note = models.CharField(_("self-assessment note"), max_length=500, blank=True)
    review_score = models.DecimalField(_("reviewer's score"), max_digits=6, decimal_places=2,
                                       null=True, blank=True)
    review_note = models.CharField(_("reviewer's note"), max_length=500, blank=True)
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="scores")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "item", "subject"],
                                    name="score_once_per_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.subject}"


class EvaluationReviewer(models.Model):
    """Someone the office names to score a round's items scored by hand: an expert or
    inspector, a leader, or office staff of the plan's area (评审专家). Several reviewers'
    scores of one item are averaged."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE,
                                   related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="evaluation_reviews", verbose_name=_("reviewer"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reviewer of a round")
        verbose_name_plural = _("reviewers of a round")
        ordering = ["evaluation_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "user"],
                                    name="reviewer_once_per_evaluation"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluation}: {self.user}"


class ReviewerScore(models.Model):
    """One reviewer's score of one hand-scored item for one subject, with its basis (评分依据)
    and the evidence it rests on; ``Score.review_score`` is the mean of these."""

    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    value = models.DecimalField(_("reviewer's score"), max_digits=6, decimal_places=2)
    note = models.CharField(_("basis of the score"), max_length=500)
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="reviewer_scores")
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reviewer's score")
        verbose_name_plural = _("reviewers' scores")
        ordering = ["score_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["score", "reviewer"],
                                    name="one_score_per_reviewer"),
        ]

    def __str__(self) -> str:
        return f"{self.score} {self.reviewer}: {self.value}"


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


class Bulletin(models.Model):
    """A 通报 of a plan: a ranking with red and black lists, the office's wording editable
    until it is issued (then it is numbered and frozen)."""

    # A programme's annual round is announced by the programme's office: no plan then.
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="bulletins")
    programme = models.ForeignKey(Programme, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="bulletins")
    evaluation = models.ForeignKey(Evaluation, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="bulletins")
    measure = models.CharField(_("ranked by"), max_length=24, blank=True)
    period = models.CharField(_("period"), max_length=8)
    title = models.CharField(_("title"), max_length=200)
    opening = models.TextField(_("opening"), blank=True)
    praise = models.TextField(_("commended (red list)"), blank=True)
    criticism = models.TextField(_("criticised (black list)"), blank=True)
    requirements = models.TextField(_("next requirements"), blank=True)
    red_count = models.PositiveSmallIntegerField(_("units on the red list"), default=3)
    black_count = models.PositiveSmallIntegerField(_("units on the black list"), default=3)
    issuer_key = models.CharField(max_length=12, blank=True)
    issuer_name = models.CharField(_("issuing office"), max_length=200)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=BulletinStatus.choices,
                              default=BulletinStatus.DRAFT)
    snapshot = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer_key", "year", "number"],
                                    condition=models.Q(number__isnull=False),
                                    name="bulletin_number_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class BriefingIssue(models.Model):
    """One issue of a plan's 工作简报 series (2026年第3期), for a reporting period."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="briefings")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("issue number"))
    period = models.CharField(_("period"), max_length=8)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("briefing issue")
        verbose_name_plural = _("briefing issues")
        ordering = ["plan_id", "-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "year", "number"],
                                    name="briefing_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.year}-{self.number}"
