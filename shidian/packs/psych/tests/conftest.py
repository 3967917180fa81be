"""Fixtures of the psych pack's tests."""
import pytest

from shidian.packs.psych.testing import make_world


@pytest.fixture
def world(db):
    return make_world()
