"""Reads of the catalogue: the packs on disk, and what a programme got from its pack."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shidian.cases.definitions import load_pack, pack_dirs
from shidian.core.errors import not_found

from .models import PackInstall
from .packs import PackSpec, load_spec, packs_available


@dataclass(frozen=True)
class PackRow:
    key: str
    label_zh: str
    problems: int


def pack_rows() -> list[PackRow]:
    """Every pack folder on disk with its Chinese name and its number of problems (fresh from
    disk: ``shidian packs`` is how one checks a pack just added)."""
    rows = []
    for path in pack_dirs():
        spec, problems = load_spec(path)
        case_pack, case_problems = load_pack(path)
        key = spec.key if spec else (case_pack.key if case_pack else path.name)
        label = spec.label.zh if spec else (case_pack.label.zh if case_pack else "")
        rows.append(PackRow(key=key, label_zh=label, problems=len(problems) + len(case_problems)))
    return sorted(rows, key=lambda r: r.key)


def pack_list() -> list[PackSpec]:
    """The packs a programme can be created from (those without problems), by key."""
    return list(packs_available().values())


def pack_get(*, key: str) -> PackSpec:
    try:
        return packs_available()[key]
    except KeyError:
        raise not_found("pack") from None


def install_counts() -> dict[str, int]:
    """How many programmes were created from each pack (not scoped: a count, no names)."""
    from django.db.models import Count

    return dict(PackInstall.objects.values("pack").annotate(n=Count("pk"))
                .values_list("pack", "n"))


def installs_by_pack(*, installs: Any) -> dict[str, list[PackInstall]]:
    """The programmes a user may open, grouped by pack, newest first (one query)."""
    grouped: dict[str, list[PackInstall]] = {}
    for install in installs.select_related("programme", "programme__division").order_by(
            "-created_at", "-pk"):
        grouped.setdefault(install.pack, []).append(install)
    return grouped


def install_detail(*, install: PackInstall) -> dict[str, Any]:
    """What a programme got from its pack, for its pack page (a handful of queries)."""
    from shidian.cases.models import CaseProgramme
    from shidian.indicators.models import DataSet, Indicator, Target

    by_kind: dict[str, dict[str, int]] = {}
    for kind, key, object_id in install.installed.values_list("kind", "key", "object_id"):
        by_kind.setdefault(kind, {})[key] = object_id
    indicators = list(Indicator.objects.filter(pk__in=by_kind.get("indicator", {}).values())
                      .order_by("name"))
    targets = list(Target.objects.filter(pk__in=[*by_kind.get("target", {}).values(),
                                                 *by_kind.get("milestone", {}).values()])
                   .select_related("indicator", "division").order_by("indicator_id",
                                                                     "deadline"))
    lists = list(install.lists.prefetch_related("items"))
    return {
        "spec": packs_available().get(install.pack),
        "case_programmes": list(CaseProgramme.objects.filter(
            pk__in=by_kind.get("case_programme", {}).values())),
        "data_sets": list(DataSet.objects.filter(pk__in=by_kind.get("data_set", {}).values())
                          .order_by("name")),
        "indicators": indicators,
        "targets": [t for t in targets if t.pk in set(by_kind.get("target", {}).values())],
        "milestones": [t for t in targets if t.pk in set(by_kind.get("milestone", {}).values())],
        "cycles": list(install.cycles.all()),
        "lists": lists,
        "oversight": getattr(install.plan, "oversight_rule", None) if install.plan else None,
    }
