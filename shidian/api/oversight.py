"""API of the oversight app: the inbox, the lights of a plan and its rule, 督办 notices (issue,
reply, accept, return, escalate), inspections and rectification, evaluations. Every call goes
through ``shidian.oversight.access`` and the oversight services, exactly as the pages do; a
``ShidianError`` becomes ``{code, message, extra}`` (shidian.api.errors)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.oversight import access, ladder, selectors, services
from shidian.oversight.models import EvaluationStatus, SupervisionNotice


def _invalid(errors: Any) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, _("The input is not valid."), {"fields": errors})


def _valid(serializer_class, data) -> dict:
    form = serializer_class(data=data)
    if not form.is_valid():
        raise _invalid(form.errors)
    return form.validated_data


def _page(request: Request, view, rows, serializer_class) -> Response:
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# -- the inbox ------------------------------------------------------------------------------
class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    level = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    plan_id = serializers.IntegerField(allow_null=True)
    task_id = serializers.IntegerField(allow_null=True)
    agency_id = serializers.IntegerField(allow_null=True)
    notice_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class InboxViewSet(viewsets.ViewSet):
    """The signed-in user's inbox: reminders, 催办, escalations, notices and decisions."""

    serializer_class = MessageSerializer

    @extend_schema(parameters=[OpenApiParameter("unread", bool)])
    def list(self, request: Request) -> Response:
        rows = selectors.inbox_messages(user=request.user,  # type: ignore[arg-type]
                                        unread_only=request.query_params.get("unread")
                                        in ("1", "true"))
        return _page(request, self, rows, MessageSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        message = access.access_message_by_id(user=request.user,  # type: ignore[arg-type]
                                              message_id=pk)  # type: ignore[arg-type]
        if message.channel != "inbox":
            raise not_found("message")
        return Response(MessageSerializer(message).data)

    @extend_schema(request=None, responses={200: MessageSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        message = services.message_read(user=request.user,  # type: ignore[arg-type]
                                        message_id=pk)  # type: ignore[arg-type]
        return Response(MessageSerializer(message).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        user = request.user
        return Response({"read": services.messages_read_all(user=user)})  # type: ignore[arg-type]


# -- lights and rules -----------------------------------------------------------------------
class RuleSerializer(serializers.Serializer):
    remind_days = serializers.IntegerField(min_value=0, max_value=30)
    escalate_days = serializers.IntegerField(min_value=1, max_value=60)
    reply_days = serializers.IntegerField(min_value=1, max_value=60)
    min_onsite_inspections = serializers.IntegerField(min_value=0, max_value=20)
    is_active = serializers.BooleanField()
    send_email = serializers.BooleanField()


class LightsViewSet(viewsets.ViewSet):
    """Green, yellow or red per task and unit of a plan (``pk`` is the plan's id), with the
    rule that colours them; the office sets the rule with ``PUT …/rule/``."""

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        plan = access.access_plan_for_reading(user=request.user,  # type: ignore[arg-type]
                                              plan_id=pk)  # type: ignore[arg-type]
        from django.utils import timezone

        lights = selectors.plan_lights(plan=plan, today=timezone.localdate())
        rule = lights.rule
        return Response({
            "plan_id": plan.pk,
            "rule": {"remind_days": rule.remind_days, "escalate_days": rule.escalate_days,
                     "reply_days": rule.reply_days,
                     "min_onsite_inspections": rule.min_onsite_inspections,
                     "is_active": rule.is_active, "send_email": rule.send_email},
            "counts": lights.counts,
            "tasks": [{"task_id": row.task.pk, "title": row.task.title,
                       "deadline": row.due, "stage": row.stage, "light": row.light,
                       "days_late": row.days_late, "escalate_after": row.escalate_after}
                      for row in lights.tasks.values()],
            "units": [{"agency_id": u.agency.pk, "agency": u.agency.name, "light": u.light,
                       "red": len(u.red), "yellow": len(u.yellow),
                       "late_reports": len(u.late_reports)} for u in lights.units],
        })

    @extend_schema(request=RuleSerializer, responses={200: RuleSerializer})
    @action(detail=True, methods=["put"])
    def rule(self, request: Request, pk: str | None = None) -> Response:
        access.access_plan_for_office(user=request.user, plan_id=pk)  # type: ignore[arg-type]
        data = _valid(RuleSerializer, request.data)
        saved = services.rule_set(user=request.user, plan_id=pk,  # type: ignore[arg-type]
                                  data=services.RuleInput(**data))
        return Response(RuleSerializer(asdict(ladder.rule_of(saved.plan))).data)


# -- notices --------------------------------------------------------------------------------
class ReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    measures = serializers.CharField()
    done_by = serializers.DateField()
    evidence = serializers.SerializerMethodField()
    replied_at = serializers.DateTimeField()
    decision = serializers.CharField()
    decision_note = serializers.CharField()

    def get_evidence(self, reply) -> list[int]:
        return [e.pk for e in reply.evidence.all()]


# The cases app has a NoticeSerializer too (公示): the schema needs two component names.
@extend_schema_serializer(component_name="SupervisionNotice")
class NoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="display_number")
    year = serializers.IntegerField()
    sequence = serializers.IntegerField(source="number")
    plan_id = serializers.IntegerField()
    agency_id = serializers.IntegerField()
    agency = serializers.CharField(source="agency.name")
    issuer_name = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    tasks = serializers.SerializerMethodField()
    reply_due = serializers.DateField()
    status = serializers.CharField()
    issued_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    replies = ReplySerializer(many=True, source="replies.all")

    def get_tasks(self, notice: SupervisionNotice) -> list[int]:
        return [t.pk for t in notice.tasks.all()]


class NoticeIssueSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    agency = serializers.IntegerField()
    tasks = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    reply_due = serializers.DateField(required=False, allow_null=True)
    issuer_name = serializers.CharField(required=False, allow_blank=True, default="")


class NoticeReplySerializer(serializers.Serializer):
    measures = serializers.CharField()
    done_by = serializers.DateField()
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     default=list)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reply_due = serializers.DateField(required=False, allow_null=True)


def _notices(request: Request):
    return (access.notices_visible_to(user=request.user)  # type: ignore[arg-type]
            .select_related("agency").prefetch_related("tasks", "replies__evidence"))


class NoticeViewSet(viewsets.ViewSet):
    """督办 notices: the office issues and decides, the addressed unit replies."""

    serializer_class = NoticeSerializer

    @extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("plan", int)])
    def list(self, request: Request) -> Response:
        rows = _notices(request)
        if request.query_params.get("status"):
            rows = rows.filter(status=request.query_params["status"])
        plan = request.query_params.get("plan")
        if plan:
            rows = rows.filter(plan_id=plan) if plan.isdigit() else rows.none()
        return _page(request, self, rows.order_by("-year", "-number", "-pk"), NoticeSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        access.access_notice_by_id(user=request.user, notice_id=pk)  # type: ignore[arg-type]
        return Response(NoticeSerializer(_notices(request).get(pk=pk)).data)

    @extend_schema(request=NoticeIssueSerializer, responses={201: NoticeSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(NoticeIssueSerializer, request.data)
        notice = services.notice_issue(
            user=request.user, plan_id=data["plan"],  # type: ignore[arg-type]
            agency_id=data["agency"],
            task_ids=data["tasks"], title=data["title"], body=data["body"],
            reply_due=data.get("reply_due"), issuer_name=data["issuer_name"])
        return Response(NoticeSerializer(_notices(request).get(pk=notice.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=NoticeReplySerializer, responses={201: ReplySerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str | None = None) -> Response:
        access.access_notice_for_reply(user=request.user, notice_id=pk)  # type: ignore[arg-type]
        data = _valid(NoticeReplySerializer, request.data)
        reply = services.notice_reply(user=request.user, notice_id=pk,  # type: ignore[arg-type]
                                      measures=data["measures"], done_by=data["done_by"],
                                      evidence_ids=data["evidence"])
        return Response(ReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={200: NoticeSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        access.access_notice_for_office(user=request.user, notice_id=pk)  # type: ignore[arg-type]
        data = _valid(DecisionSerializer, request.data)
        services.notice_accept(user=request.user, notice_id=pk,  # type: ignore[arg-type]
                               note=data["note"])
        return Response(NoticeSerializer(_notices(request).get(pk=pk)).data)

    @extend_schema(request=DecisionSerializer, responses={200: NoticeSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_reply(self, request: Request, pk: str | None = None) -> Response:
        access.access_notice_for_office(user=request.user, notice_id=pk)  # type: ignore[arg-type]
        data = _valid(DecisionSerializer, request.data)
        services.notice_return(user=request.user, notice_id=pk,  # type: ignore[arg-type]
                               reason=data["note"], reply_due=data.get("reply_due"))
        return Response(NoticeSerializer(_notices(request).get(pk=pk)).data)

    @extend_schema(request=DecisionSerializer, responses={200: NoticeSerializer})
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str | None = None) -> Response:
        access.access_notice_for_office(user=request.user, notice_id=pk)  # type: ignore[arg-type]
        data = _valid(DecisionSerializer, request.data)
        services.notice_escalate(user=request.user, notice_id=pk,  # type: ignore[arg-type]
                                 note=data["note"])
        return Response(NoticeSerializer(_notices(request).get(pk=pk)).data)


# -- inspections and rectification ----------------------------------------------------------
class VisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    site = serializers.CharField(source="site.name")
    planned_on = serializers.DateField()
    visited_on = serializers.DateField(allow_null=True)
    on_site = serializers.BooleanField()


class RoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plan_id = serializers.IntegerField()
    name = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    members = serializers.SerializerMethodField()
    visits = VisitSerializer(many=True, source="visits.all")

    def get_members(self, inspection) -> list[int]:
        return [m.user_id for m in inspection.memberships.all()]


class RoundViewSet(viewsets.ViewSet):
    """Inspection rounds the user sees (offices and leaders: their area; experts: their
    teams'), with their sites."""

    serializer_class = RoundSerializer

    def _rows(self, request: Request):
        return (access.rounds_visible_to(user=request.user)  # type: ignore[arg-type]
                .prefetch_related("memberships", "visits__site"))

    def list(self, request: Request) -> Response:
        return _page(request, self, self._rows(request).order_by("-starts_on", "-pk"),
                     RoundSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        access.access_round_by_id(user=request.user, round_id=pk)  # type: ignore[arg-type]
        return Response(RoundSerializer(self._rows(request).get(pk=pk)).data)


class RectificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    finding = serializers.CharField(source="finding.description")
    severity = serializers.CharField(source="finding.severity")
    site_id = serializers.IntegerField(source="finding.visit.site_id")
    owner_id = serializers.IntegerField()
    owner = serializers.CharField(source="owner.name")
    measures = serializers.CharField()
    deadline = serializers.DateField()
    status = serializers.CharField()
    completion_note = serializers.CharField()
    evidence = serializers.SerializerMethodField()
    return_reason = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_evidence(self, item) -> list[int]:
        return [e.pk for e in item.evidence.all()]


class CompletionSerializer(serializers.Serializer):
    note = serializers.CharField()
    evidence = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class VerifySerializer(serializers.Serializer):
    close = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RectificationViewSet(viewsets.ViewSet):
    """Rectification orders: the owner reports completion, the team verifies (销号)."""

    serializer_class = RectificationSerializer

    def _rows(self, request: Request):
        return (access.rectifications_visible_to(user=request.user)  # type: ignore[arg-type]
                .select_related("owner", "finding__visit").prefetch_related("evidence"))

    def list(self, request: Request) -> Response:
        return _page(request, self, self._rows(request).order_by("deadline", "pk"),
                     RectificationSerializer)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        access.access_rectification_by_id(user=request.user,  # type: ignore[arg-type]
                                          rectification_id=pk)  # type: ignore[arg-type]
        return Response(RectificationSerializer(self._rows(request).get(pk=pk)).data)

    @extend_schema(request=CompletionSerializer, responses={200: RectificationSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        access.access_rectification_for_owner(user=request.user,  # type: ignore[arg-type]
                                              rectification_id=pk)  # type: ignore[arg-type]
        data = _valid(CompletionSerializer, request.data)
        services.rectification_submit(user=request.user,  # type: ignore[arg-type]
                                      rectification_id=pk,  # type: ignore[arg-type]
                                      note=data["note"], evidence_ids=data["evidence"])
        return Response(RectificationSerializer(self._rows(request).get(pk=pk)).data)

    @extend_schema(request=VerifySerializer, responses={200: RectificationSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        access.access_rectification_for_verifier(user=request.user,  # type: ignore[arg-type]
                                                 rectification_id=pk)  # type: ignore[arg-type]
        data = _valid(VerifySerializer, request.data)
        services.rectification_verify(user=request.user,  # type: ignore[arg-type]
                                      rectification_id=pk,  # type: ignore[arg-type]
                                      accept=data["close"], reason=data["reason"])
        return Response(RectificationSerializer(self._rows(request).get(pk=pk)).data)


# -- evaluations ----------------------------------------------------------------------------
class ReviewEntrySerializer(serializers.Serializer):
    item = serializers.IntegerField()
    subject = serializers.CharField(max_length=16)
    score = serializers.DecimalField(max_digits=6, decimal_places=2)
    basis = serializers.CharField(max_length=500)
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     default=list)


class ReviewSerializer(serializers.Serializer):
    scores = ReviewEntrySerializer(many=True, min_length=1)


class ModelSiteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    division = serializers.CharField(source="division_id")


class RoundFinaliseSerializer(serializers.Serializer):
    model_sites = serializers.ListField(child=serializers.IntegerField(), required=False,
                                        default=list)


def _office_round(request: Request, pk, *, programme: bool):
    """A round its office runs: a plan's (``programme=False``) or a programme's."""
    evaluation = access.access_evaluation_for_office(
        user=request.user, evaluation_id=pk)  # type: ignore[arg-type]
    if (evaluation.scorecard.programme_id is not None) != programme:
        raise not_found("round")
    return evaluation


def _round_advance(request: Request, pk, *, programme: bool):
    evaluation = _office_round(request, pk, programme=programme)
    if evaluation.status == EvaluationStatus.REVIEW:
        raise ShidianError(ErrorCode.CONFLICT,
                           _("The round is past self-assessment: finalise it instead."))
    # A final round is refused by the service (LOCKED: 423), as every write to it is.
    return services.evaluation_advance(user=request.user,  # type: ignore[arg-type]
                                       evaluation_id=evaluation.pk)


def _round_finalise(request: Request, pk, *, programme: bool):
    """Final, with the model sites named now or never: a final round, a plan's or a
    programme's, is frozen (423)."""
    evaluation = _office_round(request, pk, programme=programme)
    data = _valid(RoundFinaliseSerializer, request.data)
    if evaluation.status == EvaluationStatus.SELF:
        raise ShidianError(ErrorCode.CONFLICT,
                           _("The round is at self-assessment: advance it to reviewer "
                             "scoring first."))
    return services.evaluation_advance(user=request.user,  # type: ignore[arg-type]
                                       evaluation_id=evaluation.pk,
                                       model_site_ids=data["model_sites"])


class EvaluationViewSet(viewsets.ViewSet):
    """A scorecard round's results: each subject's total, percent, grade, rank and change
    (a unit sees its own row); its named reviewers score the items scored by hand. A plan's
    office advances its round and finalises it, naming the model sites (示范基地) then; a
    final round is frozen (423), as a programme's is."""

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"])
    def advance(self, request: Request, pk: str | None = None) -> Response:
        """Close self-assessment and start reviewer scoring (a plan's round)."""
        _round_advance(request, pk, programme=False)
        return self.retrieve(request, pk)

    @extend_schema(request=RoundFinaliseSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def finalise(self, request: Request, pk: str | None = None) -> Response:
        """Make a plan's round final, naming the model sites among the units at the
        model-site line; nothing in it changes afterwards."""
        _round_finalise(request, pk, programme=False)
        return self.retrieve(request, pk)

    @extend_schema(request=ReviewSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """A reviewer's (or the office's) scores with their basis: all saved, or none."""
        access.access_evaluation_for_review(user=request.user,  # type: ignore[arg-type]
                                            evaluation_id=pk)  # type: ignore[arg-type]
        data = _valid(ReviewSerializer, request.data)
        with transaction.atomic():
            for entry in data["scores"]:
                services.score_review(user=request.user,  # type: ignore[arg-type]
                                      evaluation_id=pk,  # type: ignore[arg-type]
                                      item_id=entry["item"], subject=entry["subject"],
                                      score=entry["score"], note=entry["basis"],
                                      evidence_ids=entry["evidence"])
        return self.retrieve(request, pk)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        evaluation = access.access_evaluation_by_id(user=request.user,  # type: ignore[arg-type]
                                                    evaluation_id=pk)  # type: ignore[arg-type]
        ranking = selectors.evaluation_ranking(evaluation=evaluation)
        rows = ranking.rows
        if access.is_unit(request.user):  # type: ignore[arg-type]
            own = {f"a{a}" for a in access.user_agency_ids(request.user)}  # type: ignore[arg-type]
            rows = [r for r in rows if r.key in own]
        return Response({
            "id": evaluation.pk, "scorecard": evaluation.scorecard.name,
            "period": evaluation.period, "status": evaluation.status,
            "previous_period": ranking.previous_period.id if ranking.previous_period else None,
            "reviewers": [str(r.user) for r in evaluation.reviewers.select_related("user")],
            "model_sites": ModelSiteSerializer(evaluation.model_sites.order_by("name"),
                                               many=True).data,
            "results": [{"subject": r.key, "name": r.name, "percent": r.value,
                         "rank": r.rank, "previous_rank": r.previous_rank,
                         "change": r.change, "grade": r.grade, "points": r.detail}
                        for r in rows],
        })


# -- a programme's annual rounds (年度考核) ----------------------------------------------------
class ProgrammeRoundResultSerializer(serializers.Serializer):
    subject = serializers.CharField()
    name = serializers.CharField()
    percent = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    previous_rank = serializers.IntegerField(allow_null=True)
    change = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField()
    points = serializers.CharField()


@extend_schema_serializer(component_name="ProgrammeRound")
class ProgrammeRoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    programme_id = serializers.IntegerField(source="scorecard.programme_id")
    programme = serializers.CharField(source="scorecard.programme.name")
    scorecard_id = serializers.IntegerField()
    scorecard = serializers.CharField(source="scorecard.name")
    period = serializers.CharField()
    status = serializers.CharField()
    finalized_at = serializers.DateTimeField(allow_null=True)
    model_sites = ModelSiteSerializer(many=True, source="model_sites.all")


@extend_schema_serializer(component_name="ProgrammeRoundDetail")
class ProgrammeRoundDetailSerializer(ProgrammeRoundSerializer):
    results = ProgrammeRoundResultSerializer(many=True)


class ProgrammeRoundOpenSerializer(serializers.Serializer):
    scorecard = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class ProgrammeRoundViewSet(viewsets.ViewSet):
    """A programme's annual rounds: one scorecard for the units of every plan of the
    programme, ranked together. Its office opens, advances and finalises a round, naming
    the model sites (示范基地) at finalisation; a final round is frozen (423). Leaders of the
    programme's area and the round's reviewers read every row; a unit reads its own."""

    serializer_class = ProgrammeRoundSerializer

    def _rows(self, request: Request):
        return (access.evaluations_visible_to(user=request.user)  # type: ignore[arg-type]
                .filter(scorecard__programme__isnull=False)
                .select_related("scorecard", "scorecard__programme")
                .prefetch_related("model_sites"))

    def _detail(self, request: Request, evaluation) -> dict:
        user = request.user
        row = self._rows(request).get(pk=evaluation.pk)
        ranking = selectors.evaluation_ranking(evaluation=row)
        rows = ranking.rows
        if access.is_unit(user) and not access.is_reviewer_of(  # type: ignore[arg-type]
                user=user, evaluation=row):  # type: ignore[arg-type]
            own = {f"a{a}" for a in access.user_agency_ids(user)}  # type: ignore[arg-type]
            rows = [r for r in rows if r.key in own]
        data = dict(ProgrammeRoundSerializer(row).data)
        data["results"] = [{"subject": r.key, "name": r.name, "percent": r.value,
                            "rank": r.rank, "previous_rank": r.previous_rank,
                            "change": r.change, "grade": r.grade, "points": r.detail}
                           for r in rows]
        return data

    def _round(self, request: Request, pk):
        evaluation = access.access_evaluation_by_id(user=request.user,  # type: ignore[arg-type]
                                                    evaluation_id=pk)
        if evaluation.scorecard.programme_id is None:
            raise not_found("round")
        return evaluation

    @extend_schema(parameters=[OpenApiParameter("programme", int)])
    def list(self, request: Request) -> Response:
        rows = self._rows(request)
        programme = request.query_params.get("programme")
        if programme:
            rows = (rows.filter(scorecard__programme_id=programme) if programme.isdigit()
                    else rows.none())
        return _page(request, self, rows.order_by("-period", "-pk"), ProgrammeRoundSerializer)

    @extend_schema(responses={200: ProgrammeRoundDetailSerializer})
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self._detail(request, self._round(request, pk)))

    @extend_schema(request=ProgrammeRoundOpenSerializer,
                   responses={201: ProgrammeRoundDetailSerializer})
    def create(self, request: Request) -> Response:
        """The programme's office opens the annual round of one of its scorecards."""
        data = _valid(ProgrammeRoundOpenSerializer, request.data)
        evaluation = services.programme_round_open(
            user=request.user, scorecard_id=data["scorecard"],  # type: ignore[arg-type]
            year=data["year"])
        return Response(self._detail(request, evaluation), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ProgrammeRoundDetailSerializer})
    @action(detail=True, methods=["post"])
    def advance(self, request: Request, pk: str | None = None) -> Response:
        """Close self-assessment and start reviewer scoring."""
        evaluation = _round_advance(request, pk, programme=True)
        return Response(self._detail(request, evaluation))

    @extend_schema(request=RoundFinaliseSerializer,
                   responses={200: ProgrammeRoundDetailSerializer})
    @action(detail=True, methods=["post"])
    def finalise(self, request: Request, pk: str | None = None) -> Response:
        """Make the round final, naming the model sites among the units at the model-site
        line; nothing in it changes afterwards."""
        evaluation = _round_finalise(request, pk, programme=True)
        return Response(self._detail(request, evaluation))


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("oversight/inbox", InboxViewSet, basename="oversight-inbox")
    router.register("oversight/lights", LightsViewSet, basename="oversight-lights")
    router.register("oversight/notices", NoticeViewSet, basename="oversight-notices")
    router.register("oversight/rounds", RoundViewSet, basename="oversight-rounds")
    router.register("oversight/rectifications", RectificationViewSet,
                    basename="oversight-rectifications")
    router.register("oversight/evaluations", EvaluationViewSet,
                    basename="oversight-evaluations")
    router.register("oversight/programme-rounds", ProgrammeRoundViewSet,
                    basename="oversight-programme-rounds")

