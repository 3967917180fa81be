from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "shidian.reporting"
    label = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.ReportingCycle)
        auditlog.register(models.ExtraCycle)
        auditlog.register(models.ProgressReport, m2m_fields={"evidence"})
        auditlog.register(models.Evidence)
