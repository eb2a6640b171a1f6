"""Changes of a resident's record made through a request (admin, API, pages) go to the audit
log. A receiver and not a service call because a resident is written from many places (the
admin's form and inline, the API, the import's single rows): a signal cannot be forgotten.
It records only; it carries no business rule. Bulk writes (the spreadsheet import) send no
signal and record one row themselves."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_save

from audit import services
from audit.models import AuditEvent

TRACKED = (
    "household_id", "name", "id_number", "gender", "birth_date", "phone", "is_party_member",
    "user_id",
)  # fmt: skip


def _before(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or services.current_request.get() is None or instance.pk is None:
        return
    instance._audit_before = sender._base_manager.filter(pk=instance.pk).values(*TRACKED).first()


def _saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or services.current_request.get() is None:
        return
    if created:
        services.record_resident_change(
            action=AuditEvent.Action.CREATE, resident=instance, changed=[]
        )
        return
    before = getattr(instance, "_audit_before", None) or {}
    changed = [
        name.removesuffix("_id") for name in TRACKED if before.get(name) != getattr(instance, name)
    ]
    instance._audit_before = None
    if changed:
        services.record_resident_change(
            action=AuditEvent.Action.UPDATE, resident=instance, changed=changed
        )


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if services.current_request.get() is None:
        return
    services.record_resident_change(action=AuditEvent.Action.DELETE, resident=instance, changed=[])


def connect() -> None:
    resident = apps.get_model("residents", "Resident")
    pre_save.connect(_before, sender=resident, dispatch_uid="audit_resident_before")
    post_save.connect(_saved, sender=resident, dispatch_uid="audit_resident_saved")
    post_delete.connect(_deleted, sender=resident, dispatch_uid="audit_resident_deleted")
