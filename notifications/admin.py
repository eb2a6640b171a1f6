"""The admin: each community's switches (通知开关), and what was sent, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import ScopedModelAdmin
from notifications.models import Delivery, Notification, NotificationSetting


@admin.register(NotificationSetting)
class NotificationSettingAdmin(ScopedModelAdmin):
    """A community's kinds of notification turned off (or on again). No row: on."""

    list_display = ["community", "event", "enabled"]
    list_filter = ["event", "enabled"]
    list_editable = ["enabled"]


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "address", "status", "attempts", "last_error", "not_before", "sent_at"]
    readonly_fields = ["channel", "address", "status", "attempts", "last_error", "not_before"]
    readonly_fields += ["sent_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ScopedModelAdmin):
    list_display = ["created_at", "event", "recipient", "resident", "text", "read_at"]
    list_filter = ["event", "created_at"]
    search_fields = ["text", "recipient__username", "resident__name"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    inlines = [DeliveryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ScopedModelAdmin):
    """Failed and held deliveries are found here (status filter), with their last error."""

    list_display = ["created_at", "channel", "address", "status", "attempts", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["address", "last_error"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
