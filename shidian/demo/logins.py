"""The demo users and their passwords, printed when the embedded server starts."""
from __future__ import annotations

# Demo passwords are public by design: the demo is for a laptop, never for production.
DEMO_PASSWORD = "Shidian@2026"


def demo_logins() -> list[tuple[str, str, str]]:
    """(user name, password, role) of every demo user present in the database."""
    from django.db import DatabaseError

    from shidian.orgs.models import User

    try:
        users = list(User.objects.filter(username__startswith="demo_").order_by("role", "username"))
    except DatabaseError:
        return []
    return [(u.username, DEMO_PASSWORD, f"{u.get_role_display()} · {u}") for u in users]
