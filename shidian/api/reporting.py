"""API of the reporting app: progress reports (scoped list/detail, create as draft or submitted,
submit, return, accept) and evidence (upload, metadata, download). Every call goes through
``shidian.reporting.access`` and the reporting services, exactly as the pages do; a
``ShidianError`` becomes ``{code, message, extra}`` (shidian.api.errors)."""
from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.core.errors import ErrorCode, ShidianError
from shidian.plans.models import TaskStatus
from shidian.reporting import access, services
from shidian.reporting.models import Evidence, ProgressReport


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agency_id = serializers.IntegerField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    plan_id = serializers.IntegerField(source="task.plan_id")
    agency_id = serializers.IntegerField()
    agency = serializers.CharField(source="agency.name")
    period = serializers.CharField()
    status = serializers.CharField()
    task_status = serializers.CharField()
    percent = serializers.IntegerField()
    done = serializers.CharField()
    problems = serializers.CharField()
    next_steps = serializers.CharField()
    evidence = serializers.SerializerMethodField()
    includes = serializers.SerializerMethodField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    on_time = serializers.BooleanField(allow_null=True)
    return_reason = serializers.CharField()

    def get_evidence(self, report: ProgressReport) -> list[int]:
        return [e.pk for e in report.evidence.all()]

    def get_includes(self, report: ProgressReport) -> list[int]:
        return [r.pk for r in report.includes.all()]


class ReportWriteSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    agency = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="Needed only when the user acts for several "
                                                "units of the task.")
    period = serializers.CharField(max_length=8, help_text="2021M06, 2021W23, 2021Q3")
    task_status = serializers.ChoiceField(choices=TaskStatus.choices,
                                          default=TaskStatus.IN_PROGRESS)
    percent = serializers.IntegerField(min_value=0, max_value=100)
    done = serializers.CharField(required=False, allow_blank=True, default="")
    problems = serializers.CharField(required=False, allow_blank=True, default="")
    next_steps = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     default=list)
    includes = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     default=list)
    files = serializers.ListField(
        child=serializers.FileField(), required=False, default=list,
        help_text="New evidence files (multipart), kept with the report in one transaction: "
                  "a refused report keeps none of them.")
    submit = serializers.BooleanField(required=False, default=False,
                                      help_text="Submit at once instead of keeping a draft.")


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    agency = serializers.IntegerField()


def _invalid(errors: Any) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, _("The input is not valid."), {"fields": errors})


def _reports(request: Request):
    return (access.reports_visible_to(user=request.user)  # type: ignore[arg-type]
            .select_related("task", "agency").prefetch_related("evidence", "includes"))


class ReportViewSet(viewsets.ViewSet):
    """Progress reports the user may see; units write theirs, the office returns or accepts."""

    serializer_class = ReportSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(parameters=[
        OpenApiParameter("plan", int), OpenApiParameter("task", int),
        OpenApiParameter("period", str), OpenApiParameter("status", str)])
    def list(self, request: Request) -> Response:
        reports = _reports(request)
        params = request.query_params
        for name, field in (("plan", "task__plan_id"), ("task", "task_id")):
            value = params.get(name)
            if value:
                reports = reports.filter(**{field: value}) if value.isdigit() else reports.none()
        for name in ("period", "status"):
            if params.get(name):
                reports = reports.filter(**{name: params[name].upper() if name == "period"
                                            else params[name]})
        reports = reports.order_by("task__plan_id", "task__order", "period", "agency_id", "pk")
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(reports, request, view=self)
        return paginator.get_paginated_response(ReportSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        report = access.access_report_by_id(user=request.user,  # type: ignore[arg-type]
                                            report_id=pk)  # type: ignore[arg-type]
        return Response(ReportSerializer(report).data)

    @extend_schema(request=ReportWriteSerializer, responses={201: ReportSerializer})
    def create(self, request: Request) -> Response:
        """Save a unit's report for a task and period (a draft, or submitted with ``submit``).

        Writing again to the same task, unit and period changes that one report; a submitted
        report is changed only after the office returns it (409 ``conflict``)."""
        form = ReportWriteSerializer(data=request.data)
        if not form.is_valid():
            raise _invalid(form.errors)
        data = form.validated_data
        write = services.report_submit if data["submit"] else services.report_save_draft
        report = write(
            user=request.user, task_id=data["task"], agency_id=data.get("agency"),  # type: ignore[arg-type]
            period=data["period"], data=services.ReportInput(
                task_status=data["task_status"], percent=data["percent"], done=data["done"],
                problems=data["problems"], next_steps=data["next_steps"],
                evidence_ids=tuple(data["evidence"]), include_ids=tuple(data["includes"])),
            uploads=data["files"])
        report = _reports(request).get(pk=report.pk)
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit a draft or returned report as it stands."""
        report = access.access_report_by_id(user=request.user,  # type: ignore[arg-type]
                                            report_id=pk)  # type: ignore[arg-type]
        report = services.report_submit(
            user=request.user, task_id=report.task_id, agency_id=report.agency_id,  # type: ignore[arg-type]
            period=report.period, data=services.ReportInput(
                task_status=report.task_status, percent=report.percent, done=report.done,
                problems=report.problems, next_steps=report.next_steps,
                evidence_ids=tuple(report.evidence.values_list("pk", flat=True)),
                include_ids=tuple(report.includes.values_list("pk", flat=True))))
        return Response(ReportSerializer(_reports(request).get(pk=report.pk)).data)

    @extend_schema(request=ReturnSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_for_rework(self, request: Request, pk: str | None = None) -> Response:
        # The service checks scope before the reason, so an outsider learns nothing.
        reason = request.data.get("reason", "") if hasattr(request.data, "get") else ""
        report = services.report_return(user=request.user,  # type: ignore[arg-type]
                                        report_id=pk,  # type: ignore[arg-type]
                                        reason=str(reason or ""))
        return Response(ReportSerializer(_reports(request).get(pk=report.pk)).data)

    @extend_schema(request=None, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        report = services.report_accept(user=request.user,  # type: ignore[arg-type]
                                        report_id=pk)  # type: ignore[arg-type]
        return Response(ReportSerializer(_reports(request).get(pk=report.pk)).data)


class EvidenceViewSet(viewsets.ViewSet):
    """Evidence files: uploaded once per unit (deduplicated), cited by reports."""

    serializer_class = EvidenceSerializer
    parser_classes = [MultiPartParser, FormParser]

    def list(self, request: Request) -> Response:
        rows = access.evidence_visible_to(user=request.user)  # type: ignore[arg-type]
        rows = rows.order_by("-uploaded_at", "-pk")
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(EvidenceSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        evidence = access.access_evidence_by_id(user=request.user,  # type: ignore[arg-type]
                                                evidence_id=pk)  # type: ignore[arg-type]
        return Response(EvidenceSerializer(evidence).data)

    @extend_schema(request=EvidenceUploadSerializer, responses={201: EvidenceSerializer})
    def create(self, request: Request) -> Response:
        form = EvidenceUploadSerializer(data=request.data)
        if not form.is_valid():
            raise _invalid(form.errors)
        evidence = services.evidence_attach(user=request.user,  # type: ignore[arg-type]
                                            agency_id=form.validated_data["agency"],
                                            upload=form.validated_data["file"])
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        evidence: Evidence = access.access_evidence_by_id(
            user=request.user, evidence_id=pk)  # type: ignore[arg-type]
        try:
            handle = evidence.file.open("rb")
        except FileNotFoundError:
            raise ShidianError(ErrorCode.NOT_FOUND, "evidence file missing") from None
        response = FileResponse(handle, content_type=evidence.content_type, as_attachment=True,
                                filename=evidence.original_name)
        response["X-Content-Type-Options"] = "nosniff"
        return response


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("reports", ReportViewSet, basename="reports")
    router.register("evidence", EvidenceViewSet, basename="evidence")
