"""Fixtures of the packs' tests (messages are asserted in Chinese)."""
import pytest

from shidian.cases.testing import ensure_catalogs


@pytest.fixture(autouse=True, scope="session")
def _catalogs_compiled():
    ensure_catalogs()
