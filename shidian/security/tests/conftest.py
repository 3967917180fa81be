"""The security policy is cached across requests: no test may leave its policy to the next."""
from __future__ import annotations

import pytest

from shidian.security.policy import policy_forget


@pytest.fixture(autouse=True)
def _policy_forgotten():
    policy_forget()
    yield
    policy_forget()
