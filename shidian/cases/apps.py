from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "shidian.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.core import checks as django_checks
        from django.core import signals

        from . import checks, models, needtoknow

        django_checks.register(checks.check_packs)
        # A need-to-know case's view is logged once per request (``needtoknow.log_view``).
        signals.request_started.connect(needtoknow.request_started,
                                        dispatch_uid="needtoknow_request_started")
        signals.request_finished.connect(needtoknow.request_finished,
                                         dispatch_uid="needtoknow_request_finished")
        auditlog.register(models.CaseProgramme)
        # The encrypted envelope is left out: its ciphertext says nothing, masks are in ``data``.
        auditlog.register(models.Case, exclude_fields=["pii", "updated_at"])
        auditlog.register(models.CaseDocument)
        auditlog.register(models.PublicNotice)
        auditlog.register(models.NoticeObjection)
        auditlog.register(models.Payment)
        auditlog.register(models.DuplicatePair)
        auditlog.register(models.ImportBatch)
        auditlog.register(models.CaseMember)
        auditlog.register(models.FollowUp, exclude_fields=["data"])  # findings: encrypted
        # Relations (parties, agreements, schedules, scores, referrals, funds).
        auditlog.register(models.Party, exclude_fields=["pii"])
        for model in (models.CaseParty, models.Agreement, models.SchedulePeriod,
                      models.Attendance, models.Assessment, models.CaseTransfer,
                      models.FundEntry):
            auditlog.register(model)
