"""Selection of pilot sites: a call (申报通知) with categories, quotas, conditions and a scoring
sheet; applications with their answers and documents; expert reviews; the pilot sites chosen.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shidian.orgs.models import Agency, Division
from shidian.plans.models import Plan, Programme


class Averaging(models.TextChoices):
    MEAN = "mean", _("Plain mean of the reviewers' totals")
    TRIMMED = "trimmed", _("Drop the highest and the lowest total, then the mean")


class Call(models.Model):
    """A call for applications (申报通知) of a programme's plan."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="calls",
                                  verbose_name=_("programme"))
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="calls",
                             verbose_name=_("plan"))
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("division"))
    title = models.CharField(_("title"), max_length=300)
    notice = models.TextField(_("notice text"), blank=True)
    applicant_kinds = models.JSONField(_("applicant kinds"), default=list, blank=True)
    # Kinds whose applications go straight to the issuing office (seed 02: 行业…可单独直接报送).
    direct_kinds = models.JSONField(_("kinds that apply directly"), default=list, blank=True)
    deadline = models.DateTimeField(_("application deadline"))
    endorse_by = models.DateTimeField(_("provinces forward by"))
    pilot_starts_on = models.DateField(_("pilot starts"), null=True, blank=True)
    pilot_ends_on = models.DateField(_("pilot ends"), null=True, blank=True)
    averaging = models.CharField(_("averaging rule"), max_length=16, choices=Averaging.choices,
                                 default=Averaging.TRIMMED)
    trim_from = models.PositiveSmallIntegerField(
        _("drop highest and lowest from this many reviewers"), default=5)
    is_open = models.BooleanField(_("published"), default=False)
    experts = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                     verbose_name=_("experts"))
    # The checks of the allocation table against its totals and the text (planparse).
    quota_checks = models.JSONField(_("quota checks"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call for applications")
        verbose_name_plural = _("calls for applications")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Category(models.Model):
    """A kind of pilot with its own places (分配表 column: 农村基层团组织建设试点 · 县级团委)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="categories")
    order = models.PositiveIntegerField(default=0)
    group = models.CharField(_("group"), max_length=200, blank=True)
    name = models.CharField(_("category"), max_length=200)
    # The programme plan's tasks a site of this category takes on (its task book).
    task_ids = models.JSONField(_("tasks"), default=list, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["call", "order"]
        constraints = [models.UniqueConstraint(fields=["call", "group", "name"],
                                               name="selection_category_unique")]

    def __str__(self) -> str:
        return f"{self.group} · {self.name}" if self.group else self.name


class Quota(models.Model):
    """How many sites of a category a region may have (a cell of the 分配表)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="quotas")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="quotas")
    region = models.CharField(_("region"), max_length=64)
    # The province the region is; empty for 中央企业, 全国铁道 and the like (they apply directly).
    province = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("province"))
    amount = models.PositiveIntegerField(_("places"))

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["category__order", "id"]
        constraints = [models.UniqueConstraint(fields=["category", "region"],
                                               name="selection_quota_unique")]

    def __str__(self) -> str:
        return f"{self.region} {self.category}: {self.amount}"


class ConditionKind(models.TextChoices):
    COMPUTED = "computed", _("Checked from a figure")
    DECLARED = "declared", _("Declared by the applicant")


class Condition(models.Model):
    """An eligibility condition (试点对象条件), for every category or one."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="conditions")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="conditions")
    order = models.PositiveIntegerField(default=0)
    text = models.CharField(_("condition"), max_length=500)
    kind = models.CharField(_("kind"), max_length=16, choices=ConditionKind.choices)
    # computed: the figure the applicant gives and the rule that checks it (youth >= 30)
    field_name = models.CharField(_("field"), max_length=40, blank=True)
    field_label = models.CharField(_("figure asked"), max_length=200, blank=True)
    rule = models.CharField(_("rule"), max_length=300, blank=True)
    # declared: whether a supporting document must be attached
    needs_document = models.BooleanField(_("document required"), default=False)

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["call", "order", "id"]

    def __str__(self) -> str:
        return self.text


class ScoreItem(models.Model):
    """A line of the scoring sheet (评分表): scored 0..max_score, weighted."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="score_items")
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(_("item"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    max_score = models.DecimalField(_("maximum score"), max_digits=6, decimal_places=2,
                                    default=100)

    class Meta:
        verbose_name = _("scoring item")
        verbose_name_plural = _("scoring items")
        ordering = ["call", "order", "id"]

    def __str__(self) -> str:
        return self.name


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for the province")
    RETURNED = "returned", _("Returned for changes")
    FORWARDED = "forwarded", _("Forwarded for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not selected")


class Application(models.Model):
    """An agency's application (申报书) to a call, for one category and region."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="applications",
                               verbose_name=_("applicant"))
    kind = models.CharField(_("applicant kind"), max_length=32, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT,
                                 related_name="applications", verbose_name=_("category"))
    region = models.CharField(_("region"), max_length=64)
    # The province that forwards it; empty when it goes straight to the issuing office.
    province = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("province"))
    title = models.CharField(_("project title"), max_length=300)
    summary = models.TextField(_("summary of the proposal"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    forwarded_at = models.DateTimeField(_("forwarded at"), null=True, blank=True)
    forwarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    return_reason = models.CharField(_("reason for return"), max_length=500, blank=True)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2, null=True,
                                blank=True)
    reviews_counted = models.PositiveSmallIntegerField(_("reviews counted"), default=0)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    over_quota = models.BooleanField(_("approved over the quota"), default=False)
    override_reason = models.CharField(_("reason for exceeding the quota"), max_length=500,
                                       blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["call", "category__order", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "agency"],
                                               name="selection_one_application_per_agency")]
        indexes = [models.Index(fields=["call", "status"])]

    def __str__(self) -> str:
        return f"{self.agency}: {self.title}"


class ConditionAnswer(models.Model):
    """The applicant's answer to a condition: a figure, or a declaration with its document."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="answers")
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="answers")
    value = models.DecimalField(_("figure"), max_digits=14, decimal_places=2, null=True,
                                blank=True)
    declared = models.BooleanField(_("declared"), default=False)
    document = models.ForeignKey("ApplicationDocument", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["application", "condition"],
                                               name="selection_answer_unique")]

    def __str__(self) -> str:
        return f"{self.application_id}/{self.condition_id}"


def document_path(instance: ApplicationDocument, filename: str) -> str:
    return f"selection/{instance.application_id}/{instance.sha256[:2]}/{instance.sha256}"


class ApplicationDocument(models.Model):
    """A file of the application (申报书, 证明材料), kept once per application by its digest."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="documents")
    file = models.FileField(upload_to=document_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")
        ordering = ["uploaded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "sha256"],
                                               name="selection_document_once")]

    def __str__(self) -> str:
        return self.original_name


class ReviewStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Waiting for the declaration")
    DECLARED = "declared", _("No conflict declared")
    EXCLUDED = "excluded", _("Excluded (conflict of interest)")
    SCORED = "scored", _("Scored")


class ReviewAssignment(models.Model):
    """An expert asked to review one application. The expert sees the application only after
    declaring no conflict of interest; an expert of the applicant's own unit is excluded."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="reviews")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="selection_reviews")
    status = models.CharField(_("status"), max_length=16, choices=ReviewStatus.choices,
                              default=ReviewStatus.ASSIGNED)
    # Why the expert may be close to the applicant (same division), shown at the declaration.
    relation = models.CharField(_("relation to the applicant"), max_length=200, blank=True)
    declaration = models.CharField(_("declaration"), max_length=500, blank=True)
    declared_at = models.DateTimeField(_("declared at"), null=True, blank=True)
    total = models.DecimalField(_("total"), max_digits=7, decimal_places=2, null=True,
                                blank=True)
    comment = models.TextField(_("comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["application", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "expert"],
                                               name="selection_review_once")]

    def __str__(self) -> str:
        return f"{self.expert} → {self.application_id}"


class ReviewScore(models.Model):
    review = models.ForeignKey(ReviewAssignment, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(ScoreItem, on_delete=models.CASCADE, related_name="+")
    value = models.DecimalField(_("score"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [models.UniqueConstraint(fields=["review", "item"],
                                               name="selection_score_once")]

    def __str__(self) -> str:
        return f"{self.item}: {self.value}"


class PilotSite(models.Model):
    """An approved application: the pilot site, its own plan (the task book) and reporting."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT,
                                       related_name="site")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="sites")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="pilot_sites")
    plan = models.OneToOneField(Plan, on_delete=models.PROTECT, related_name="pilot_site",
                                verbose_name=_("task book plan"))
    number = models.CharField(_("task book number"), max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pilot site")
        verbose_name_plural = _("pilot sites")
        ordering = ["call", "number"]
        constraints = [models.UniqueConstraint(fields=["call", "number"],
                                               name="selection_site_number_unique")]

    def __str__(self) -> str:
        return f"{self.number} {self.agency}"
