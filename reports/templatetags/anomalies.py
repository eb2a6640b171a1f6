"""`{% may_see_anomalies as show %}`: whether the user may open the points anomaly check (the
claims list and the quarter's page link to it only for them)."""

from __future__ import annotations

from typing import Any

from django import template

from reports.anomalies import may_see_anomalies as _may_see_anomalies

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_anomalies(context: dict[str, Any]) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and _may_see_anomalies(user))
