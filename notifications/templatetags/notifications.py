"""{% load notifications %}{% inbox_link %}: a link to the inbox with the unread count, for
any page (the resident's /me/, a worker's pages)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from notifications.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_link(context: dict[str, Any]) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    unread = unread_count(user)
    badge = (
        format_html(' <span class="badge" id="inbox-unread">{}</span>', unread) if unread else ""
    )
    return format_html(
        '<a href="{}" id="go-inbox">{}{}</a>', reverse("notifications:inbox"), _("Messages"), badge
    )
