from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.idempotency import HEADER, IdempotentCreateMixin
from core.permissions import RoleModelPermissions, ensure_in_scope
from core.scope import scoped

if TYPE_CHECKING:
    from rest_framework.views import APIView as _ViewBase
else:
    _ViewBase = object

# The Idempotency-Key header, for the OpenAPI description of actions that honour it.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (1-255 characters). The same key and body again returns the first "
        "response and changes nothing; the same key with another body answers 409."
    ),
)


def validated(serializer_class: type, data: Any) -> dict[str, Any]:
    """An input serializer's validated data; a 400 with field messages otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    validated_data: dict[str, Any] = serializer.validated_data
    return validated_data


class ErrorsAsJsonMixin(_ViewBase):
    """An error is JSON with its field messages also when a document (`?format=xlsx`,
    `?format=html`) was asked for: those renderers pass the view's bytes through and would
    answer a 400 as a broken workbook or page."""

    def handle_exception(self, exc: Exception) -> Response:
        request = self.request
        if not isinstance(getattr(request, "accepted_renderer", None), JSONRenderer | type(None)):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class ScopedModelViewSet(IdempotentCreateMixin, viewsets.ModelViewSet[Any]):
    """CRUD over `queryset.for_user(request.user)`.

    Reads outside the scope find nothing (404). A create or update whose `scope_parents` point
    outside the scope is refused (403).
    """

    permission_classes = [IsAuthenticated, RoleModelPermissions]
    scope_parents: tuple[str, ...] = ()

    def get_queryset(self) -> Any:
        return scoped(super().get_queryset()).for_user(self.request.user)

    def check_parents(self, data: dict[str, Any]) -> None:
        for name in self.scope_parents:
            value = data.get(name)
            for obj in value if isinstance(value, list | tuple) else [value]:
                if obj is not None:
                    ensure_in_scope(self.request.user, obj)

    def perform_create(self, serializer: Any) -> None:
        self.check_parents(serializer.validated_data)
        serializer.save()

    def perform_update(self, serializer: Any) -> None:
        self.check_parents(serializer.validated_data)
        serializer.save()
