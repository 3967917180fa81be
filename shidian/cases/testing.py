"""Builders for tests of the case engine and its packs: ID numbers, households, workers.

ID numbers are generated with a valid check digit (GB 11643) for the 泸县 region of the
orgs test tree; households live in its village 玉蟾社区 (510521100001) or in a second village of
合江县 added here, so scope tests have a neighbour to be kept out of.
"""
from __future__ import annotations

import datetime as dt
import itertools
from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import make_password

from shidian.core import crypto
from shidian.orgs.models import Division, Role, User
from shidian.orgs.testing import PASSWORD, make_divisions

from .models import CaseProgramme

VILLAGE = "510521100001"
TOWNSHIP = "510521100"
COUNTY = "510521"
OTHER_TOWNSHIP = "510522100"
OTHER_VILLAGE = "510522100001"
_serial = itertools.count(1)


def make_case_divisions() -> None:
    """The orgs test tree plus a township and village in 合江县 (510522)."""
    make_divisions()
    Division.objects.get_or_create(code=OTHER_TOWNSHIP, defaults={
        "name": "合江镇", "level": 4, "parent_id": "510522"})
    Division.objects.get_or_create(code=OTHER_VILLAGE, defaults={
        "name": "城关社区", "level": 5, "parent_id": OTHER_TOWNSHIP})


def id_number(*, born: dt.date = dt.date(1960, 5, 1), region: str = COUNTY,
              serial: int | None = None, female: bool = False) -> str:
    """A valid 18-digit ID number; a fresh serial each call unless given."""
    n = next(_serial) if serial is None else serial
    seq = (n % 500) * 2 + (0 if female else 1)
    return crypto.id_number_make(f"{region}{born:%Y%m%d}{seq:03d}")


def household(**overrides: Any) -> dict[str, Any]:
    """A housing household as a clerk would enter it: 低保户, two members, in 玉蟾社区."""
    values: dict[str, Any] = {
        "head_name": "王德明",
        "head_id_number": id_number(born=dt.date(1958, 3, 12)),
        "village": VILLAGE,
        "phone": "13800001111",
        "members": [
            {"name": "李秀英", "relation": "spouse",
             "id_number": id_number(born=dt.date(1961, 7, 2), female=True)},
            {"name": "王小军", "relation": "child", "id_number": id_number(born=dt.date(1990,
                                                                                  1, 20))},
        ],
        "poverty_categories": ["dibao"],
        "area_before": "48",
        "bank_name": "泸县农村信用社",
        "bank_account": "6214670100012345678",
    }
    values.update(overrides)
    return values


def make_programme(*, name: str = "2025年农村危房改造", table: str = "shandong-2016",
                   year: int = 2025, division: str = "51",
                   params: dict[str, Any] | None = None) -> CaseProgramme:
    make_case_divisions()
    return CaseProgramme.objects.create(name=name, case_type="housing", division_id=division,
                                        year=year, table=table, params=params or {})


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return make_password(PASSWORD)  # hashed once: Argon2 per user would slow every test


def make_worker(username: str, *, role: str = Role.CASE_WORKER,
                division_code: str | None = VILLAGE) -> User:
    """A user who logs in with ``shidian.orgs.testing.PASSWORD``."""
    make_case_divisions()
    user, _created = User.objects.get_or_create(username=username, defaults={
        "password": _password_hash(), "role": role, "division_id": division_code,
        "display_name": username})
    return user


def make_workers() -> dict[str, User]:
    """Clerks at each level of 泸县 plus a neighbour village's clerk and a county office."""
    return {
        "village": make_worker("cun", division_code=VILLAGE),
        "township": make_worker("zhen", division_code=TOWNSHIP),
        "county": make_worker("xian", division_code=COUNTY),
        "office": make_worker("xianban", role=Role.OFFICE, division_code=COUNTY),
        "neighbour": make_worker("gebi", division_code=OTHER_VILLAGE),
        "liaison": make_worker("lianluo", role=Role.LIAISON, division_code=COUNTY),
    }


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18"
       b"\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def ensure_catalogs() -> None:
    """Compile the translation catalogs and forget those loaded before (tests read Chinese)."""
    import gettext

    from asgiref.local import Local
    from django.utils.translation import trans_real

    from shidian.core.i18n import compile_catalogs

    if not compile_catalogs():
        return
    gettext._translations.clear()  # type: ignore[attr-defined]
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = Local()
