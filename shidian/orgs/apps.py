from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "shidian.orgs"
    label = "orgs"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.Agency)
        auditlog.register(models.AgencyAlias)
        auditlog.register(models.User, exclude_fields=["password", "last_login"],
                          m2m_fields={"agencies"})
