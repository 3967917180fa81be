import pytest

from shidian.reporting.testing import ensure_catalogs, make_world


@pytest.fixture(autouse=True, scope="session")
def _catalogs_compiled():
    ensure_catalogs()


@pytest.fixture(autouse=True)
def _chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


@pytest.fixture
def world(db):
    return make_world()
