"""API of the case engine: programmes and their progress, cases (list, register, change, act,
reveal a full number), notices and duplicate pairs.

Every call goes through ``shidian.cases.access`` and the cases services exactly as the pages
do: a village clerk sees the village's cases, a county its subtree; missing and forbidden
answer 404 alike; numbers are masked unless revealed (and every reveal is logged). A
``ShidianError`` becomes ``{code, message, extra}`` (shidian.api.errors).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.cases import access, dedup, selectors, services
from shidian.cases.definitions import case_type_get
from shidian.cases.models import Case, PairStatus, PublicNotice
from shidian.core.errors import ErrorCode, ShidianError

PAGE_SIZE = 100
STAGE = OpenApiParameter("stage", str, description="stage key of the case type")
DIVISION = OpenApiParameter("division", str, description="division code prefix")
QUERY = OpenApiParameter("q", str, description="a name, or an ID number (searched by hash)")


def _invalid(errors: Any) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, _("The input is not valid."), {"errors": errors})


def _param(request: Request, name: str) -> str:
    return (request.query_params.get(name) or "").strip()


class ProgrammeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    case_type = serializers.CharField()
    division = serializers.CharField(source="division_id", allow_null=True)
    year = serializers.IntegerField()
    table = serializers.CharField()
    params = serializers.DictField()
    is_open = serializers.BooleanField()


class CaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    programme = serializers.IntegerField(source="programme_id")
    case_type = serializers.CharField()
    division = serializers.CharField(source="division_id")
    stage = serializers.CharField()
    stage_label = serializers.SerializerMethodField()
    due_on = serializers.DateField(allow_null=True)
    outcome = serializers.CharField()
    subject_name = serializers.CharField()
    subject_id_masked = serializers.CharField()
    data = serializers.DictField(help_text="field values; ID numbers and accounts masked")
    entitlement = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    created_at = serializers.DateTimeField()

    def get_stage_label(self, case: Case) -> str:
        return str(case_type_get(case.case_type).stage(case.stage).label)


class CaseCreateSerializer(serializers.Serializer):
    programme = serializers.IntegerField()
    values = serializers.DictField(help_text="field key → value; members as a list of "
                                             "{name, relation, id_number}")


class ValuesSerializer(serializers.Serializer):
    values = serializers.DictField()


class TransitionSerializer(serializers.Serializer):
    transition = serializers.CharField(max_length=48)
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class RevealSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=48)
    position = serializers.IntegerField(required=False, allow_null=True, default=None)


class NoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    programme = serializers.IntegerField(source="programme_id")
    division = serializers.CharField(source="division_id")
    stage = serializers.CharField()
    title = serializers.CharField()
    place = serializers.CharField()
    starts_on = serializers.DateField()
    days = serializers.IntegerField()
    day_kind = serializers.CharField()
    last_day = serializers.DateField()
    status = serializers.CharField()
    cases = serializers.SerializerMethodField()

    def get_cases(self, notice: PublicNotice) -> list[int]:
        return list(notice.entries.values_list("case_id", flat=True))


class NoticeCreateSerializer(serializers.Serializer):
    programme = serializers.IntegerField()
    stage = serializers.CharField(max_length=32)
    cases = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    starts_on = serializers.DateField()
    place = serializers.CharField(allow_blank=True, required=False, default="")


class PairSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    programme = serializers.IntegerField(source="programme_id")
    case_a = serializers.IntegerField(source="case_a_id")
    case_b = serializers.IntegerField(source="case_b_id")
    kind = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField()
    status = serializers.CharField()
    note = serializers.CharField()


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["merge", "dismiss"])
    keep = serializers.ChoiceField(choices=["a", "b", ""], required=False, default="")
    note = serializers.CharField(allow_blank=True, required=False, default="")


def _page(request: Request, items: Any, serializer: type[serializers.Serializer]) -> Response:
    page = Paginator(items, PAGE_SIZE).get_page(_param(request, "page") or 1)
    return Response({"count": page.paginator.count, "page": page.number,
                     "pages": page.paginator.num_pages,
                     "results": serializer(page.object_list, many=True).data})


class CaseProgrammeViewSet(viewsets.ViewSet):
    """Programmes of cases (a year's 农村危房改造 of a province), and their progress."""

    serializer_class = ProgrammeSerializer

    def list(self, request: Request) -> Response:
        return Response(ProgrammeSerializer(selectors.programme_list(user=request.user),
                                            many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        programme = access.access_programme_by_id(user=request.user, programme_id=pk)
        return Response(ProgrammeSerializer(programme).data)

    @extend_schema(parameters=[OpenApiParameter("level", int, description="3 county … 5 "
                                                "village"),
                               OpenApiParameter("as_of", str, description="YYYY-MM-DD")])
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk: str | None = None) -> Response:
        """开工/竣工/验收/拨付 by division inside the user's scope (the 进度月报 figures)."""
        programme = access.access_programme_by_id(user=request.user, programme_id=pk)
        try:
            level = int(_param(request, "level") or 3)
            as_of = dt.date.fromisoformat(_param(request, "as_of")) if _param(
                request, "as_of") else None
        except ValueError as exc:
            raise _invalid({"level": str(exc)}) from None
        if not 1 <= level <= 5:
            raise _invalid({"level": "1 to 5"})
        rows = selectors.case_progress(programme=programme, level=level, as_of=as_of,
                                       division=request.user.division_id or "")
        return Response([row.as_dict() for row in rows])


class CaseViewSet(viewsets.ViewSet):
    """Cases in the user's scope: list with filters, register, change, act, reveal."""

    serializer_class = CaseSerializer

    @extend_schema(parameters=[OpenApiParameter("programme", int), STAGE, DIVISION, QUERY,
                               OpenApiParameter("overdue", bool)])
    def list(self, request: Request) -> Response:
        programme = None
        if _param(request, "programme"):
            programme = access.access_programme_by_id(user=request.user,
                                                      programme_id=_param(request, "programme"))
        cases = selectors.case_list(user=request.user, programme=programme,
                                    stage=_param(request, "stage"),
                                    division=_param(request, "division"),
                                    overdue=_param(request, "overdue") in ("1", "true"),
                                    query=_param(request, "q"))
        return _page(request, cases, CaseSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(CaseSerializer(access.access_case_by_id(user=request.user,
                                                                case_id=pk)).data)

    @extend_schema(request=CaseCreateSerializer, responses=CaseSerializer)
    def create(self, request: Request) -> Response:
        body = CaseCreateSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body.errors)
        programme = access.access_programme_by_id(user=request.user,
                                                  programme_id=body.validated_data["programme"])
        case = services.case_create(user=request.user, programme=programme,
                                    values=body.validated_data["values"])
        return Response(CaseSerializer(case).data, status=201)

    @extend_schema(request=ValuesSerializer, responses=CaseSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        body = ValuesSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body.errors)
        case = access.access_case_by_id(user=request.user, case_id=pk)
        case = services.case_update(user=request.user, case_id=case.pk,
                                    values=body.validated_data["values"])
        return Response(CaseSerializer(case).data)

    @action(detail=True, methods=["get"])
    def actions(self, request: Request, pk: str | None = None) -> Response:
        """The actions of the current stage this user may take, and what blocks each."""
        case = access.access_case_by_id(user=request.user, case_id=pk)
        return Response([{"transition": c.transition.key, "label": str(c.transition.label),
                          "to": c.transition.target, "reason": c.transition.reason,
                          "problems": c.problems, "warnings": c.warnings}
                         for c in services.available_transitions(user=request.user, case=case)])

    @extend_schema(request=TransitionSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        body = TransitionSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body.errors)
        case = access.access_case_by_id(user=request.user, case_id=pk)
        case = services.case_transition(user=request.user, case_id=case.pk,
                                        transition=body.validated_data["transition"],
                                        reason=body.validated_data["reason"])
        return Response(CaseSerializer(case).data)

    @extend_schema(request=RevealSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """The full number of a masked field, for allowed roles; logged on the case."""
        body = RevealSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body.errors)
        value = services.case_reveal(user=request.user, case_id=pk,
                                     field_key=body.validated_data["field"],
                                     position=body.validated_data["position"])
        return Response({"field": body.validated_data["field"], "value": value})

    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        case = access.access_case_by_id(user=request.user, case_id=pk)
        events = selectors.case_timeline(case=case, case_type=case_type_get(case.case_type))
        return Response([{"at": e.at, "kind": e.kind, "transition": e.transition,
                          "from": e.from_stage, "to": e.to_stage, "reason": e.reason,
                          "actor": str(e.actor) if e.actor else None} for e in events])


class NoticeViewSet(viewsets.ViewSet):
    """Public notices (公示) in the user's scope; posting one for cases of a village."""

    serializer_class = NoticeSerializer

    @extend_schema(parameters=[DIVISION])
    def list(self, request: Request) -> Response:
        notices = access.notices_visible_to(user=request.user).order_by("-starts_on", "-id")
        if _param(request, "division"):
            notices = notices.filter(access.prefix_q("division", _param(request, "division")))
        return _page(request, notices, NoticeSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(NoticeSerializer(access.access_notice_by_id(user=request.user,
                                                                    notice_id=pk)).data)

    @extend_schema(request=NoticeCreateSerializer, responses=NoticeSerializer)
    def create(self, request: Request) -> Response:
        body = NoticeCreateSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body.errors)
        data = body.validated_data
        programme = access.access_programme_by_id(user=request.user,
                                                  programme_id=data["programme"])
        notice = services.notice_publish(user=request.user, programme=programme,
                                         stage=data["stage"], case_ids=data["cases"],
                                         starts_on=data["starts_on"], place=data["place"])
        return Response(NoticeSerializer(notice).data, status=201)


class DuplicatePairViewSet(viewsets.ViewSet):
    """Possible duplicate households for reviewers (county level and above)."""

    serializer_class = PairSerializer

    @extend_schema(parameters=[OpenApiParameter("programme", int),
                               OpenApiParameter("status", str)])
    def list(self, request: Request) -> Response:
        pairs = access.duplicate_pairs_visible_to(user=request.user).filter(
            status=_param(request, "status") or PairStatus.PENDING)
        if _param(request, "programme"):
            pairs = pairs.filter(programme_id=_param(request, "programme"))
        return _page(request, pairs, PairSerializer)

    @extend_schema(request=DecideSerializer, responses=PairSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        body = DecideSerializer(data=request.data)
        if not body.is_valid():
            raise _invalid(body.errors)
        pair = dedup.pair_decide(user=request.user, pair_id=pk, **body.validated_data)
        return Response(PairSerializer(pair).data)


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("case-programmes", CaseProgrammeViewSet, basename="case-programme")
    router.register("cases", CaseViewSet, basename="case")
    router.register("case-notices", NoticeViewSet, basename="case-notice")
    router.register("case-duplicates", DuplicatePairViewSet, basename="case-duplicate")

