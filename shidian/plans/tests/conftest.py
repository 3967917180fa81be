"""Fixtures of the plans tests: the 武汉市 psychological-services plan (seed 12f) and its units."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from shidian.orgs.models import AgencyKind, Role
from shidian.orgs.testing import make_agency, make_divisions, make_user

SEED_DIR = Path(__file__).resolve().parents[2] / "demo" / "seed_plans"
WUHAN = "4201"
# The agencies of 武汉市 that seed 12f names, by their full names (the plan abbreviates them).
WUHAN_AGENCIES = [
    ("武汉市卫生健康委员会", AgencyKind.GOVERNMENT),
    ("中共武汉市委政法委员会", AgencyKind.PARTY),
    ("武汉市教育局", AgencyKind.GOVERNMENT),
    ("武汉市民政局", AgencyKind.GOVERNMENT),
    ("武汉市司法局", AgencyKind.GOVERNMENT),
    ("武汉市公安局", AgencyKind.GOVERNMENT),
    ("中共武汉市委宣传部", AgencyKind.PARTY),
    ("武汉市信访局", AgencyKind.GOVERNMENT),
    ("武汉市人力资源和社会保障局", AgencyKind.GOVERNMENT),
]


def gold(name: str) -> dict:
    return json.loads((SEED_DIR / f"{name}.gold.json").read_text(encoding="utf-8"))


def seed_text(name: str) -> str:
    return (SEED_DIR / f"{name}.txt").read_text(encoding="utf-8")


@pytest.fixture(autouse=True, scope="session")
def _catalogs():
    from shidian.plans.testing import fresh_catalogs

    fresh_catalogs()


@pytest.fixture
def wuhan(db):
    make_divisions()
    return {name: make_agency(name, WUHAN, kind=kind) for name, kind in WUHAN_AGENCIES}


@pytest.fixture
def office(db):
    return make_user("wh-office", role=Role.OFFICE, division_code=WUHAN)


@pytest.fixture
def programme(office):
    from shidian.plans.services import programme_create

    from shidian.orgs.models import Division

    return programme_create(user=office, name="社会心理服务体系建设试点", domain="社会心理服务体系",
                            division=Division.objects.get(code=WUHAN))


@pytest.fixture
def wuhan_plan(office, programme, wuhan):
    """Seed 12f imported from its gold decomposition (the parser's contract)."""
    from shidian.orgs.models import Division
    from shidian.plans.services import plan_create_from_parsed

    return plan_create_from_parsed(user=office, programme=programme,
                                   division=Division.objects.get(code=WUHAN),
                                   parsed=gold("12f-wuhan-psych"),
                                   source_text=seed_text("12f-wuhan-psych"),
                                   source_name="12f-wuhan-psych.txt")
