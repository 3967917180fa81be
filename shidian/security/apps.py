from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "shidian.security"
    label = "security"
    verbose_name = _("Security")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import chain, checks, models  # noqa: F401  (checks register themselves)

        chain.connect()
        auditlog.register(models.SecurityPolicy)
        auditlog.register(models.PasswordState)
        auditlog.register(models.TotpDevice, exclude_fields=["secret", "last_step"])
