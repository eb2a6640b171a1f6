"""notifications/: the caller's inbox (only their own notifications: another user's is 404)."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.pagination import Pagination
from core.types import acting_user
from notifications import selectors, services
from notifications.events import Event
from notifications.models import Notification
from notifications.serializers import (
    NotificationSerializer,
    ReadAllSerializer,
    UnreadCountSerializer,
)


class NotificationFilter(filters.FilterSet):
    event = filters.ChoiceFilter(choices=Event.choices)
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["event", "unread"]


class InboxPagination(Pagination):
    """The project's pages, with `unread`: the unread count of the whole inbox."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["properties"]["unread"] = {"type": "integer", "example": 2}
        paged["required"] = [*paged.get("required", []), "unread"]
        return paged


class NotificationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """My notifications (站内消息), newest first; the list's answer also gives the unread
    count. Marking read is idempotent by nature (a second mark changes nothing)."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = InboxPagination

    def get_queryset(self) -> Any:
        return selectors.inbox_for(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        if isinstance(response.data, dict):
            response.data["unread"] = selectors.unread_count(request.user)
        return response

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = services.mark_read(user=acting_user(request), notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=ReadAllSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.mark_all_read(user=acting_user(request))})

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(request.user)})
