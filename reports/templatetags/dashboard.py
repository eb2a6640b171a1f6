"""`{% may_see_dashboard as show %}`: whether the user may open /dashboard/ (the admin index
shows its card only to them)."""

from __future__ import annotations

from typing import Any

from django import template

from reports.dashboard import may_see_dashboard as _may_see_dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_dashboard(context: dict[str, Any]) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and _may_see_dashboard(user))
