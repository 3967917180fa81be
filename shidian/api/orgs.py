"""API of the orgs app: divisions (read, filter by parent, level or code prefix) and agencies
(scoped list and detail; create, update and aliases for administrators through the orgs
services; unit-name candidates for plan review). Every call goes through ``shidian.orgs.access``;
a ``ShidianError`` becomes ``{code, message, extra}`` (shidian.api.errors)."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs import access, selectors, services
from shidian.orgs.models import Agency, AgencyKind, Division, DivisionLevel, User


class DivisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Division
        fields = ["code", "name", "level", "parent"]


class AgencySerializer(serializers.ModelSerializer):
    division = serializers.CharField(source="division_id")
    aliases = serializers.SerializerMethodField()

    class Meta:
        model = Agency
        fields = ["id", "name", "short_name", "kind", "division", "credit_code", "initials",
                  "is_active", "aliases"]

    def get_aliases(self, agency: Agency) -> list[dict[str, Any]]:
        return [{"id": a.pk, "name": a.name} for a in agency.aliases.all()]


class AgencyWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    division = serializers.CharField(max_length=12)
    kind = serializers.ChoiceField(choices=AgencyKind.choices, default=AgencyKind.GOVERNMENT)
    short_name = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                       default="")
    credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True,
                                        default="")
    is_active = serializers.BooleanField(required=False, default=True)
    aliases = serializers.ListField(child=serializers.CharField(max_length=128),
                                    required=False, default=list)


class AliasSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)


class CandidateSerializer(serializers.Serializer):
    agency = AgencySerializer()
    score = serializers.FloatField()


def _actor(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _invalid(serializer: serializers.Serializer) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, _("The input is not valid."),
                        {"fields": serializer.errors})


def _division(user: User, code: str) -> Division:
    return access.access_division_by_code(user=user, code=code)


class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Divisions in the caller's area. Filters: ``parent`` (code; empty for the top level),
    ``level`` (1 province … 5 village), ``prefix`` (a code prefix: the subtree)."""

    serializer_class = DivisionSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{2,12}"

    @extend_schema(parameters=[
        OpenApiParameter("parent", OpenApiTypes.STR), OpenApiParameter("level", OpenApiTypes.INT),
        OpenApiParameter("prefix", OpenApiTypes.STR)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Division]:
        divisions = access.divisions_visible_to(user=_actor(self.request))
        params = self.request.query_params
        if "parent" in params:
            parent = params["parent"].strip()
            divisions = (divisions.filter(parent_id=parent) if parent
                         else divisions.filter(parent__isnull=True))
        level = params.get("level", "")
        if level:
            if level not in {str(v) for v in DivisionLevel.values}:
                raise ShidianError(ErrorCode.INVALID, _("Levels must be between 1 and 5."),
                                   {"level": level})
            divisions = divisions.filter(level=int(level))
        prefix = params.get("prefix", "").strip()
        if prefix:
            if not prefix.isdigit():
                raise ShidianError(ErrorCode.INVALID, _("A code prefix is digits only."),
                                   {"prefix": prefix})
            divisions = divisions.filter(code__startswith=prefix)
        return divisions.order_by("code")

    def get_object(self) -> Division:
        return _division(_actor(self.request), self.kwargs["code"])


@extend_schema(parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)])
class AgencyViewSet(viewsets.ViewSet):
    """Agencies the caller may see. Filters: ``q`` (name, alias or pinyin initials),
    ``division`` (a code: that subtree). Writes are for administrators, inside their area."""

    lookup_value_regex = r"\d+"

    def _paginated(self, request: Request, queryset: QuerySet[Agency]) -> Response:
        from rest_framework.pagination import LimitOffsetPagination

        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(queryset.prefetch_related("aliases"), request,
                                           view=self)
        return paginator.get_paginated_response(AgencySerializer(page, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR),
                               OpenApiParameter("division", OpenApiTypes.STR)],
                   responses=AgencySerializer(many=True))
    def list(self, request: Request) -> Response:
        user = _actor(request)
        code = request.query_params.get("division", "").strip()
        if code:
            _division(user, code)
        agencies = selectors.agency_list(user=user, query=request.query_params.get("q", ""),
                                         division_code=code)
        return self._paginated(request, agencies)

    @extend_schema(responses=AgencySerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        agency = access.access_agency_by_id(user=_actor(request), agency_id=pk)  # type: ignore
        return Response(AgencySerializer(agency).data)

    @extend_schema(request=AgencyWriteSerializer, responses={201: AgencySerializer})
    def create(self, request: Request) -> Response:
        user = _actor(request)
        access.require_admin(user)
        serializer = AgencyWriteSerializer(data=request.data)
        if not serializer.is_valid():
            raise _invalid(serializer)
        data = serializer.validated_data
        agency = services.agency_create(
            actor=user, name=data["name"], division=_division(user, data["division"]),
            kind=data["kind"], short_name=data["short_name"], credit_code=data["credit_code"],
            aliases=data["aliases"])
        return Response(AgencySerializer(agency).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AgencyWriteSerializer(partial=True), responses=AgencySerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        user = _actor(request)
        access.require_admin(user)
        agency = access.access_agency_for_change(user=user, agency_id=pk)  # type: ignore
        serializer = AgencyWriteSerializer(data=request.data, partial=True)
        if not serializer.is_valid():
            raise _invalid(serializer)
        data = serializer.validated_data
        agency = services.agency_update(
            actor=user, agency=agency, name=data.get("name"),
            division=_division(user, data["division"]) if "division" in data else None,
            kind=data.get("kind"), short_name=data.get("short_name"),
            credit_code=data.get("credit_code"), is_active=data.get("is_active"))
        return Response(AgencySerializer(agency).data)

    @extend_schema(request=AliasSerializer, responses={201: AgencySerializer})
    @action(detail=True, methods=["post"], url_path="aliases")
    def alias_add(self, request: Request, pk: str | None = None) -> Response:
        user = _actor(request)
        access.require_admin(user)
        agency = access.access_agency_for_change(user=user, agency_id=pk)  # type: ignore
        serializer = AliasSerializer(data=request.data)
        if not serializer.is_valid():
            raise _invalid(serializer)
        services.agency_alias_add(actor=user, agency=agency, name=serializer.validated_data[
            "name"])
        return Response(AgencySerializer(agency).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"aliases/(?P<alias_id>\d+)")
    def alias_remove(self, request: Request, pk: str | None = None,
                     alias_id: str | None = None) -> Response:
        user = _actor(request)
        access.require_admin(user)
        agency = access.access_agency_for_change(user=user, agency_id=pk)  # type: ignore
        services.agency_alias_remove(actor=user, agency=agency, alias_id=int(alias_id or 0))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[OpenApiParameter("name", OpenApiTypes.STR, required=True),
                               OpenApiParameter("division", OpenApiTypes.STR),
                               OpenApiParameter("limit", OpenApiTypes.INT)],
                   responses=CandidateSerializer(many=True))
    @action(detail=False, methods=["get"])
    def candidates(self, request: Request) -> Response:
        """Agencies a unit name written in a plan may mean, best first, with a 0..1 score."""
        user = _actor(request)
        name = request.query_params.get("name", "").strip()
        if not name:
            raise ShidianError(ErrorCode.INVALID, _("Give the name to look up."),
                               {"field": "name"})
        code = request.query_params.get("division", "").strip()
        division = _division(user, code) if code else None
        try:
            limit = max(1, min(20, int(request.query_params.get("limit", 5))))
        except ValueError:
            limit = 5
        candidates = selectors.agency_candidates(name=name, division=division, limit=limit * 3)
        visible = set(access.agencies_visible_to(user=user).filter(
            pk__in=[a.pk for a, _ in candidates]).values_list("pk", flat=True))
        found = [(a, s) for a, s in candidates if a.pk in visible][:limit]
        return Response([{"agency": AgencySerializer(a).data, "score": s} for a, s in found])


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("divisions", DivisionViewSet, basename="division")
    router.register("agencies", AgencyViewSet, basename="agency")
