from __future__ import annotations

from typing import Any

from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from core.idempotency import IdempotentCreateMixin
from core.permissions import RoleModelPermissions, ensure_in_scope


class ScopedModelViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """CRUD over `queryset.for_user(request.user)`.

    Reads outside the scope find nothing (404). A create or update whose `scope_parents` point
    outside the scope is refused (403).
    """

    permission_classes = [IsAuthenticated, RoleModelPermissions]
    scope_parents: tuple[str, ...] = ()

    def get_queryset(self) -> Any:
        return super().get_queryset().for_user(self.request.user)

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
