"""API of pilot-site selection: calls (quotas with their checks, the board, publishing,
importing the allocation table, assigning experts, applying), applications (answers,
submission, forwarding or return by the province, approval within quotas, rejection), an
expert's reviews (declaration, scores) and pilot sites (the task book in Word). Every call goes
through ``shidian.selection.access`` and the selection services, as the pages do; a
``ShidianError`` becomes ``{code, message, extra}`` (shidian.api.errors)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from shidian.core.errors import ErrorCode, ShidianError, not_found
from shidian.selection import access, selectors, services
from shidian.selection.models import ReviewStatus
from shidian.selection.taskbook import taskbook_docx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _valid(serializer_class, data) -> dict:
    form = serializer_class(data=data)
    if not form.is_valid():
        raise ShidianError(ErrorCode.INVALID, _("The input is not valid."),
                           {"fields": form.errors})
    return form.validated_data


class CallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    plan_id = serializers.IntegerField()
    deadline = serializers.DateTimeField()
    endorse_by = serializers.DateTimeField()
    applicant_kinds = serializers.ListField(child=serializers.CharField())
    direct_kinds = serializers.ListField(child=serializers.CharField())
    pilot_starts_on = serializers.DateField(allow_null=True)
    pilot_ends_on = serializers.DateField(allow_null=True)
    averaging = serializers.CharField()
    trim_from = serializers.IntegerField()
    is_open = serializers.BooleanField()


class ApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    call_id = serializers.IntegerField()
    agency_id = serializers.IntegerField()
    agency = serializers.CharField(source="agency.name")
    kind = serializers.CharField()
    category_id = serializers.IntegerField()
    region = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    forwarded_at = serializers.DateTimeField(allow_null=True)
    return_reason = serializers.CharField()
    score = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    reviews_counted = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)
    over_quota = serializers.BooleanField()
    override_reason = serializers.CharField()


class ApplyInput(serializers.Serializer):
    agency_id = serializers.IntegerField()
    category_id = serializers.IntegerField()
    region = serializers.CharField(max_length=64)
    kind = serializers.CharField(max_length=32, allow_blank=True, required=False, default="")
    title = serializers.CharField(max_length=300)
    summary = serializers.CharField(allow_blank=True, required=False, default="")


class AnswersInput(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False)
    summary = serializers.CharField(allow_blank=True, required=False)
    figures = serializers.DictField(child=serializers.CharField(allow_blank=True),
                                    required=False, default=dict)
    declared = serializers.DictField(child=serializers.BooleanField(), required=False,
                                     default=dict)
    documents = serializers.DictField(child=serializers.IntegerField(allow_null=True),
                                      required=False, default=dict)


class CategoryInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    group = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    task_ids = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     default=list)
    region = serializers.CharField(max_length=64, required=False, default="全国")
    places = serializers.IntegerField(min_value=0)


class ConditionInput(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    kind = serializers.ChoiceField(choices=["computed", "declared"])
    category_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    field_name = serializers.CharField(max_length=40, allow_blank=True, required=False,
                                       default="")
    field_label = serializers.CharField(max_length=200, allow_blank=True, required=False,
                                        default="")
    rule = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    needs_document = serializers.BooleanField(required=False, default=False)


class ItemInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2)
    max_score = serializers.DecimalField(max_digits=6, decimal_places=2, required=False,
                                         default=100)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")


class ApproveInput(serializers.Serializer):
    override_reason = serializers.CharField(max_length=500, allow_blank=True, required=False,
                                            default="")


class AssignInput(serializers.Serializer):
    expert_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1)


class DeclareInput(serializers.Serializer):
    conflict = serializers.BooleanField()
    note = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")


class ScoreInput(serializers.Serializer):
    scores = serializers.DictField(child=serializers.CharField())
    comment = serializers.CharField(allow_blank=True, required=False, default="")


def _keys(mapping: dict[str, Any]) -> dict[int, Any]:
    return {int(k): v for k, v in mapping.items() if str(k).isdigit()}


class CallViewSet(viewsets.ViewSet):
    """Calls for applications the user may see; a published call is public to applicants."""

    serializer_class = CallSerializer

    def list(self, request: Request) -> Response:
        calls = access.calls_visible_to(user=request.user)  # type: ignore[arg-type]
        return Response(CallSerializer(calls.order_by("-pk")[:200], many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        call = access.access_call_by_id(user=request.user, call_id=pk)  # type: ignore[arg-type]
        data = dict(CallSerializer(call).data)
        data["categories"] = [{"id": c.pk, "group": c.group, "name": c.name}
                              for c in call.categories.all()]
        data["conditions"] = [{"id": c.pk, "text": c.text, "kind": c.kind,
                               "category_id": c.category_id, "field_name": c.field_name,
                               "field_label": c.field_label, "rule": c.rule,
                               "needs_document": c.needs_document}
                              for c in call.conditions.all()]
        return Response(data)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def quotas(self, request: Request, pk: str | None = None) -> Response:
        call = access.access_call_for_office(user=request.user,  # type: ignore[arg-type]
                                             call_id=pk)  # type: ignore[arg-type]
        return Response({
            "checks": call.quota_checks,
            "findings": list(call.plan.findings.filter(kind__startswith="allocation")
                             .values_list("message", flat=True)),
            "quotas": [{"category_id": r.quota.category_id, "category": str(r.quota.category),
                        "region": r.quota.region, "places": r.quota.amount,
                        "approved": r.approved, "waiting": r.forwarded}
                       for r in selectors.quota_rows(call=call)]})

    @extend_schema(responses={200: ApplicationSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def board(self, request: Request, pk: str | None = None) -> Response:
        user = request.user
        call = access.access_call_for_office(user=user, call_id=pk)  # type: ignore[arg-type]
        rows = selectors.board(call=call, applications=access.applications_visible_to(
            user=user))  # type: ignore[arg-type]
        return Response(ApplicationSerializer(rows, many=True).data)

    @extend_schema(request=None, responses={200: CallSerializer})
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: str | None = None) -> Response:
        call = services.call_open(user=request.user, call_id=pk)  # type: ignore[arg-type]
        return Response(CallSerializer(call).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="import-quotas")
    def import_quotas(self, request: Request, pk: str | None = None) -> Response:
        made = services.quotas_import(user=request.user, call_id=pk)  # type: ignore[arg-type]
        return Response({"categories": len(made)})

    @extend_schema(request=CategoryInput, responses={201: dict})
    @action(detail=True, methods=["post"], url_path="add-category")
    def add_category(self, request: Request, pk: str | None = None) -> Response:
        user = request.user
        access.access_call_for_office(user=user, call_id=pk)  # type: ignore[arg-type]
        data = _valid(CategoryInput, request.data)
        category = services.category_add(user=user, call_id=pk,  # type: ignore[arg-type]
                                         name=data["name"], group=data["group"],
                                         task_ids=data["task_ids"])
        quota = services.quota_set(user=user, call_id=pk,  # type: ignore[arg-type]
                                   category_id=category.pk, region=data["region"],
                                   amount=data["places"])
        return Response({"id": category.pk, "task_ids": category.task_ids,
                         "region": quota.region, "places": quota.amount}, status=201)

    @extend_schema(request=ConditionInput, responses={201: dict})
    @action(detail=True, methods=["post"], url_path="add-condition")
    def add_condition(self, request: Request, pk: str | None = None) -> Response:
        access.access_call_for_office(user=request.user, call_id=pk)  # type: ignore[arg-type]
        data = _valid(ConditionInput, request.data)
        condition = services.condition_add(user=request.user,  # type: ignore[arg-type]
                                           call_id=pk, **data)  # type: ignore[arg-type]
        return Response({"id": condition.pk}, status=201)

    @extend_schema(request=ItemInput, responses={201: dict})
    @action(detail=True, methods=["post"], url_path="add-item")
    def add_item(self, request: Request, pk: str | None = None) -> Response:
        access.access_call_for_office(user=request.user, call_id=pk)  # type: ignore[arg-type]
        data = _valid(ItemInput, request.data)
        item = services.score_item_add(user=request.user,  # type: ignore[arg-type]
                                       call_id=pk, **data)  # type: ignore[arg-type]
        return Response({"id": item.pk}, status=201)

    @extend_schema(request=AssignInput, responses={200: dict})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        access.access_call_for_office(user=request.user, call_id=pk)  # type: ignore[arg-type]
        data = _valid(AssignInput, request.data)
        result = services.reviews_assign(user=request.user,  # type: ignore[arg-type]
                                         call_id=pk, expert_ids=data["expert_ids"])  # type: ignore[arg-type]
        return Response({"assigned": len(result.created), "excluded": result.excluded})

    @extend_schema(request=ApplyInput, responses={201: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        if not access.is_applicant(request.user):  # type: ignore[arg-type]
            raise not_found("call")
        access.access_call_by_id(user=request.user, call_id=pk)  # type: ignore[arg-type]
        data = _valid(ApplyInput, request.data)
        application = services.application_create(user=request.user,  # type: ignore[arg-type]
                                                  call_id=pk, **data)  # type: ignore[arg-type]
        return Response(ApplicationSerializer(application).data, status=201)


class ApplicationViewSet(viewsets.ViewSet):
    """Applications: the applicant's own, its province's, the issuing office's forwarded ones,
    an expert's declared ones."""

    serializer_class = ApplicationSerializer

    def list(self, request: Request) -> Response:
        rows = access.applications_visible_to(user=request.user)  # type: ignore[arg-type]
        return Response(ApplicationSerializer(rows.select_related("agency")[:500],
                                              many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        application = access.access_application_by_id(user=request.user,  # type: ignore[arg-type]
                                                      application_id=pk)  # type: ignore[arg-type]
        data = dict(ApplicationSerializer(application).data)
        data["summary"] = application.summary
        data["checklist"] = [{"condition_id": row.condition.pk, "text": row.condition.text,
                              "passed": row.verdict.passed, "reason": row.verdict.reason}
                             for row in selectors.application_checklist(
                                 application=application)]
        data["documents"] = [{"id": d.pk, "name": d.original_name, "size": d.size}
                             for d in application.documents.all()]
        return Response(data)

    @extend_schema(request=AnswersInput, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def answers(self, request: Request, pk: str | None = None) -> Response:
        access.access_application_of_applicant(user=request.user,  # type: ignore[arg-type]
                                               application_id=pk)  # type: ignore[arg-type]
        data = _valid(AnswersInput, request.data)
        application = services.application_update(
            user=request.user, application_id=pk,  # type: ignore[arg-type]
            title=data.get("title"), summary=data.get("summary"),
            answers=services.Answers(figures=_keys(data["figures"]),
                                     declared=_keys(data["declared"]),
                                     documents=_keys(data["documents"])))
        return Response(ApplicationSerializer(application).data)

    @extend_schema(request=None, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        application = services.application_submit(user=request.user,  # type: ignore[arg-type]
                                                  application_id=pk)  # type: ignore[arg-type]
        return Response(ApplicationSerializer(application).data)

    @extend_schema(request=None, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def forward(self, request: Request, pk: str | None = None) -> Response:
        application = services.application_forward(user=request.user,  # type: ignore[arg-type]
                                                   application_id=pk)  # type: ignore[arg-type]
        return Response(ApplicationSerializer(application).data)

    @extend_schema(request=ReasonInput, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def send_back(self, request: Request, pk: str | None = None) -> Response:
        access.access_application_for_province(user=request.user,  # type: ignore[arg-type]
                                               application_id=pk)  # type: ignore[arg-type]
        data = _valid(ReasonInput, request.data)
        application = services.application_return(user=request.user,  # type: ignore[arg-type]
                                                  application_id=pk,  # type: ignore[arg-type]
                                                  reason=data["reason"])
        return Response(ApplicationSerializer(application).data)

    @extend_schema(request=ApproveInput, responses={200: dict})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        access.access_application_for_office(user=request.user,  # type: ignore[arg-type]
                                             application_id=pk)  # type: ignore[arg-type]
        data = _valid(ApproveInput, request.data)
        site = services.application_approve(user=request.user,  # type: ignore[arg-type]
                                            application_id=pk,  # type: ignore[arg-type]
                                            override_reason=data["override_reason"])
        return Response({"site_id": site.pk, "number": site.number, "plan_id": site.plan_id})

    @extend_schema(request=ReasonInput, responses={200: ApplicationSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        access.access_application_for_office(user=request.user,  # type: ignore[arg-type]
                                             application_id=pk)  # type: ignore[arg-type]
        data = _valid(ReasonInput, request.data)
        application = services.application_reject(user=request.user,  # type: ignore[arg-type]
                                                  application_id=pk,  # type: ignore[arg-type]
                                                  reason=data["reason"])
        return Response(ApplicationSerializer(application).data)


class ReviewViewSet(viewsets.ViewSet):
    """The expert's own reviews: the applicant's name only until the declaration."""

    def _data(self, review) -> dict[str, Any]:
        data = {"id": review.pk, "application_id": review.application_id,
                "applicant": review.application.agency.name, "status": review.status,
                "relation": review.relation,
                "total": None if review.total is None else str(review.total)}
        if review.status in (ReviewStatus.DECLARED, ReviewStatus.SCORED):
            data["title"] = review.application.title
            data["summary"] = review.application.summary
            data["sheet"] = [{"item_id": item.pk, "name": item.name, "weight": str(item.weight),
                              "max_score": str(item.max_score),
                              "score": None if value is None else str(value)}
                             for item, value in selectors.review_sheet(review=review)]
        return data

    def list(self, request: Request) -> Response:
        user = request.user
        if not access.is_expert(user):  # type: ignore[arg-type]
            return Response([])
        return Response([self._data(r) for r in selectors.expert_queue(user=user)])  # type: ignore[arg-type]

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        review = access.access_review_of_expert(user=request.user,  # type: ignore[arg-type]
                                                review_id=pk)  # type: ignore[arg-type]
        return Response(self._data(review))

    @extend_schema(request=DeclareInput, responses={200: dict})
    @action(detail=True, methods=["post"])
    def declare(self, request: Request, pk: str | None = None) -> Response:
        access.access_review_of_expert(user=request.user, review_id=pk)  # type: ignore[arg-type]
        data = _valid(DeclareInput, request.data)
        review = services.review_declare(user=request.user,  # type: ignore[arg-type]
                                         review_id=pk, **data)  # type: ignore[arg-type]
        return Response(self._data(review))

    @extend_schema(request=ScoreInput, responses={200: dict})
    @action(detail=True, methods=["post"])
    def score(self, request: Request, pk: str | None = None) -> Response:
        access.access_review_of_expert(user=request.user, review_id=pk)  # type: ignore[arg-type]
        data = _valid(ScoreInput, request.data)
        review = services.review_submit(user=request.user,  # type: ignore[arg-type]
                                        review_id=pk,  # type: ignore[arg-type]
                                        scores=_keys(data["scores"]), comment=data["comment"])
        return Response(self._data(review))


class SiteViewSet(viewsets.ViewSet):
    """Pilot sites with their task books."""

    def _data(self, site) -> dict[str, Any]:
        return {"id": site.pk, "number": site.number, "agency_id": site.agency_id,
                "agency": site.agency.name, "call_id": site.call_id, "plan_id": site.plan_id,
                "application_id": site.application_id}

    def list(self, request: Request) -> Response:
        sites = access.sites_visible_to(user=request.user)  # type: ignore[arg-type]
        return Response([self._data(s) for s in selectors.sites_of(sites=sites)[:500]])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        site = access.access_site_by_id(user=request.user, site_id=pk)  # type: ignore[arg-type]
        data = self._data(site)
        data["tasks"] = [{"task_id": t.pk, "title": t.title, "deadline": t.deadline}
                         for t in site.plan.tasks.order_by("order")]
        return Response(data)

    @extend_schema(responses={(200, DOCX): bytes})
    @action(detail=True, methods=["get"])
    def taskbook(self, request: Request, pk: str | None = None) -> HttpResponse:
        site = access.access_site_by_id(user=request.user, site_id=pk)  # type: ignore[arg-type]
        response = HttpResponse(taskbook_docx(site), content_type=DOCX)
        name = quote(f"{site.agency.name}任务书.docx")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
        return response


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
    router.register("selection/calls", CallViewSet, basename="selection-calls")
    router.register("selection/applications", ApplicationViewSet,
                    basename="selection-applications")
    router.register("selection/reviews", ReviewViewSet, basename="selection-reviews")
    router.register("selection/sites", SiteViewSet, basename="selection-sites")
