"""Builders for tests of every app: a small division tree, agencies and users with roles.

Names and codes are real (四川省 / 泸州市 / 泸县 and 湖北省 / 武汉市), so pages look like the product.
"""
from __future__ import annotations

from .models import Agency, AgencyKind, Division, Role, User

TREE = [
    ("51", "四川省", None),
    ("5105", "泸州市", "51"),
    ("510521", "泸县", "5105"),
    ("510521100", "玉蟾街道", "510521"),
    ("510521100001", "玉蟾社区", "510521100"),
    ("510522", "合江县", "5105"),
    ("42", "湖北省", None),
    ("4201", "武汉市", "42"),
    ("420102", "江岸区", "4201"),
]
PASSWORD = "Test-password-2026"


def make_divisions() -> dict[str, Division]:
    """The small tree above, by code; safe to call twice."""
    from .models import LEVEL_BY_LENGTH

    made = {}
    for code, name, parent in TREE:
        made[code], _ = Division.objects.get_or_create(
            code=code, defaults={"name": name, "level": LEVEL_BY_LENGTH[len(code)],
                                 "parent_id": parent})
    return made


def make_agency(name: str, division_code: str, *, kind: str = AgencyKind.GOVERNMENT,
                aliases: tuple[str, ...] = ()) -> Agency:
    from .names import initials

    make_divisions()
    agency, _ = Agency.objects.get_or_create(name=name, division_id=division_code,
                                             defaults={"kind": kind,
                                                       "initials": initials(name)})
    for alias in aliases:
        agency.aliases.get_or_create(name=alias)
    return agency


def make_user(username: str, *, role: str = Role.LIAISON, division_code: str | None = None,
              agencies: tuple[Agency, ...] = (), superuser: bool = False) -> User:
    make_divisions()
    user = User.objects.create_user(username=username, password=PASSWORD, role=role,
                                    division_id=division_code, is_superuser=superuser,
                                    is_staff=superuser or role == Role.ADMIN)
    if agencies:
        user.agencies.set(agencies)
    return user
