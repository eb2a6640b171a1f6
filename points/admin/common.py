"""What the points admins share: the refusals a service raises, shown in the message bar,
and the read-only mixin of rows only services write."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

REFUSALS = (ValidationError, PermissionDenied, ApiPermissionDenied)


def refusal_text(exc: Exception) -> str:
    """The messages of a service's refusal, for the admin's message bar."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "detail", "") or exc) or gettext("Permission denied.")


class ReadOnlyAdminMixin:
    """No add, change or delete for anyone, the superuser included: rows are written only by
    points.services."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def signed(points: int) -> str:
    return f"{points:+d}"
