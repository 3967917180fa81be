from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "shidian.oversight"
    label = "oversight"
    verbose_name = _("Oversight")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.core import checks as django_checks

        from . import checks, models

        django_checks.register(checks.check_holiday_calendar)
        auditlog.register(models.OversightRule)
        # A robot's address and secret are encrypted; their ciphertext says nothing.
        auditlog.register(models.Webhook, exclude_fields=["url_token", "secret_token"])
        auditlog.register(models.SupervisionNotice, m2m_fields={"tasks"})
        auditlog.register(models.NoticeReply, m2m_fields={"evidence"})
        auditlog.register(models.InspectionRound, m2m_fields={"members"})
        auditlog.register(models.InspectionVisit)
        auditlog.register(models.Finding)
        auditlog.register(models.FindingPhoto)
        auditlog.register(models.Rectification, m2m_fields={"evidence"})
        auditlog.register(models.Scorecard)
        auditlog.register(models.ScoreItem)
        auditlog.register(models.Evaluation, m2m_fields={"model_sites"})
        auditlog.register(models.Score)
        auditlog.register(models.EvaluationReviewer)
        auditlog.register(models.ReviewerScore, m2m_fields={"evidence"})
        auditlog.register(models.Bulletin)
        auditlog.register(models.BriefingIssue)
