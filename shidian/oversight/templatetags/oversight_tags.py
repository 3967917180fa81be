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
