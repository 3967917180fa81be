"""API of the indicators app: data sets and their values (read and enter), completeness,
indicator drill-downs and target attainment.

Every call goes through ``shidian.indicators.access`` and the indicators services, exactly
as the pages do: a township clerk enters only its own divisions' values, a county reads its
subtree; missing and forbidden answer 404 alike. A ``ShidianError`` becomes
``{code, message, extra}`` (shidian.api.errors).
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.core.periods import parse_period
from shidian.indicators import access, selectors, services
from shidian.indicators.models import DataSet

PERIOD = OpenApiParameter("period", str, description="2021, 2021H1, 2021Q3, 2021M06, 2021W23")
DIVISION = OpenApiParameter("division", str, description="division code (significant digits)")
AREA = OpenApiParameter("area", str, description="division code; empty: the top of your scope")


class DataSetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    period_type = serializers.CharField()
    division = serializers.CharField(source="division_id", allow_null=True)
    level = serializers.IntegerField(allow_null=True)
    due_days = serializers.IntegerField()
    expiry_days = serializers.IntegerField(allow_null=True)
    elements = serializers.SerializerMethodField()

    def get_elements(self, data_set: DataSet) -> list[dict[str, Any]]:
        return [{"key": f.key, "name": f.label, "value_type": f.element.value_type,
                 "unit": f.element.unit} for f in services.data_set_fields(data_set)]


class ValuesWriteSerializer(serializers.Serializer):
    division = serializers.CharField(max_length=12)
    period = serializers.CharField(max_length=8)
    values = serializers.DictField(child=serializers.CharField(allow_blank=True),
                                   help_text='{"rooms": "3", "households.poor": "12"}; '
                                             'an empty text clears a value')


def _invalid(errors: Any) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, _("The input is not valid."), {"errors": errors})


def _param(request: Request, name: str) -> str:
    return (request.query_params.get(name) or "").strip()


class DataSetViewSet(viewsets.ViewSet):
    """Data sets the user can see; their forms' values; their completeness."""

    serializer_class = DataSetSerializer

    def list(self, request: Request) -> Response:
        data_sets = access.data_sets_visible_to(user=request.user).order_by("name")
        return Response(DataSetSerializer(data_sets, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        data_set = access.access_data_set_by_id(user=request.user, data_set_id=pk)
        return Response(DataSetSerializer(data_set).data)

    @extend_schema(parameters=[DIVISION, PERIOD])
    @action(detail=True, methods=["get"])
    def values(self, request: Request, pk: str | None = None) -> Response:
        """The values of one form (data set × division × period) the user may read."""
        data_set = access.access_data_set_by_id(user=request.user, data_set_id=pk)
        division = access.access_division_for_read(user=request.user,
                                                   code=_param(request, "division"))
        if division is None or not access.data_set_assigns(data_set, division):
            raise not_found("division")
        period = parse_period(_param(request, "period"))
        form = selectors.entry_form(data_set=data_set, division=division, period=period)
        return Response({
            "division": division.code, "period": period.id, "locked": form.locked,
            "due": form.due, "reported": form.complete is not None,
            "values": {row.field.key: row.value for row in form.rows},
        })

    @extend_schema(request=ValuesWriteSerializer)
    @values.mapping.post
    def enter(self, request: Request, pk: str | None = None) -> Response:
        """Save one form; the same checks, history and roll-up as the entry page."""
        data_set = access.access_data_set_by_id(user=request.user, data_set_id=pk)
        payload = ValuesWriteSerializer(data=request.data)
        if not payload.is_valid():
            raise _invalid(payload.errors)
        division = access.access_division_for_entry(
            user=request.user, data_set=data_set, code=payload.validated_data["division"])
        result = services.values_save(user=request.user, data_set=data_set, division=division,
                                      period=payload.validated_data["period"],
                                      values=payload.validated_data["values"], source="api")
        return Response({"changed": result.changed, "warnings": result.warnings})

    @extend_schema(parameters=[AREA, PERIOD])
    @action(detail=True, methods=["get"])
    def completeness(self, request: Request, pk: str | None = None) -> Response:
        data_set = access.access_data_set_by_id(user=request.user, data_set_id=pk)
        area = access.access_division_for_read(user=request.user, code=_param(request, "area"))
        period = parse_period(_param(request, "period"))
        grid = selectors.completeness(data_set=data_set, periods=[period],
                                      area_code=area.code if area else "")
        rows = [*grid.rows, grid.total]
        return Response([{"code": r.code, "name": r.name, "expected": r.cells[0].expected,
                          "actual": r.cells[0].actual, "on_time": r.cells[0].on_time}
                         for r in rows])


class IndicatorViewSet(viewsets.ViewSet):
    """Indicator definitions and their precomputed values by division."""

    def list(self, request: Request) -> Response:
        indicators = access.indicators_visible_to(user=request.user).filter(status="active")
        return Response([{"id": i.pk, "name": i.name, "numerator": i.numerator,
                          "denominator": i.denominator, "factor": i.factor,
                          "decimals": i.decimals, "unit": i.unit} for i in indicators])

    @extend_schema(parameters=[AREA, PERIOD])
    @action(detail=True, methods=["get"])
    def values(self, request: Request, pk: str | None = None) -> Response:
        """The area's value and each child division's (a drill-down)."""
        indicator = access.access_indicator_by_id(user=request.user, indicator_id=pk)
        area = access.access_division_for_read(user=request.user, code=_param(request, "area"))
        period = parse_period(_param(request, "period"))
        own, children = selectors.indicator_drilldown(indicator=indicator, period=period,
                                                      code=area.code if area else "")
        return Response([{"code": r.code, "name": r.name, "numerator": r.numerator,
                          "denominator": r.denominator, "value": r.value}
                         for r in [own, *children]])


class TargetViewSet(viewsets.ViewSet):
    """Confirmed targets and their attainment at each division the user may read."""

    @action(detail=True, methods=["get"])
    def attainment(self, request: Request, pk: str | None = None) -> Response:
        target = access.access_target_by_id(user=request.user, target_id=pk)
        board = selectors.target_board(target=target)
        rows = [r for r in board.rows if access.readable_code(user=request.user, code=r.code)
                or r.code == (target.division_id or "")]
        return Response({
            "indicator": target.indicator.name, "comparator": target.comparator,
            "value": target.value, "deadline": target.deadline,
            "rule": selectors.projection_rule(),
            "divisions": [{"code": r.code, "name": r.name, "current": r.current,
                           "projected": r.projected, "standing": r.standing,
                           "rank": r.rank} for r in rows],
        })


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("indicators/data-sets", DataSetViewSet, basename="indicator-data-sets")
    router.register("indicators/indicators", IndicatorViewSet, basename="indicators")
    router.register("indicators/targets", TargetViewSet, basename="indicator-targets")
