"""The API fed by schemathesis from its own OpenAPI schema, as users of every role.

Whatever the request, the answer is never a server error, and a user of the other county (or
an uninvolved unit) never receives anything of the 泸县 民政局's task, report or evidence —
the same secrets the security matrix guards, here against generated requests rather than a
list of routes. New API routes are fuzzed as soon as they appear in the schema.
"""
from __future__ import annotations

import base64

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given
from hypothesis import strategies as st

from shidian.orgs.testing import PASSWORD
from tests.test_security_matrix import SECRETS, outsiders, world  # noqa: F401 (fixture)

from .mutations import fuzz_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go straight to the WSGI handler, whose request signals close database
    connections that are not in autocommit mode: on PostgreSQL that is the test's own
    transaction. Django's test client disconnects the same handler for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema():
    spec = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = WSGIHandler()
    return schema


def operations(schema):
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation is not None:
            found.append(operation)
    return found


def real_ids(world) -> list[str]:
    ids = {str(v) for v in world.api_targets.values()} | {str(v) for v in world.targets.values()}
    return sorted(ids | {str(n) for n in range(1, 6)})


def basic(user) -> dict[str, str]:
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Host": "localhost"}


def call(case, user):
    response = case.call(headers=basic(user))
    return response.status_code, response.content.decode("utf-8", "replace")


@fuzz_settings
@given(data=st.data())
def test_no_request_of_any_role_gets_a_server_error_or_another_scopes_data(api_schema, world,
                                                                           data):
    ops = operations(api_schema)
    assert len(ops) > 20
    operation = data.draw(st.sampled_from(ops), label="operation")
    case = data.draw(operation.as_strategy(), label="case")
    # Generated path ids are mostly strings no route accepts: point most of them at objects
    # that exist (the world's, and small ids every table has), so the checks are reached.
    for name in list(case.path_parameters or {}):
        if data.draw(st.integers(0, 3), label=f"{name} real") > 0:
            case.path_parameters[name] = data.draw(
                st.sampled_from(real_ids(world)), label=name)
    insiders = [world.liaison_civil, world.office]
    user = data.draw(st.sampled_from(insiders + outsiders(world)), label="user")
    status, body = call(case, user)
    assert status < 500, f"{case.method} {case.formatted_path} as {user.username}: {status}"
    if user not in insiders:
        leaked = [s for s in SECRETS if s in body]
        assert not leaked, (f"{case.method} {case.formatted_path} gave {user.username} "
                            f"{leaked}")
