"""The kinds of notification (通知事项) and what each says.

Each event's text is a Django template in Chinese, `templates/notifications/<event>.txt`,
rendered with the context the hook gives (plain text, no HTML escaping). The SMS provider
needs a template of its own, registered with it and named by a code in the setting
SMS_TEMPLATES (event → template code); the same context goes to it as its parameters.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.template import Context
from django.template.loader import get_template
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    CLAIM_APPROVED = "claim_approved", _("claim approved")
    CLAIM_REJECTED = "claim_rejected", _("claim rejected")
    DEDUCTION = "deduction", _("points deducted")
    ORDER_PLACED = "order_placed", _("order placed")
    ORDER_READY = "order_ready", _("order ready for pickup")
    ORDER_REFUNDED = "order_refunded", _("order refunded")
    NEED_ACCEPTED = "need_accepted", _("need accepted")
    NEED_ASSIGNED = "need_assigned", _("need assigned")
    NEED_RESOLVED = "need_resolved", _("need resolved")
    NEED_REJECTED = "need_rejected", _("need rejected")
    RECTIFICATION_DUE = "rectification_due", _("rectification due")
    MICRO_WISH_OFFERED = "micro_wish_offered", _("micro-wish offered")
    DAILY_DIGEST = "daily_digest", _("daily digest: visits overdue and needs due")
    NOTICE_PUBLISHED = "notice_published", _("public notice published")
    OBJECTION_DECIDED = "objection_decided", _("objection decided")
    ACTIVITY_TOMORROW = "activity_tomorrow", _("volunteer activity tomorrow")


def render_text(event: str, context: dict[str, Any]) -> str:
    """The notification's text: templates/notifications/<event>.txt, not HTML-escaped."""
    template = get_template(f"notifications/{event}.txt")
    engine_template = template.template  # type: ignore[attr-defined]  # the Django backend's
    return str(engine_template.render(Context(context, autoescape=False))).strip()
