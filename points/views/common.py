"""What the points views share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rest_framework.permissions import IsAuthenticated

from core.permissions import ActionPermissions
from points.models import CatalogItem

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass


class PointsViewSetMixin:
    permission_classes: Sequence[_PermissionClass] = [IsAuthenticated, ActionPermissions]
    action_permissions: dict[str, list[str]] = {}


def order_lines(data: dict[str, Any]) -> list[tuple[CatalogItem, int]]:
    return [(line["item"], line["quantity"]) for line in data["lines"]]
