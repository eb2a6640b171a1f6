from __future__ import annotations

from typing import Any

from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    event_display = serializers.CharField(source="get_event_display", read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event", "event_display", "text", "link", "created_at", "read_at", "read"]
        read_only_fields = fields

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class UnreadCountSerializer(serializers.Serializer[Any]):
    unread = serializers.IntegerField()


class ReadAllSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField()
