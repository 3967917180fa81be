"""API of the pack catalogue: the packs, creating a programme from one (idempotent on the
client's token), a programme's pack page. Every call goes through ``shidian.catalogue.access``
and its services, as the pages do; a ``ShidianError`` becomes ``{code, message, extra}``."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.catalogue import access, selectors, services
from shidian.core.errors import ErrorCode, ShidianError


def _pack(spec: Any) -> dict[str, Any]:
    return {
        "key": spec.key, "label": {"zh": spec.label.zh, "en": spec.label.en},
        "description": {"zh": spec.description.zh, "en": spec.description.en},
        "domain": spec.domain,
        "adds": [{"zh": a.zh, "en": a.en} for a in spec.adds],
        "plans": [{"key": p.key, "label": p.label.zh, "year": p.year} for p in spec.plans],
        "case_types": list(spec.case_types),
    }


class CreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    division = serializers.CharField(max_length=12, allow_blank=True, required=False,
                                     default="")
    year = serializers.IntegerField(min_value=1990, max_value=2100)
    start_plan = serializers.CharField(max_length=32, required=False, default="")
    token = serializers.CharField(max_length=64)


class PackViewSet(viewsets.ViewSet):
    """The packs a programme can be created from; POST ``{key}/programmes`` creates one."""

    lookup_value_regex = "[A-Za-z0-9_]+"
    serializer_class = CreateSerializer

    def list(self, request: Request) -> Response:
        if not access.can_browse(request.user):
            raise ShidianError(ErrorCode.FORBIDDEN, _("You may not browse the packs."))
        return Response([_pack(spec) for spec in selectors.pack_list()])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        if not access.can_browse(request.user):
            raise ShidianError(ErrorCode.FORBIDDEN, _("You may not browse the packs."))
        return Response(_pack(selectors.pack_get(key=str(pk))))

    def create(self, request: Request) -> Response:
        """POST /api/catalogue/packs/ with ``pack`` and the form's fields."""
        key = str(request.data.get("pack") or "")
        form = CreateSerializer(data=request.data)
        if not form.is_valid():
            raise ShidianError(ErrorCode.INVALID, _("The input is not valid."),
                               {"fields": form.errors})
        data = form.validated_data
        install = services.programme_create_from_pack(
            user=request.user, pack_key=key, name=data["name"],
            division_code=data["division"], year=data["year"], token=data["token"],
            start_plan=data["start_plan"])
        return Response({"programme": install.programme_id, "plan": install.plan_id,
                         "pack": install.pack}, status=status.HTTP_201_CREATED)


class InstallViewSet(viewsets.ViewSet):
    """What a programme got from its pack (by programme id)."""

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        install = access.access_install_by_programme_id(user=request.user, programme_id=pk)
        detail = selectors.install_detail(install=install)
        return Response({
            "programme": install.programme_id, "pack": install.pack, "year": install.year,
            "plan": install.plan_id, "start_plan": install.start_plan,
            "case_programmes": [c.pk for c in detail["case_programmes"]],
            "indicators": [{"id": i.pk, "name": i.name} for i in detail["indicators"]],
            "targets": [{"indicator": t.indicator.name, "comparator": t.comparator,
                         "value": t.value, "deadline": t.deadline, "status": t.status}
                        for t in [*detail["targets"], *detail["milestones"]]],
            "cycles": [{"key": c.key, "label": c.label, "kind": c.kind, "due_day": c.due_day,
                        "plan_cycle": c.is_plan_cycle} for c in detail["cycles"]],
            "lists": [{"key": x.key, "label": x.label,
                       "items": [{"owner": i.owner, "duty": i.duty} for i in x.items.all()]}
                      for x in detail["lists"]],
        })


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("catalogue/packs", PackViewSet, basename="catalogue-packs")
    router.register("catalogue/programmes", InstallViewSet, basename="catalogue-programmes")
