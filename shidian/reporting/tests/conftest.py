import pytest

from shidian.reporting.testing import ensure_catalogs, make_world


@pytest.fixture(autouse=True, scope="session")
def _catalogs_compiled():
    """Messages are asserted in Chinese: compile the catalogs, drop any loaded before."""
    ensure_catalogs()


@pytest.fixture
def world(db):
    return make_world()
