"""The three separated administrators of the demo (三员分立): ``demo_sysadmin`` runs accounts
and agencies, ``demo_security`` the security policy, locks and role grants, ``demo_auditor``
reads the audit trail and the login log. ``demo_admin`` stays the superuser of the laptop demo.

The security administrator is made first (no one may grant that role through the pages before
one exists), then grants the other two roles through the security services, audited. Run twice,
it adds nothing.
"""
from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from shidian.orgs.models import Role, User
from shidian.security.services import account_role_set

from .logins import DEMO_PASSWORD

PEOPLE = [("demo_sysadmin", Role.ADMIN, "系统管理员(三员)"),
          ("demo_security", Role.SECURITY_ADMIN, "安全管理员"),
          ("demo_auditor", Role.AUDIT_ADMIN, "审计管理员")]


@transaction.atomic
def security_demo_load(*, log: Callable[[str], None] = print) -> list[str]:
    added = []
    security = User.objects.filter(username="demo_security").first()
    if security is None:
        security = User(username="demo_security", role=Role.SECURITY_ADMIN,
                        display_name="安全管理员")
        security.set_password(DEMO_PASSWORD)
        security.save()
        added.append(security.username)
    for username, role, display in PEOPLE:
        if User.objects.filter(username=username).exists():
            continue
        user = User(username=username, role=Role.EXPERT, display_name=display)
        user.set_password(DEMO_PASSWORD)
        user.save()
        account_role_set(actor=security, user_id=user.pk, role=role)
        added.append(username)
    if added:
        log("三员:" + "、".join(added))
    return added
