"""API of the relations of cases, mirroring the careflows pages (shidian.web.views.careflows):
a case's parties, agreements, training schedule with attendance, assessments and referrals; a
programme's registered parties (mentors and the like) with their load; the referrals waiting
for the user's institutions.

Every call goes through ``shidian.cases.access`` and the same services as the pages: missing
and forbidden answer 404 alike, a write refused by a service answers ``{code, message, extra}``
with nothing saved. People's names are masked (张**), ID numbers and phones too; organisations
keep their names.
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

from shidian.cases import access, parties, schedules, transfers
from shidian.cases.definitions import case_type_get
from shidian.cases.models import Case
from shidian.cases.relation_models import CaseTransfer, Party
from shidian.core.crypto import mask_middle, mask_name
from shidian.core.errors import ErrorCode, ShidianError, not_found

PROGRAMME = OpenApiParameter("programme", int, required=True, description="case programme id")
ROLE = OpenApiParameter("role", str, description="party role key (mentor, teacher …)")


def _invalid(errors: Any) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, _("The input is not valid."), {"errors": errors})


def _valid(serializer: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    body = serializer(data=request.data)
    if not body.is_valid():
        raise _invalid(body.errors)
    return dict(body.validated_data)


def _is_person(case_type: Any, role: str) -> bool:
    definition = parties.party_roles(case_type).get(role)
    return role == parties.SUBJECT or definition is None or definition.kind == "person"


def _party_name(case_type: Any, role: str, name: str) -> str:
    return mask_name(name) if _is_person(case_type, role) else name


def party_dict(party: Party, load: int | None = None, case_type: Any = None) -> dict[str, Any]:
    """A party with its name masked if a person; ``case_type``: the programme's, when the
    caller has it (a case's parties), so the party's programme is not read once per party."""
    case_type = case_type or case_type_get(party.programme.case_type)
    out = {"id": party.pk, "programme": party.programme_id, "role": party.role,
           "name": _party_name(case_type, party.role, party.name),
           "agency": party.agency_id, "division": party.division_id,
           "id_number": party.id_masked,
           "phone": mask_middle(party.phone, keep_start=3, keep_end=4) if party.phone else ""}
    if load is not None:
        out["open_cases"] = load
    return out


def transfer_dict(record: CaseTransfer) -> dict[str, Any]:
    return {"id": record.pk, "case": record.case_id,
            "subject_name": mask_name(record.case.subject_name),
            "from_agency": record.from_agency.name, "to_agency": record.to_agency.name,
            "status": record.status, "reason": record.reason,
            "requested_at": record.requested_at, "decided_at": record.decided_at,
            "note": record.note}


def relations_dict(*, case: Case) -> dict[str, Any]:
    """What the relations page shows of a case, names of people masked."""
    case_type = case_type_get(case.case_type)
    assigned = parties.case_parties(case)
    load = parties.open_load([p.pk for p in assigned.values()])
    signed = {a.kind: a for a in case.agreements.all()}
    agreements = []
    for key, agreement in parties.agreement_defs(case_type).items():
        record = signed.get(key)
        agreements.append({
            "kind": key, "label": str(agreement.label),
            "required": [{"role": role, "why": why} for role, why in
                         parties.required_parties(case_type, case, agreement,
                                                  timezone.localdate())],
            "signed_on": record.signed_on if record else None,
            "signatories": [{"role": s.get("role"), "party": s.get("party"),
                             "name": _party_name(case_type, str(s.get("role")),
                                                 str(s.get("name") or ""))}
                            for s in (record.signatories if record else [])]})
    summaries = schedules.schedule_summary(case) if schedules.schedule_def(case_type) else []
    rate = schedules.attendance_rate(summaries)
    return {
        "case": case.pk, "case_type": case.case_type,
        "subject_name": mask_name(case.subject_name),
        "division": case.division_id, "stage": case.stage, "outcome": case.outcome,
        "parties": {role: party_dict(party, load.get(party.pk, 0), case_type)
                    for role, party in assigned.items()},
        "agreements": agreements,
        "schedule": [{"position": s.period.position, "kind": s.period.kind, "label": s.label,
                      "starts_on": s.period.starts_on, "ends_on": s.period.ends_on,
                      "present": s.present, "leave": s.leave, "absent": s.absent,
                      "rate": s.rate} for s in summaries],
        "attendance_rate": rate,
        "assessments": [{"kind": r.definition.key, "label": str(r.definition.label),
                         "scores": r.scores, "missing": r.missing, "total": r.total,
                         "passed": r.passed}
                        for r in schedules.assessment_results(case_type, case)],
        "transfers": [transfer_dict(t) for t in transfers.case_transfers(case)
                      .select_related("case", "from_agency", "to_agency")]
        if transfers.ownership_def(case_type) else [],
    }


class PartyCreateSerializer(serializers.Serializer):
    programme = serializers.IntegerField()
    role = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=128)
    division = serializers.CharField(max_length=12, required=False, default="",
                                     help_text="division code; default: the user's")
    agency = serializers.IntegerField(required=False, allow_null=True, default=None)
    id_number = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=32)
    party = serializers.IntegerField()


class SignSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=32)
    signed_on = serializers.DateField()
    signatories = serializers.ListField(child=serializers.CharField(max_length=32),
                                        help_text="role keys; 'subject' for the case's person")


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=32)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class ScheduleSerializer(serializers.Serializer):
    periods = PeriodSerializer(many=True, required=False,
                               help_text="the real periods; or a template and a start")
    template = serializers.CharField(required=False, allow_blank=True, default="")
    start = serializers.DateField(required=False, allow_null=True, default=None)


class AttendanceEntrySerializer(serializers.Serializer):
    on = serializers.DateField()
    status = serializers.CharField(max_length=8)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AttendanceSerializer(serializers.Serializer):
    entries = AttendanceEntrySerializer(many=True)


class AssessmentSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=32)
    assessor = serializers.CharField(max_length=32, help_text="assessor role (teacher, mentor)")
    score = serializers.CharField(max_length=16)
    assessed_on = serializers.DateField(required=False, allow_null=True, default=None)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReferralSerializer(serializers.Serializer):
    to_agency = serializers.IntegerField()
    reason = serializers.CharField()


class ReferralDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "decline"])
    note = serializers.CharField(required=False, allow_blank=True, default="")


class _Described(viewsets.GenericViewSet):
    """Each action names its request body; answers are JSON objects built from the services'
    results. Described here, so ``shidian.api.schema.describe`` leaves these viewsets alone."""

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return serializers.Serializer


OBJECT = extend_schema(request=None, responses=OpenApiTypes.OBJECT)


class CaseRelationViewSet(_Described):
    """A case's parties, agreements, schedule with attendance, assessments and referrals (the
    relations page), and the writes of that page."""

    @OBJECT
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        case = access.access_case_by_id(user=request.user, case_id=pk)
        return Response(relations_dict(case=case))

    def _after(self, request: Request, case_id: int) -> Response:
        case = access.access_case_by_id(user=request.user, case_id=case_id)
        return Response(relations_dict(case=case))

    @extend_schema(request=AssignSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Put a registered party on the case in a role (a mentor: at most 3 open cases)."""
        case = access.access_case_by_id(user=request.user, case_id=pk)
        data = _valid(AssignSerializer, request)
        parties.party_assign(user=request.user, case_id=case.pk, role=data["role"],
                             party_id=data["party"])
        return self._after(request, case.pk)

    @extend_schema(request=SignSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def agreements(self, request: Request, pk: str | None = None) -> Response:
        """Record a signed agreement (four parties with the guardian for a 16–17-year-old)."""
        case = access.access_case_by_id(user=request.user, case_id=pk)
        data = _valid(SignSerializer, request)
        parties.agreement_sign(user=request.user, case_id=case.pk, kind=data["kind"],
                               signed_on=data["signed_on"], signatories=data["signatories"])
        return self._after(request, case.pk)

    @extend_schema(request=ScheduleSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        """Set the alternating school and enterprise periods (real dates, or a template)."""
        case = access.access_case_by_id(user=request.user, case_id=pk)
        data = _valid(ScheduleSerializer, request)
        periods = data.get("periods")
        if not periods:
            definition = schedules.schedule_def(case_type_get(case.case_type))
            if definition is None or data["start"] is None:
                raise _invalid({"start": "give the periods, or a template and its first day"})
            periods = schedules.periods_from_template(definition, data["template"],
                                                      data["start"])
        schedules.schedule_set(user=request.user, case_id=case.pk, periods=periods)
        return self._after(request, case.pk)

    @extend_schema(request=AttendanceSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        """Record attendance days (present, leave, absent) inside the schedule's periods."""
        case = access.access_case_by_id(user=request.user, case_id=pk)
        data = _valid(AttendanceSerializer, request)
        schedules.attendance_record(user=request.user, case_id=case.pk,
                                    entries=data["entries"])
        return self._after(request, case.pk)

    @extend_schema(request=AssessmentSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def assessments(self, request: Request, pk: str | None = None) -> Response:
        """One assessor's score (the teacher's or the mentor's)."""
        case = access.access_case_by_id(user=request.user, case_id=pk)
        data = _valid(AssessmentSerializer, request)
        schedules.assessment_record(user=request.user, case_id=case.pk, kind=data["kind"],
                                    assessor_role=data["assessor"], score=data["score"],
                                    assessed_on=data["assessed_on"] or timezone.localdate(),
                                    comment=data["comment"])
        return self._after(request, case.pk)

    @extend_schema(request=ReferralSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def referral(self, request: Request, pk: str | None = None) -> Response:
        """Refer the case to another institution of the programme (it stays here until the
        receiving institution accepts)."""
        case = access.access_case_by_id(user=request.user, case_id=pk)
        data = _valid(ReferralSerializer, request)
        transfers.transfer_request(user=request.user, case_id=case.pk,
                                   to_agency_id=data["to_agency"], reason=data["reason"])
        return self._after(request, case.pk)


class CasePartyViewSet(_Described):
    """The parties (mentors, teachers, schools, enterprises, guardians) registered in a
    programme inside the user's scope, with the open cases each holds."""

    def _programme(self, request: Request, programme_id: Any) -> Any:
        if not programme_id:
            raise _invalid({"programme": "required"})
        return access.access_programme_by_id(user=request.user, programme_id=programme_id)

    @extend_schema(parameters=[PROGRAMME, ROLE], responses=OpenApiTypes.OBJECT,
                   operation_id="case_parties_list")
    def list(self, request: Request) -> Response:
        programme = self._programme(request, request.query_params.get("programme"))
        found = parties.parties_visible_to(user=request.user, programme=programme).select_related(
            "programme")
        if request.query_params.get("role"):
            found = found.filter(role=request.query_params["role"])
        found = list(found)
        load = parties.open_load([p.pk for p in found])
        return Response([party_dict(p, load.get(p.pk, 0)) for p in found])

    @OBJECT
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        party = Party.objects.filter(pk=int(pk or 0)).select_related("programme").first()
        if party is None:
            raise not_found("party", reason="not_found")
        programme = self._programme(request, party.programme_id)
        if not parties.parties_visible_to(user=request.user, programme=programme).filter(
                pk=party.pk).exists():
            raise not_found("party", reason="not_found")
        return Response(party_dict(party, parties.open_load([party.pk]).get(party.pk, 0)))

    @extend_schema(request=PartyCreateSerializer, responses={201: OpenApiTypes.OBJECT})
    def create(self, request: Request) -> Response:
        data = _valid(PartyCreateSerializer, request)
        programme = self._programme(request, data["programme"])
        party = parties.party_register(
            user=request.user, programme=programme, role=data["role"], name=data["name"],
            division_code=data["division"] or request.user.division_id or "",
            agency_id=data["agency"], id_number=data["id_number"], phone=data["phone"])
        return Response(party_dict(party, 0), status=201)


class ReferralViewSet(_Described):
    """Referrals waiting for the user's institutions (the inbox), and the decision."""

    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="referrals_list")
    def list(self, request: Request) -> Response:
        incoming = transfers.transfers_incoming(user=request.user).select_related(
            "case", "from_agency", "to_agency").order_by("requested_at")
        return Response([transfer_dict(t) for t in incoming])

    @OBJECT
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        record = transfers.access_incoming_by_id(user=request.user, transfer_id=pk)
        return Response(transfer_dict(record))

    @extend_schema(request=ReferralDecideSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Accept (the case becomes the institution's) or decline."""
        record = transfers.access_incoming_by_id(user=request.user, transfer_id=pk)
        data = _valid(ReferralDecideSerializer, request)
        transfers.transfer_decide(user=request.user, transfer_id=record.pk,
                                  accept=data["decision"] == "accept", note=data["note"])
        record = CaseTransfer.objects.select_related("case", "from_agency",
                                                     "to_agency").get(pk=record.pk)
        return Response(transfer_dict(record))


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("case-relations", CaseRelationViewSet, basename="case-relation")
    router.register("case-parties", CasePartyViewSet, basename="case-party")
    router.register("referrals", ReferralViewSet, basename="referral")
