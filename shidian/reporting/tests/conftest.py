import pytest

from shidian.core.i18n import compile_catalogs
from shidian.reporting.testing import make_world


@pytest.fixture(autouse=True, scope="session")
def _catalogs_compiled():
    """Messages are asserted in Chinese: compile the catalogs, drop any loaded before."""
    if compile_catalogs():
        from django.utils.translation import trans_real

        trans_real._translations = {}
        trans_real._default = None


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    return make_world()
