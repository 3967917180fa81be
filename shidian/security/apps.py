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
        from django.contrib.auth.signals import user_logged_in

        from .middleware import on_login

        user_logged_in.connect(on_login, dispatch_uid="shidian-security-login")
        auditlog.register(models.SecurityPolicy)
        auditlog.register(models.PasswordState)
        auditlog.register(models.TotpDevice, exclude_fields=["secret", "last_step"])
        # Every redaction of an audit record is itself in the trail (and so sealed).
        auditlog.register(models.AuditRedaction)
