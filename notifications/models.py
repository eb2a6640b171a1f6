"""Notifications (通知): what was said to whom, and how each channel carried it.

A Notification is the message itself and the in-app inbox's row (read_at); each outside
channel it goes through (e-mail, SMS) is a Delivery, whose status and last error say what
happened, so a failure is recorded and never lost. A NotificationSetting turns one kind of
notification off for a community (no row: on).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scope import ScopedQuerySet, paths_through_community
from notifications.events import Event


class Notification(models.Model):  # 通知
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
        help_text=_("Empty for a resident without a login, reached by SMS."),
    )
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resident"),
    )
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    text = models.TextField(_("text"))
    # The context the text was rendered from: the SMS template's parameters.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # event + the object it is about + the recipient: the same fact is told once, however
    # often the code that tells it runs (a retried request, a re-run job).
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    # The notify() call that made it (one per call, many rows for a set-based call).
    batch = models.UUIDField(_("batch"), db_index=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | Q(resident__isnull=False),
                name="notification_has_recipient",
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.text[:40]}"


class Delivery(models.Model):  # 发送记录
    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        # quiet hours or the rate limit: sent later (not_before)
        HELD = "held", pgettext_lazy("delivery", "held")
        FAILED = "failed", _("failed")  # every retry failed: see last_error

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254, help_text=_("Phone or e-mail."))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("notification__community")

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["status", "not_before"], name="delivery_due"),
            models.Index(fields=["channel", "address", "sent_at"], name="delivery_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address}: {self.get_status_display()}"


class NotificationSetting(models.Model):  # 通知开关: per community and event
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("community"),
    )
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")
        ordering = ["community", "event"]
        constraints = [
            models.UniqueConstraint(fields=["community", "event"], name="notification_setting_once")
        ]

    def __str__(self) -> str:
        return f"{self.community}: {self.get_event_display()}"
