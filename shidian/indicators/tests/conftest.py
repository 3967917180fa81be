"""Fixtures of the indicators tests (builders in ``shidian.indicators.testing``)."""
from __future__ import annotations

import pytest

from shidian.indicators.testing import World, build_tree, make_world

__all__ = ["World", "build_tree"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Argon2 is right for production and slow for a hundred test users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    return make_world()
