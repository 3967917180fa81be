"""The task book (任务书) of a pilot site as a Word document in 公文 layout (GB/T 9704), built on
``shidian.exports``: the site, its tasks with their deadlines as a table, its reporting duty
and the review result, signed by the issuing body on the day of approval."""
from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from shidian.exports.docx import OfficialDocument, Section
from shidian.exports.notices import Table, official_notice_docx

from .models import PilotSite

def _date(day) -> str:
    return formats.date_format(day, "DATE_FORMAT") if day else _("not set")


def _heading(index: int, text: str) -> str:
    return f"{'一二三四'[index]}、{text}"


def taskbook_document(site: PilotSite) -> tuple[OfficialDocument, list[Table]]:
    call = site.call
    application = site.application
    tasks = list(site.plan.tasks.order_by("order"))
    decided = timezone.localdate(application.decided_at) if application.decided_at else None
    tasks_heading = _heading(1, _("Pilot tasks"))
    unit = [
        _("Unit: %(name)s") % {"name": site.agency.name},
        _("Area: %(name)s") % {"name": site.agency.division.name},
        _("Category: %(name)s") % {"name": application.category},
        _("Places of: %(region)s") % {"region": application.region},
        _("Pilot period: %(start)s to %(end)s") % {"start": _date(call.pilot_starts_on),
                                                   "end": _date(call.pilot_ends_on)},
    ]
    reporting = [
        _("The pilot site reports its progress every quarter on the platform by the 25th of "
          "the quarter's last month: what each task has achieved, the problems met and the "
          "next steps, with supporting evidence."),
        _("Every task is to be completed by %(date)s; at the end of the pilot the site writes "
          "its summary.") % {"date": _date(call.pilot_ends_on)},
    ]
    review = [_("Review score: %(score)s points (%(n)s expert scores counted).")
              % {"score": application.score, "n": application.reviews_counted}]
    if application.rank:
        review.append(_("Rank %(rank)s in its category.") % {"rank": application.rank})
    if application.over_quota:
        review.append(_("Approved beyond the quota; reason: %(reason)s")
                      % {"reason": application.override_reason})
    document = OfficialDocument(
        title=_("%(call)s: task book") % {"call": call.title},
        subtitle=_("No. %(number)s") % {"number": site.number},
        sections=[Section(_heading(0, _("Pilot site")), unit), Section(tasks_heading, []),
                  Section(_heading(2, _("Reporting")), reporting),
                  Section(_heading(3, _("Review result")), review)],
        signature=call.plan.issuer or str(call.programme),
        dated=decided,
    )
    rows = [[str(n), task.title, _date(task.deadline)] for n, task in enumerate(tasks, start=1)]
    table = Table(after=tasks_heading, header=[_("No."), _("Task"), _("Deadline")], rows=rows,
                  widths=[1, 7, 3])
    return document, [table]


def taskbook_docx(site: PilotSite) -> bytes:
    document, tables = taskbook_document(site)
    return official_notice_docx(document, tables=tables)
