"""API of the psychological services pack, mirroring its pages (shidian.web.views.psych): the
follow-up board of a programme (the patients the user may know, with the next visit, missed
visits and the latest danger grade; counts per township), a patient's record with the visits
and their danger assessments (危险性评估, grades 0–5) and the case team, and recording a visit.

The strictest rules of the product hold here as on the pages: a patient is reached only
through ``shidian.cases.access`` (need-to-know: the case team and the responsible doctor's
institution; everyone else 404), and every opening of a patient's record, here as there, is
logged on the case (``needtoknow.log_view``, read by the audit administrator's access log).
Names and phones are masked; the diagnosis is shown to those the gate lets through.
"""
from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.cases import access, followups, needtoknow
from shidian.cases.definitions import case_type_get
from shidian.cases.models import Case
from shidian.core.crypto import mask_middle, mask_name
from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.packs.psych import figures, selectors

PATIENT = figures.PATIENT


def _not_found(what: str) -> ShidianError:
    return not_found(what, reason="not_found")


def _patient(request: Request, case_id: Any) -> Case:
    """The patient through the gate (logged); another kind of case is not found here."""
    case = access.access_case_by_id(user=request.user, case_id=case_id)
    if case.case_type != PATIENT:
        raise _not_found("patient")
    return case


def _visits(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": v["visit"].pk, "due_on": v["visit"].due_on, "done_on": v["visit"].done_on,
             "late": v["late"], "risk_grade": followups.visit_data(v["visit"]).get("risk_grade"),
             "flag": v["flag"],
             "findings": [{"label": label, "value": value} for label, value in v["findings"]]}
            for v in record["visits"]]


def patient_dict(case: Case) -> dict[str, Any]:
    record = selectors.patient(case=case)
    return {
        "id": case.pk, "number": case.number, "programme": case.programme_id,
        "division": case.division_id, "stage": case.stage, "outcome": case.outcome,
        "name": mask_name(case.subject_name),
        "id_number": case.subject_id_masked,
        "guardian_name": mask_name(record["guardian_name"]),
        "guardian_phone": mask_middle(record["guardian_phone"], keep_start=3, keep_end=4)
        if record["guardian_phone"] else "",
        "diagnosis": str(record["diagnosis"] or ""),
        "visits": _visits(record),
        "team": [{"user": m.user_id, "name": m.user.display_name or m.user.username,
                  "duty": m.duty, "responsible": m.responsible,
                  "agency": m.agency.name if m.agency else ""} for m in record["team"]],
    }


class FollowUpVisitSerializer(serializers.Serializer):
    visited_on = serializers.DateField()
    values = serializers.DictField(help_text="the schedule's visit fields: risk_grade (0–5), "
                                             "medication, guidance, visit_mode, note …")


class _Described(viewsets.GenericViewSet):
    """Described here (answers are JSON objects), so ``shidian.api.schema.describe`` leaves
    these viewsets alone."""

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return FollowUpVisitSerializer if self.action == "visit_record" else serializers.Serializer


OBJECT = extend_schema(request=None, responses=OpenApiTypes.OBJECT)


class FollowupViewSet(_Described):
    """The follow-up board of a patients' programme: the patients the user may know (names
    masked), missed visits first, and the per-township counts (numbers, no names)."""

    @extend_schema(parameters=[OpenApiParameter("programme", int, required=True)],
                   responses=OpenApiTypes.OBJECT, operation_id="psych_followups_list")
    def list(self, request: Request) -> Response:
        programme_id = request.query_params.get("programme")
        if not programme_id:
            raise ShidianError(ErrorCode.INVALID, _("The input is not valid."),
                               {"errors": {"programme": "required"}})
        programme = access.access_programme_by_id(user=request.user, programme_id=programme_id)
        if programme.case_type != PATIENT:
            raise _not_found("programme")
        today = timezone.localdate()
        rows = selectors.followup_board(user=request.user, programme=programme, today=today)
        needtoknow.log_list_view(user=request.user, cases=[r["case"] for r in rows],
                                 what="followup_board")
        return Response({
            "patients": [{"case": r["case"].pk, "name": mask_name(r["name"]),
                          "division": r["case"].division_id, "due_on": r["due_on"],
                          "missed": r["missed"], "days_late": r["days_late"],
                          "last_on": r["last_on"], "risk_grade": r["grade"], "flag": r["flag"]}
                         for r in rows],
            "counts": selectors.counts(user=request.user, programme=programme, today=today)})


class PatientViewSet(_Described):
    """A patient's record (logged on every read), visits with danger assessments, and
    recording a visit."""

    @OBJECT
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(patient_dict(_patient(request, pk)))

    @OBJECT
    @action(detail=True, methods=["get"])
    def visits(self, request: Request, pk: str | None = None) -> Response:
        """The visits with their danger grades (logged as a read of the record)."""
        case = _patient(request, pk)
        return Response(_visits(selectors.patient(case=case)))

    @extend_schema(request=FollowUpVisitSerializer, responses={201: OpenApiTypes.OBJECT})
    @visits.mapping.post
    def visit_record(self, request: Request, pk: str | None = None) -> Response:
        """Record the due visit; the next one is scheduled from the danger grade."""
        case = _patient(request, pk)
        body = FollowUpVisitSerializer(data=request.data)
        if not body.is_valid():
            raise ShidianError(ErrorCode.INVALID, _("The input is not valid."),
                               {"errors": body.errors})
        schedule = followups.followup_of(case_type_get(PATIENT))
        values = {f.key: body.validated_data["values"].get(f.key, "") for f in schedule.fields}
        made, following = followups.visit_record(
            user=request.user, case_id=case.pk, visited_on=body.validated_data["visited_on"],
            values=values)
        return Response({"visit": made.pk, "done_on": made.done_on,
                         "next_due_on": following.due_on if following else None}, status=201)


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("psych-followups", FollowupViewSet, basename="psych-followup")
    router.register("psych-patients", PatientViewSet, basename="psych-patient")
