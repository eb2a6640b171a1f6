"""The scoping every admin of the product shares.

Every changelist, change form, inline, list filter and foreign-key choice goes through
`Model.objects.for_user(user)` (see core.scope): a committee member sees, picks and saves only
inside their community, a street admin inside their street, a grid worker inside their grids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.login_protection import locked_until, lockouts_for, may_unlock, unlock
from core.models import LoginLockout
from core.scope import scoped
from core.types import AnyUser

_M = TypeVar("_M", bound=models.Model)

# The base of the admin mixins: BaseModelAdmin for the type checker, nothing at run time.
if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    ModelAdminBase = admin.options.BaseModelAdmin[Any]
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    ModelAdminBase = object
    _ModelAdmin = admin.ModelAdmin  # not subscriptable at run time


def scoped_queryset(model: type[_M], user: AnyUser) -> QuerySet[_M]:
    """The rows of `model` the user may see (all rows of an unscoped model such as Tag)."""
    qs = model._default_manager.all()
    if getattr(model, "scope_paths", None):
        qs = scoped(qs).for_user(user)
    # Models whose str() reads a related row name it, so choice lists make no query per row.
    if related := getattr(model, "str_select_related", ()):
        qs = qs.select_related(*related)
    return qs


def field_names(groups: Iterable[str | Sequence[str]] | None) -> list[str]:
    """The names in an admin `fields` list, a row of several fields (a tuple) giving each."""
    names: list[str] = []
    for group in groups or ():
        names += [group] if isinstance(group, str) else group
    return names


class ScopedAdminMixin(ModelAdminBase):
    """For ModelAdmin and inlines: rows, foreign-key choices and filters limited to the scope.

    Because the form field's queryset is scoped, a parent outside the scope is not a valid
    choice: the form refuses it, whatever the widget (select, autocomplete or raw id).
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if getattr(self.model, "scope_paths", None):
            qs = scoped(qs).for_user(request.user)
        return qs

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedModelAdmin(ScopedAdminMixin, _ModelAdmin):
    pass


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-object filter offering only the objects in the user's scope.

    Django's own lists every row of the related table: a committee member would see the
    names of every community and grid of the district in the sidebar.
    """

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str | _StrPromise]]:
        qs = scoped_queryset(field.related_model, request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


# ---------------------------------------------------------------------------- 登录锁定


@admin.register(LoginLockout)
class LoginLockoutAdmin(_ModelAdmin):
    """Failed logins (django-axes) of the user's area; the action 解除锁定 clears them, which
    ends a lockout at once. Committee members and street admins only (core.login_protection)."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "until"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    actions = ["unlock_selected"]
    fields = ("username", "ip_address", "user_agent", "path_info", "failures_since_start")
    readonly_fields = fields

    @admin.display(description=_("locked until"))
    def until(self, obj: LoginLockout) -> Any:
        return locked_until(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs: QuerySet[Any] = LoginLockout.objects.filter(
            pk__in=lockouts_for(request.user).values("pk")
        )
        return qs

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff and may_unlock(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Unlock the selected logins"))
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = unlock(user=request.user, attempts=queryset)
        self.message_user(
            request, gettext("%(count)d failed-login records cleared.") % {"count": count}
        )
