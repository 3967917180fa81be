"""The only gate to oversight objects, built on the plans gate (``shidian.plans.access``).

- The plan office and administrators (their division subtree) set rules and robots, issue and
  decide notices, run inspection rounds, scorecards and bulletins; leaders read all of it.
- A unit liaison (or pilot site) sees the notices addressed to its agencies and answers them,
  the rectifications its agencies own and reports their completion, and the self-assessment
  of its agencies in an evaluation.
- An inspector or expert sees the rounds whose team they are on, records findings there and
  verifies the rectifications that came out of them.
- Whoever the office names a reviewer of an evaluation round (an expert, a leader, office
  staff of the plan's area) sees that round and scores its items scored by hand.
- A programme's scorecards and annual rounds (and their bulletins) belong to the programme's
  office: offices and administrators whose division is the programme's or above (a national
  programme: national offices only); leaders there read them. A plan's office below the
  programme sees none of it, unless it is named a reviewer; its units see their own rows.
- Everyone reads their own inbox, nobody else's.

Missing and forbidden objects are answered alike (not found), so ids cannot be probed.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from shidian.core.errors import not_found
from shidian.orgs.access import agencies_visible_to, division_q, sees_subtree, user_agency_ids
from shidian.orgs.models import Agency, Role, User
from shidian.plans.access import (access_plan_by_id, can_write_plans, plans_visible_to,
                                  plans_writable_by, tasks_writable_by)
from shidian.plans.models import Plan, Programme

from shidian.reporting.models import Evidence

from .models import (BriefingIssue, Bulletin, Evaluation, EvaluationReviewer, FindingPhoto,
                     InspectionRound, InspectionVisit, Message, Rectification, Score, Scorecard,
                     ScoreItem, SupervisionNotice, Webhook)

# Roles that answer notices and rectification orders for the agencies they act for.
UNIT_ROLES = frozenset({Role.LIAISON, Role.PILOT_SITE})

__all__ = [
    "is_office", "sees_oversight", "is_unit", "plans_for_office", "access_plan_for_office",
    "access_plan_for_reading", "tasks_writable_by", "notices_visible_to", "access_notice_by_id",
    "access_notice_for_office", "access_notice_for_reply", "access_message_by_id",
    "access_webhook_for_office", "rounds_visible_to", "access_round_by_id",
    "access_round_for_office", "access_visit_for_inspector", "visits_visible_to",
    "rectifications_visible_to", "access_rectification_by_id",
    "access_rectification_for_owner", "access_rectification_for_verifier",
    "scorecards_visible_to", "access_scorecard_for_office", "access_scorecard_by_id",
    "evaluations_visible_to", "access_evaluation_by_id", "access_evaluation_for_office",
    "access_visit_by_id", "access_photo_by_id", "sites_visible_to", "access_site_by_id",
    "visits_of_site_visible_to", "is_inspector", "bulletins_visible_to",
    "access_bulletin_by_id", "access_briefing_by_id", "access_score_item_for_office",
    "access_evaluation_for_review", "access_evaluation_evidence", "is_reviewer_of",
    "reviewer_conflicted", "programmes_for_office", "programmes_for_reading",
    "access_programme_for_office", "access_programme_for_reading", "is_office_of_scorecard",
    "bulletins_for_office",
]



def is_office(user: User) -> bool:
    """Offices and administrators write oversight objects in their subtree."""
    return can_write_plans(user)


def sees_oversight(user: User) -> bool:
    """Offices, leaders and administrators read the oversight pages of their subtree."""
    return sees_subtree(user)


def is_unit(user: User) -> bool:
    return bool(user.is_active and user.role in UNIT_ROLES and not sees_subtree(user))


def is_inspector(user: User) -> bool:
    return bool(user.is_active and user.role == Role.EXPERT)


# -- plans ----------------------------------------------------------------------------------
def plans_for_office(*, user: User) -> QuerySet[Plan]:
    """Published plans whose oversight the user runs."""
    return plans_writable_by(user=user).filter(version__gt=0)


def access_plan_for_office(*, user: User, plan_id: int | str) -> Plan:
    try:
        return (plans_for_office(user=user).select_related("division", "programme", "office")
                .get(pk=plan_id))
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise not_found("plan") from None


def access_plan_for_reading(*, user: User, plan_id: int | str) -> Plan:
    """A plan whose oversight pages the user reads (office, leader, administrator)."""
    if not sees_oversight(user):
        raise not_found("plan")
    return access_plan_by_id(user=user, plan_id=plan_id)


# -- programmes (their annual rounds) -------------------------------------------------------
def programmes_for_office(*, user: User) -> QuerySet[Programme]:
    """Programmes whose annual rounds the user runs: an office or administrator of the
    programme's division or above."""
    if not is_office(user):
        return Programme.objects.none()
    return Programme.objects.filter(division_q(user))


def programmes_for_reading(*, user: User) -> QuerySet[Programme]:
    """Programmes whose rounds the user reads in full: offices, leaders and administrators of
    the programme's division or above."""
    if not sees_oversight(user):
        return Programme.objects.none()
    return Programme.objects.filter(division_q(user))


def access_programme_for_office(*, user: User, programme_id: int | str) -> Programme:
    try:
        return programmes_for_office(user=user).select_related("division").get(pk=programme_id)
    except (Programme.DoesNotExist, ValueError, TypeError):
        raise not_found("programme") from None


def access_programme_for_reading(*, user: User, programme_id: int | str) -> Programme:
    try:
        return (programmes_for_reading(user=user).select_related("division")
                .get(pk=programme_id))
    except (Programme.DoesNotExist, ValueError, TypeError):
        raise not_found("programme") from None


def _office_q(user: User, prefix: str = "") -> Q:
    """Rows whose scorecard the user's office runs: its plan's, or its programme's."""
    return (Q(**{f"{prefix}plan__in": plans_for_office(user=user)})
            | Q(**{f"{prefix}programme__in": programmes_for_office(user=user)}))


def is_office_of_scorecard(*, user: User, scorecard: Scorecard) -> bool:
    """Whether the user runs this scorecard (its plan's or its programme's office)."""
    if scorecard.programme_id is not None:
        return programmes_for_office(user=user).filter(pk=scorecard.programme_id).exists()
    return plans_for_office(user=user).filter(pk=scorecard.plan_id).exists()


# -- messages and robots --------------------------------------------------------------------
def access_message_by_id(*, user: User, message_id: int | str) -> Message:
    try:
        return Message.objects.get(pk=message_id, recipient=user)
    except (Message.DoesNotExist, ValueError, TypeError):
        raise not_found("message") from None


def access_webhook_for_office(*, user: User, webhook_id: int | str) -> Webhook:
    try:
        return Webhook.objects.select_related("plan").get(
            pk=webhook_id, plan__in=plans_for_office(user=user))
    except (Webhook.DoesNotExist, ValueError, TypeError):
        raise not_found("robot") from None


# -- notices --------------------------------------------------------------------------------
def notices_visible_to(*, user: User) -> QuerySet[SupervisionNotice]:
    if not user.is_active:
        return SupervisionNotice.objects.none()
    if sees_subtree(user):
        return SupervisionNotice.objects.filter(division_q(user, "plan__division"))
    if is_unit(user):
        return SupervisionNotice.objects.filter(agency_id__in=user_agency_ids(user))
    return SupervisionNotice.objects.none()


def access_notice_by_id(*, user: User, notice_id: int | str) -> SupervisionNotice:
    try:
        return (notices_visible_to(user=user).select_related("plan", "plan__division", "agency")
                .get(pk=notice_id))
    except (SupervisionNotice.DoesNotExist, ValueError, TypeError):
        raise not_found("notice") from None


def access_notice_for_office(*, user: User, notice_id: int | str) -> SupervisionNotice:
    """A notice the user may accept, return or escalate (the office of its plan)."""
    if not is_office(user):
        raise not_found("notice")
    notice = access_notice_by_id(user=user, notice_id=notice_id)
    if not plans_writable_by(user=user).filter(pk=notice.plan_id).exists():
        raise not_found("notice")
    return notice


def access_notice_for_reply(*, user: User, notice_id: int | str) -> SupervisionNotice:
    """A notice addressed to one of the agencies the user answers for."""
    if not is_unit(user):
        raise not_found("notice")
    return access_notice_by_id(user=user, notice_id=notice_id)


# -- inspections and rectification ----------------------------------------------------------
def rounds_visible_to(*, user: User) -> QuerySet[InspectionRound]:
    if not user.is_active:
        return InspectionRound.objects.none()
    if sees_subtree(user):
        return InspectionRound.objects.filter(division_q(user, "plan__division"))
    if is_inspector(user):
        return InspectionRound.objects.filter(memberships__user=user)
    return InspectionRound.objects.none()


def access_round_by_id(*, user: User, round_id: int | str) -> InspectionRound:
    try:
        return rounds_visible_to(user=user).select_related("plan", "plan__division").get(
            pk=round_id)
    except (InspectionRound.DoesNotExist, ValueError, TypeError):
        raise not_found("round") from None


def access_round_for_office(*, user: User, round_id: int | str) -> InspectionRound:
    try:
        return InspectionRound.objects.select_related("plan").get(
            pk=round_id, plan__in=plans_for_office(user=user))
    except (InspectionRound.DoesNotExist, ValueError, TypeError):
        raise not_found("round") from None


def _inspects(user: User) -> Q:
    """Visits the user may record findings at: their rounds' (team) or their plans' (office)."""
    own_rounds = Q(round__memberships__user=user) if is_inspector(user) else Q(pk__in=[])
    office = Q(round__plan__in=plans_for_office(user=user)) if is_office(user) else Q(pk__in=[])
    return own_rounds | office


def visits_visible_to(*, user: User) -> QuerySet[InspectionVisit]:
    return InspectionVisit.objects.filter(round__in=rounds_visible_to(user=user))


def access_visit_for_inspector(*, user: User, visit_id: int | str) -> InspectionVisit:
    try:
        return (InspectionVisit.objects.filter(_inspects(user)).distinct()
                .select_related("round", "round__plan", "site").get(pk=visit_id))
    except (InspectionVisit.DoesNotExist, ValueError, TypeError):
        raise not_found("visit") from None


def rectifications_visible_to(*, user: User) -> QuerySet[Rectification]:
    if not user.is_active:
        return Rectification.objects.none()
    if sees_subtree(user):
        return Rectification.objects.filter(
            division_q(user, "finding__visit__round__plan__division"))
    if is_inspector(user):
        return Rectification.objects.filter(finding__visit__round__memberships__user=user)
    if is_unit(user):
        return Rectification.objects.filter(owner_id__in=user_agency_ids(user))
    return Rectification.objects.none()


def access_rectification_by_id(*, user: User, rectification_id: int | str) -> Rectification:
    try:
        return (rectifications_visible_to(user=user)
                .select_related("owner", "finding", "finding__visit", "finding__visit__site",
                                "finding__visit__round", "finding__visit__round__plan")
                .get(pk=rectification_id))
    except (Rectification.DoesNotExist, ValueError, TypeError):
        raise not_found("rectification") from None


def access_rectification_for_owner(*, user: User, rectification_id: int | str
                                   ) -> Rectification:
    if not is_unit(user):
        raise not_found("rectification")
    return access_rectification_by_id(user=user, rectification_id=rectification_id)


def access_rectification_for_verifier(*, user: User, rectification_id: int | str
                                      ) -> Rectification:
    """A rectification the user may close or return: the team of its round, or the office."""
    item = access_rectification_by_id(user=user, rectification_id=rectification_id)
    if not InspectionVisit.objects.filter(_inspects(user), pk=item.finding.visit_id).exists():
        raise not_found("rectification")
    return item


# -- scorecards -----------------------------------------------------------------------------
def scorecards_visible_to(*, user: User) -> QuerySet[Scorecard]:
    if not sees_oversight(user):
        return Scorecard.objects.none()
    return Scorecard.objects.filter(Q(plan__in=plans_visible_to(user=user))
                                    | Q(programme__in=programmes_for_reading(user=user)))


def access_scorecard_by_id(*, user: User, scorecard_id: int | str) -> Scorecard:
    try:
        return (scorecards_visible_to(user=user).select_related("plan", "programme")
                .get(pk=scorecard_id))
    except (Scorecard.DoesNotExist, ValueError, TypeError):
        raise not_found("scorecard") from None


def access_scorecard_for_office(*, user: User, scorecard_id: int | str) -> Scorecard:
    try:
        return Scorecard.objects.select_related("plan", "plan__division", "programme").get(
            _office_q(user), pk=scorecard_id)
    except (Scorecard.DoesNotExist, ValueError, TypeError):
        raise not_found("scorecard") from None


def _reviews(user: User) -> Q:
    """The rounds the user was named a reviewer of (whatever their role and area)."""
    return Q(pk__in=EvaluationReviewer.objects.filter(user=user).values("evaluation_id"))


def evaluations_visible_to(*, user: User) -> QuerySet[Evaluation]:
    """Offices and leaders: their plans' evaluations; units: those that assess their agency;
    anyone: the rounds they were named a reviewer of."""
    if not user.is_active:
        return Evaluation.objects.none()
    if sees_oversight(user):
        return Evaluation.objects.filter(Q(scorecard__in=scorecards_visible_to(user=user))
                                         | _reviews(user))
    if is_unit(user):
        subjects = [f"a{pk}" for pk in user_agency_ids(user)]
        assessed = Q(pk__in=Score.objects.filter(subject__in=subjects).values("evaluation_id"))
        return Evaluation.objects.filter(assessed | _reviews(user))
    return Evaluation.objects.filter(_reviews(user))


def is_reviewer_of(*, user: User, evaluation: Evaluation) -> bool:
    return bool(user.is_active
                and evaluation.reviewers.filter(user=user).exists())


def access_evaluation_by_id(*, user: User, evaluation_id: int | str) -> Evaluation:
    try:
        return (evaluations_visible_to(user=user)
                .select_related("scorecard", "scorecard__plan", "scorecard__plan__division",
                                "scorecard__programme")
                .get(pk=evaluation_id))
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise not_found("evaluation") from None


def access_evaluation_for_office(*, user: User, evaluation_id: int | str) -> Evaluation:
    try:
        return Evaluation.objects.select_related(
            "scorecard", "scorecard__plan", "scorecard__plan__division",
            "scorecard__programme").get(_office_q(user, "scorecard__"), pk=evaluation_id)
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise not_found("evaluation") from None


def reviewer_conflicted(reviewer: User, subject: str) -> bool:
    """A reviewer does not score a unit they act for ("a<id>"), nor the division they belong
    to ("d<code>")."""
    if subject.startswith("a"):
        return subject[1:] in {str(pk) for pk in user_agency_ids(reviewer)}
    code = subject[1:]
    return bool(code) and (reviewer.division_id or "").startswith(code)


def access_evaluation_for_review(*, user: User, evaluation_id: int | str) -> Evaluation:
    """A round the user may score as a reviewer: named to it, or the office of its plan."""
    evaluation = access_evaluation_by_id(user=user, evaluation_id=evaluation_id)
    if is_reviewer_of(user=user, evaluation=evaluation):
        return evaluation
    if is_office_of_scorecard(user=user, scorecard=evaluation.scorecard):
        return evaluation
    raise not_found("evaluation")


def access_evaluation_evidence(*, user: User, evaluation_id: int | str,
                               evidence_id: int | str) -> Evidence:
    """A file a self-assessment of the round cites: for its reviewers and office, its leaders,
    and the unit that attached it."""
    evaluation = access_evaluation_by_id(user=user, evaluation_id=evaluation_id)
    cited = Evidence.objects.filter(scores__evaluation=evaluation)
    if is_unit(user) and not is_reviewer_of(user=user, evaluation=evaluation):
        cited = cited.filter(agency_id__in=user_agency_ids(user))
    try:
        return cited.distinct().get(pk=evidence_id)
    except (Evidence.DoesNotExist, ValueError, TypeError):
        raise not_found("evidence") from None


def access_visit_by_id(*, user: User, visit_id: int | str) -> InspectionVisit:
    try:
        return (visits_visible_to(user=user)
                .select_related("round", "round__plan", "round__plan__division", "site")
                .get(pk=visit_id))
    except (InspectionVisit.DoesNotExist, ValueError, TypeError):
        raise not_found("visit") from None


def access_photo_by_id(*, user: User, photo_id: int | str) -> FindingPhoto:
    """A finding's photo: for whoever sees the visit or the rectification it belongs to."""
    visible = Q(finding__visit__in=visits_visible_to(user=user)) | Q(
        finding__rectification__in=rectifications_visible_to(user=user))
    try:
        return FindingPhoto.objects.filter(visible).distinct().get(pk=photo_id)
    except (FindingPhoto.DoesNotExist, ValueError, TypeError):
        raise not_found("photo") from None


def sites_visible_to(*, user: User) -> QuerySet[Agency]:
    """Sites whose inspection history the user reads: the agencies of an office's or leader's
    subtree, an inspector's sites, a unit's own agencies."""
    if not user.is_active:
        return Agency.objects.none()
    if sees_subtree(user):
        return agencies_visible_to(user=user)
    if is_inspector(user):
        return Agency.objects.filter(
            pk__in=InspectionVisit.objects.filter(round__memberships__user=user)
            .values("site_id"))
    if is_unit(user):
        return Agency.objects.filter(pk__in=user_agency_ids(user))
    return Agency.objects.none()


def access_site_by_id(*, user: User, site_id: int | str) -> Agency:
    try:
        return sites_visible_to(user=user).select_related("division").get(pk=site_id)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise not_found("site") from None


def visits_of_site_visible_to(*, user: User) -> QuerySet[InspectionVisit]:
    """The visits a user may read in a site's history: those of rounds the user sees, and for
    a unit, every visit of its own agencies."""
    if is_unit(user):
        return InspectionVisit.objects.filter(site_id__in=user_agency_ids(user))
    return visits_visible_to(user=user)


def bulletins_visible_to(*, user: User) -> QuerySet[Bulletin]:
    if not sees_oversight(user):
        return Bulletin.objects.none()
    return Bulletin.objects.filter(Q(plan__in=plans_visible_to(user=user))
                                   | Q(programme__in=programmes_for_reading(user=user)))


def bulletins_for_office(*, user: User) -> QuerySet[Bulletin]:
    """Bulletins the user may edit and issue: of their plans' or their programmes' office."""
    return Bulletin.objects.filter(_office_q(user))


def access_bulletin_by_id(*, user: User, bulletin_id: int | str) -> Bulletin:
    try:
        return bulletins_visible_to(user=user).select_related(
            "plan", "programme", "evaluation").get(
            pk=bulletin_id)
    except (Bulletin.DoesNotExist, ValueError, TypeError):
        raise not_found("bulletin") from None


def access_briefing_by_id(*, user: User, briefing_id: int | str) -> BriefingIssue:
    if not sees_oversight(user):
        raise not_found("briefing")
    try:
        return BriefingIssue.objects.select_related("plan", "plan__office", "plan__division").get(
            pk=briefing_id, plan__in=plans_visible_to(user=user))
    except (BriefingIssue.DoesNotExist, ValueError, TypeError):
        raise not_found("briefing") from None


def access_score_item_for_office(*, user: User, item_id: int | str) -> ScoreItem:
    try:
        return ScoreItem.objects.select_related("scorecard").get(
            _office_q(user, "scorecard__"), pk=item_id)
    except (ScoreItem.DoesNotExist, ValueError, TypeError):
        raise not_found("item") from None
