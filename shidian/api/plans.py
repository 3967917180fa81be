"""API of the plans app: plans (scoped list/detail, import by upload, publish, versions) and
tasks (scoped list/detail, update). Every call goes through ``shidian.plans.access`` and the
plans services; a ``ShidianError`` becomes ``{code, message, extra}`` (shidian.api.errors)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.orgs.models import Division
from shidian.plans import access, selectors, services
from shidian.plans.models import Plan, Recurrence, Task, TaskUnit


class UnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    agency_id = serializers.IntegerField(allow_null=True)
    agency = serializers.SerializerMethodField()

    def get_agency(self, unit: TaskUnit) -> str | None:
        return unit.agency.name if unit.agency_id else None


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plan_id = serializers.IntegerField()
    parent_id = serializers.IntegerField(allow_null=True)
    path = serializers.CharField()
    title = serializers.CharField()
    deadline = serializers.DateField(allow_null=True)
    deadline_text = serializers.CharField()
    recurrence = serializers.CharField()
    status = serializers.CharField()
    percent = serializers.IntegerField()
    parent_task_id = serializers.IntegerField(allow_null=True)
    units = serializers.SerializerMethodField()

    def get_units(self, task: Task) -> list[dict[str, Any]]:
        return UnitSerializer(task.units.all(), many=True).data  # type: ignore[return-value]


class TaskUpdateSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=100, required=False, allow_blank=True)
    title = serializers.CharField(max_length=500, required=False)
    deadline = serializers.DateField(required=False, allow_null=True)
    deadline_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    recurrence = serializers.ChoiceField(choices=[("", "")] + list(Recurrence.choices),
                                         required=False, allow_blank=True)
    lead_units = serializers.ListField(child=serializers.CharField(max_length=200),
                                       required=False)
    units = serializers.ListField(child=serializers.CharField(max_length=200), required=False)


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    programme_id = serializers.IntegerField()
    programme = serializers.CharField(source="programme.name")
    division = serializers.CharField(source="division_id", allow_null=True)
    parent_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    version = serializers.IntegerField()
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    issuer = serializers.CharField()
    source_name = serializers.CharField()


class PlanImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    programme = serializers.IntegerField()
    division = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)


class PublishSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    accept_unresolved = serializers.BooleanField(required=False, default=False)


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    note = serializers.CharField()
    published_at = serializers.DateTimeField()
    published_by = serializers.CharField(allow_null=True)
    snapshot = serializers.JSONField()


def _page(request: Request, view: viewsets.ViewSet, rows: Any,
          serializer: type[serializers.Serializer]) -> Response:
    """A limit/offset page of ``rows`` (the project's default pagination)."""
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def _invalid(errors: Any) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, _("The input is not valid."), {"fields": errors})


class PlanViewSet(viewsets.ViewSet):
    """Plans the user may see; the office imports and publishes them."""

    serializer_class = PlanSerializer

    def list(self, request: Request) -> Response:
        plans = selectors.plan_list(user=request.user,  # type: ignore[arg-type]
                                    programme_id=request.query_params.get("programme"))
        return _page(request, self, plans, PlanSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        plan = access.access_plan_by_id(user=request.user, plan_id=pk)  # type: ignore[arg-type]
        return Response(PlanSerializer(plan).data)

    @extend_schema(request=PlanImportSerializer, responses={201: PlanSerializer})
    @action(detail=False, methods=["post"], url_path="import",
            parser_classes=[MultiPartParser, FormParser])
    def import_file(self, request: Request) -> Response:
        form = PlanImportSerializer(data=request.data)
        if not form.is_valid():
            raise _invalid(form.errors)
        data = form.validated_data
        user = request.user
        programme = access.access_programme_by_id(user=user,  # type: ignore[arg-type]
                                                  programme_id=data["programme"])
        division = None
        if data.get("division"):
            division = Division.objects.filter(code=data["division"]).first()
            if division is None:
                raise ShidianError(ErrorCode.INVALID, _("Unknown division code."),
                                   {"division": data["division"]})
        upload = data["file"]
        plan = services.plan_import_file(user=user, programme=programme,  # type: ignore[arg-type]
                                         division=division, file_name=upload.name, file=upload,
                                         size=upload.size, title=data.get("title") or "")
        plan = Plan.objects.select_related("programme").get(pk=plan.pk)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PublishSerializer, responses={201: VersionSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        user = request.user
        plan = access.access_plan_by_id(user=user, plan_id=pk,  # type: ignore[arg-type]
                                        for_write=True)
        form = PublishSerializer(data=request.data)
        if not form.is_valid():
            raise _invalid(form.errors)
        version = services.plan_publish(user=user, plan=plan,  # type: ignore[arg-type]
                                        note=form.validated_data.get("note", ""),
                                        accept_unresolved=form.validated_data["accept_unresolved"])
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: VersionSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        plan = self._office_plan(request, pk)
        return Response(VersionSerializer(selectors.plan_versions(plan=plan), many=True).data)

    @extend_schema(responses={200: VersionSerializer})
    @action(detail=True, methods=["get", "put", "patch", "delete"],
            url_path=r"versions/(?P<number>\d+)")
    def version(self, request: Request, pk: str | None = None,
                number: str | None = None) -> Response:
        """A published version; it is frozen, so changing it is refused (409 ``published``)."""
        plan = self._office_plan(request, pk)
        version = selectors.plan_version_get(plan=plan, number=number)  # type: ignore[arg-type]
        if version is None:
            raise not_found("version")
        if request.method != "GET":
            services.plan_version_refuse_change(version=version)
        return Response(VersionSerializer(version).data)

    def _office_plan(self, request: Request, pk: str | None) -> Plan:
        plan = access.access_plan_by_id(user=request.user, plan_id=pk)  # type: ignore[arg-type]
        if access.sees_agency_tasks(request.user):  # type: ignore[arg-type]
            raise not_found("plan")
        return plan


class TaskViewSet(viewsets.ViewSet):
    """Tasks the user may see (a liaison: those of their agencies); the office updates them."""

    serializer_class = TaskSerializer

    def list(self, request: Request) -> Response:
        tasks = access.tasks_visible_to(user=request.user)  # type: ignore[arg-type]
        plan_id = request.query_params.get("plan")
        if plan_id:
            tasks = tasks.filter(plan_id=plan_id) if plan_id.isdigit() else tasks.none()
        tasks = tasks.select_related("plan").prefetch_related("units__agency") \
            .order_by("plan_id", "order", "pk")
        return _page(request, self, tasks, TaskSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        task = access.access_task_by_id(user=request.user, task_id=pk)  # type: ignore[arg-type]
        return Response(TaskSerializer(task).data)

    @extend_schema(request=TaskUpdateSerializer, responses={200: TaskSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        user = request.user
        task = access.access_task_by_id(user=user, task_id=pk,  # type: ignore[arg-type]
                                        for_write=True)
        form = TaskUpdateSerializer(data=request.data, partial=True)
        if not form.is_valid():
            raise _invalid(form.errors)
        data = dict(form.validated_data)
        leads = data.pop("lead_units", None)
        units = data.pop("units", None)
        services.task_save(user=user, task=task, data=data,  # type: ignore[arg-type]
                           leads=leads, units=units)
        task = access.access_task_by_id(user=user, task_id=pk)  # type: ignore[arg-type]
        return Response(TaskSerializer(task).data)


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("plans", PlanViewSet, basename="plans")
    router.register("tasks", TaskViewSet, basename="tasks")
