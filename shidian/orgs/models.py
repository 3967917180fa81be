"""Administrative divisions, agencies (部门/单位) and the people who act for them."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.IntegerChoices):
    PROVINCE = 1, _("Province")
    CITY = 2, _("City")
    COUNTY = 3, _("County")
    TOWNSHIP = 4, _("Township")
    VILLAGE = 5, _("Village")


# Significant digits of a statistical code at each level (GB/T 2260 + NBS township/village).
CODE_LENGTHS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}
LEVEL_BY_LENGTH = {length: level for level, length in CODE_LENGTHS.items()}


class Division(models.Model):
    """An administrative division, keyed by its statistical code without trailing zeros.

    ``code`` holds only the significant digits (``51`` 四川省, ``5105`` 泸州市, ``510521`` 泸县),
    so a subtree is every code that starts with it: roll-ups are a prefix filter, never a walk.
    """

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=DivisionLevel.choices,
                                             db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("parent"))
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        ordering = ["code"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def full_code(self) -> str:
        """The 12-digit statistical code as printed in the NBS tables."""
        return self.code.ljust(12, "0")


class AgencyKind(models.TextChoices):
    PARTY = "party", _("Party committee department")
    GOVERNMENT = "government", _("Government department")
    MASS_ORG = "mass_org", _("Mass organisation")
    INSTITUTION = "institution", _("Public institution")
    ENTERPRISE = "enterprise", _("Enterprise")
    PILOT_SITE = "pilot_site", _("Pilot site")
    OTHER = "other", _("Other")


class Agency(models.Model):
    """A department or unit (部门/单位) of a division, such as 泸州市's 市卫生健康委."""

    name = models.CharField(_("name"), max_length=128)
    short_name = models.CharField(_("short name"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AgencyKind.choices,
                            default=AgencyKind.GOVERNMENT)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="agencies",
                                 verbose_name=_("division"))
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    initials = models.CharField(_("pinyin initials"), max_length=64, blank=True, db_index=True,
                                editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["division_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="agency_unique_name"),
            # A unified social credit code identifies one legal entity (GB 32100).
            models.UniqueConstraint(fields=["credit_code"], condition=~models.Q(credit_code=""),
                                    name="agency_unique_credit_code"),
        ]

    def __str__(self) -> str:
        return self.name


class AgencyAlias(models.Model):
    """Another name an agency goes by in plans (区卫健委 for 区卫生健康委员会)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="aliases",
                               verbose_name=_("agency"))
    name = models.CharField(_("alias"), max_length=128, db_index=True)

    class Meta:
        verbose_name = _("agency alias")
        verbose_name_plural = _("agency aliases")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="alias_unique_per_agency"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OFFICE = "office", _("Plan office")
    LIAISON = "liaison", _("Unit liaison")
    PILOT_SITE = "pilot_site", _("Pilot site")
    CASE_WORKER = "case_worker", _("Case worker")
    EXPERT = "expert", _("Expert / inspector")
    LEADER = "leader", _("Leader")
    ADMIN = "admin", _("Administrator")
    # 三员分立 (MLPS 2.0): the system administrator above runs accounts and agencies; these two
    # see no business data. One role per user, so nobody holds two of the three.
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


class User(AbstractUser):
    """A person with one role and a scope: a division subtree and the agencies they act for.

    ``division`` empty means the whole country (a ministry's office); ``agencies`` are the units
    a liaison reports for. Scope checks live in ``shidian.orgs.access``, nowhere else.
    """

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.LIAISON)
    division = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="users", verbose_name=_("division scope"))
    agencies = models.ManyToManyField(Agency, blank=True, related_name="users",
                                      verbose_name=_("agencies"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.username
