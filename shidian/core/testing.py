"""Test helpers shared by every app."""
from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with the cheapest parameters: real Argon2 hashes, at a test's speed.

    Production keeps Django's defaults (about 0.1 s per hash, by design); a suite that creates
    hundreds of users cannot afford that.
    """

    time_cost = 1
    memory_cost = 64
    parallelism = 1


def reload_catalogs() -> None:
    """Compile the translation catalogs and forget any loaded before.

    Tests assert Chinese text; in a fresh clone an early import may have loaded the catalogs
    before their .mo files existed, and Python caches each .mo file by its path.
    """
    import gettext

    from asgiref.local import Local
    from django.utils.translation import trans_real

    from shidian.core.i18n import compile_catalogs

    compile_catalogs()
    gettext._translations.clear()  # type: ignore[attr-defined]
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = Local()
