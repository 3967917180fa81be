"""Password validators of the security policy (listed in ``AUTH_PASSWORD_VALIDATORS``).

``ComplexityValidator``: length, character classes, not containing the user name.
``HistoryValidator``: not one of the last N passwords; its ``password_changed`` hook (called by
Django whenever a user's password is saved) keeps the history and the date of the change, and
flags a password set by someone else (an administrator's reset) to be changed at next login.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import PasswordHistory, PasswordState
from .policy import current_actor, policy_get

TOO_SHORT = gettext_lazy("The password must have at least %(min)d characters.")
TOO_FEW_CLASSES = gettext_lazy(
    "The password must mix at least %(min)d of: lower-case letters, upper-case letters, digits, "
    "other characters.")
CONTAINS_USERNAME = gettext_lazy("The password must not contain the user name.")
REUSED = gettext_lazy("The password must differ from your last %(count)d passwords.")


def character_classes(password: str) -> int:
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password)))


class ComplexityValidator:
    def validate(self, password: str, user: Any = None) -> None:
        policy = policy_get()
        errors = []
        if len(password) < policy.min_length:
            errors.append(ValidationError(TOO_SHORT % {"min": policy.min_length},
                                          code="password_too_short"))
        if character_classes(password) < policy.min_classes:
            errors.append(ValidationError(TOO_FEW_CLASSES % {"min": policy.min_classes},
                                          code="password_too_simple"))
        username = (getattr(user, "username", "") or "").lower()
        if len(username) >= 3 and username in password.lower():
            errors.append(ValidationError(CONTAINS_USERNAME, code="password_has_username"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        policy = policy_get()
        return " ".join([TOO_SHORT % {"min": policy.min_length},
                         TOO_FEW_CLASSES % {"min": policy.min_classes}, str(CONTAINS_USERNAME)])


class HistoryValidator:
    def validate(self, password: str, user: Any = None) -> None:
        count = policy_get().history_count
        if user is None or not getattr(user, "pk", None) or count <= 0:
            return
        previous = list(PasswordHistory.objects.filter(user_id=user.pk)
                        .values_list("password", flat=True)[:count])
        if user.password and user.password not in previous:
            previous.insert(0, user.password)
        if any(check_password(password, encoded) for encoded in previous[:count]):
            raise ValidationError(REUSED % {"count": count}, code="password_reused")

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        policy = policy_get()
        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        keep = max(policy.history_count, 1)
        old = list(PasswordHistory.objects.filter(user_id=user.pk)
                   .values_list("pk", flat=True)[keep:])
        if old:
            PasswordHistory.objects.filter(pk__in=old).delete()
        actor = current_actor.get()
        by_other = bool(actor is not None and getattr(actor, "pk", None)
                        and actor.pk != user.pk)
        PasswordState.objects.update_or_create(
            user_id=user.pk, defaults={"changed_at": timezone.now(),
                                       "must_change": by_other and policy.change_after_reset})

    def get_help_text(self) -> str:
        return _("The password must differ from your last %(count)d passwords.") % {
            "count": policy_get().history_count}
