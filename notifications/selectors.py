"""Reads for notifications: a user's inbox (their own notifications only)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.types import AnyUser
from notifications.models import Notification


def inbox_for(user: AnyUser) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")


def unread_count(user: AnyUser) -> int:
    return inbox_for(user).filter(read_at__isnull=True).count()
