from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "shidian.catalogue"
    label = "catalogue"
    verbose_name = _("Pack catalogue")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.core import checks as django_checks

        from . import checks, models

        django_checks.register(checks.check_pack_specs)
        auditlog.register(models.PackInstall)
        auditlog.register(models.InstalledObject)
        auditlog.register(models.InstalledCycle)
        auditlog.register(models.DutyList)
        auditlog.register(models.DutyListItem)
        auditlog.register(models.SelfCheckText)
