"""What the rule book comparison shows of a rule's field (issue 15)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from points.models import Rule

register = template.Library()


@register.simple_tag
def rule_value(rule: Rule, name: str) -> str:
    """A rule's field as the comparison shows it: the category's label, yes/no, — for none."""
    if name == "category":
        return str(rule.get_category_display())
    value = getattr(rule, name)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return "—" if value is None else str(value)
