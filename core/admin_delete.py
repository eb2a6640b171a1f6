"""Deletes in the admin that go through a service.

Django's admin deletes with `obj.delete()` (one object) and `queryset.delete()` (the "delete
selected" action), which bypasses the rules a service enforces: who may delete (the service
refuses an unauthorised user itself) and when (a council whose agenda is fixed, an activity
members signed up for). An admin mixing in `DeleteThroughServiceMixin` names the service in
`delete_through_service` (acting as `core.types.acting_user(request)`); the delete page and
the "delete selected" action call it object by object, each in its own transaction, and a
refusal (ValidationError, PermissionDenied, ProtectedError) comes back as a message with that
object kept, instead of a server error. Only what was deleted is logged and counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as confirm_delete_selected
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Any]
else:
    ModelAdminBase = object

REFUSALS = (ValidationError, PermissionDenied, ProtectedError)


def _reason(exc: Exception, obj: models.Model) -> str:
    if isinstance(exc, ProtectedError):  # Django's own words (its catalog translates them)
        return _("Cannot delete %(name)s") % {"name": obj._meta.verbose_name}
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


class _Refused(Exception):
    """The service refused the delete of delete_view's object (the admin's own permission
    check, a PermissionDenied raised before, stays a 403)."""


def _delete_selected_through_service(
    modeladmin: DeleteThroughServiceMixin, request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse | None:
    """The "delete selected" action: Django's confirmation page, then each object through
    the service."""
    if not request.POST.get("post"):
        return confirm_delete_selected(modeladmin, request, queryset)
    deleted = 0
    for obj in queryset:
        try:
            with transaction.atomic():
                # Django reads it with len() and a loop: one object in a list will do.
                modeladmin.log_deletions(request, [obj])  # type: ignore[arg-type]
                modeladmin.delete_through_service(request, obj)
        except REFUSALS as exc:
            modeladmin.message_user(request, f"{obj}: {_reason(exc, obj)}", messages.WARNING)
        else:
            deleted += 1
    if deleted:
        modeladmin.message_user(
            request,
            _("Successfully deleted %(count)d %(items)s.")
            % {"count": deleted, "items": model_ngettext(modeladmin.opts, deleted)},
            messages.SUCCESS,
        )
    return None


class DeleteThroughServiceMixin(ModelAdminBase):
    def delete_through_service(self, request: HttpRequest, obj: Any) -> None:
        """Delete `obj` through the app's service."""
        raise NotImplementedError

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        try:
            self.delete_through_service(request, obj)
        except REFUSALS as exc:
            raise _Refused(_reason(exc, obj)) from exc

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except _Refused as exc:
            # The admin's delete_view runs in a transaction: the refusal rolled it back.
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The stubs say an action returns str; ours, like Django's own, a response or None.
        actions: dict[str, Any] = super().get_actions(request)
        if "delete_selected" in actions:  # present only with the delete permission
            _func, name, description = actions["delete_selected"]
            actions[name] = (_delete_selected_through_service, name, description)
        return actions
