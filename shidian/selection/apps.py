from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelectionConfig(AppConfig):
    name = "shidian.selection"
    label = "selection"
    verbose_name = _("Pilot-site selection")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.Call, m2m_fields={"experts"})
        auditlog.register(models.Category)
        auditlog.register(models.Quota)
        auditlog.register(models.Condition)
        auditlog.register(models.ScoreItem)
        auditlog.register(models.Application)
        auditlog.register(models.ConditionAnswer)
        auditlog.register(models.ApplicationDocument)
        auditlog.register(models.ReviewAssignment)
        auditlog.register(models.ReviewScore)
        auditlog.register(models.PilotSite)
