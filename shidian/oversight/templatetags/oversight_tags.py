"""Template helpers of the oversight pages: the inbox badge and the lights."""
from __future__ import annotations

from django import template

from shidian.oversight import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    """Unread inbox messages of the signed-in user (one COUNT query per page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return selectors.inbox_unread_count(user=user)


LIGHT_CLASSES = {"green": "text-bg-success", "yellow": "text-bg-warning",
                 "red": "text-bg-danger"}


@register.filter
def light_class(light) -> str:
    return LIGHT_CLASSES.get(str(light), "text-bg-secondary")


@register.filter
def light_for(lights, key) -> str:
    """The light of one task or unit from a dict keyed by id (``lights|light_for:task.pk``);
    empty when it has none (a draft task, a unit without duties)."""
    if not lights:
        return ""
    found = lights.get(key) if hasattr(lights, "get") else None
    return str(found) if found is not None else ""


@register.inclusion_tag("web/oversight/_light_legend.html")
def light_legend(rule, link_plan=None) -> dict:
    """The rule behind the colours in one line, for every page that shows lights."""
    return {"rule": rule, "link_plan": link_plan}
