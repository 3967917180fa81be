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
