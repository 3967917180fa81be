from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "shidian.plans"
    label = "plans"
    verbose_name = _("Plans")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.Programme)
        auditlog.register(models.Plan, exclude_fields=["source_text", "parsed"])
        auditlog.register(models.Phase)
        auditlog.register(models.Task)
        auditlog.register(models.TaskUnit)
        # Publishing is recorded (who, when, which number); the snapshot itself is the record.
        auditlog.register(models.PlanVersion, exclude_fields=["snapshot"])
        auditlog.register(models.PlanFinding)
