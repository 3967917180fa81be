from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "shidian.indicators"
    label = "indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # Definitions are audited per object. Data values keep their own history table
        # (DataValueHistory), written in bulk by the entry services.
        auditlog.register(models.Disaggregation)
        auditlog.register(models.DisaggregationOption)
        auditlog.register(models.DataElement)
        auditlog.register(models.DataSet, m2m_fields={"agencies"})
        auditlog.register(models.DataSetElement)
        auditlog.register(models.ValidationRule)
        auditlog.register(models.Indicator)
        auditlog.register(models.Target)
