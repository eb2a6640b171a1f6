"""API permissions: the role (a group's model permissions) says what, the scope says where."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.request import Request

from core.scope import scoped
from core.types import AnyUser


class RoleModelPermissions(DjangoModelPermissions):
    """Like DRF's, but reading needs the view permission too."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def _queryset(self, view: Any) -> Any:
        # Only the model is needed here. DRF would call get_queryset(), which resolves the
        # caller's scope and validates query parameters (visits/due's within_days) before the
        # role is checked: a user without the permission got a 400, not a 403.
        queryset = getattr(view, "queryset", None)
        return queryset if queryset is not None else super()._queryset(view)


class ActionPermissions(RoleModelPermissions):
    """The role's model permissions for the CRUD actions; for an extra action, the permissions
    the view names in `action_permissions` under (action, method) or the action alone
    (approving a claim is a change, not an add)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        table = getattr(view, "action_permissions", {})
        action_name = getattr(view, "action", None)
        perms = table.get((action_name, request.method), table.get(action_name))
        if perms is None:
            return super().has_permission(request, view)
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(perms))


class HasPermissions(BasePermission):
    """For views with no model of their own: the permissions in `view.required_perms`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated and request.user.has_perms(view.required_perms))


def ensure_in_scope(user: AnyUser, obj: models.Model) -> None:
    """Refuse (403) a write that would put something under an object outside the user's scope."""
    if not scoped(type(obj)._default_manager.all()).for_user(user).filter(pk=obj.pk).exists():
        # Name the kind and id only: str(obj) (an address, a name) is not the caller's to read.
        raise PermissionDenied(
            _("%(model)s %(id)s is outside your area: you cannot write there.")
            % {"model": obj._meta.verbose_name, "id": obj.pk}
        )
