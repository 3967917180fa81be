import pytest

from shidian.reporting.testing import ensure_catalogs


@pytest.fixture(autouse=True, scope="session")
def _catalogs():
    ensure_catalogs()


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The process cache outlives a test's database: a security policy another test saved (and
    cached) must not ask these users for a second factor."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    from shidian.selection.testing import make_selection_world

    return make_selection_world()
