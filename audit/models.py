"""The audit log of personal data (审计日志): who saw a full ID number, who exported a list with
names, who changed a resident's record — when and from which IP.

Append-only like the ledger (points.models.Entry): the ORM refuses to change or delete a row
and, on PostgreSQL, a trigger refuses it too (audit/migrations/0002_append_only.py). The one
deletion is the set-based pruning of rows older than AUDIT_RETENTION_DAYS
(audit.services.prune_audit_log).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scope import ScopedQuerySet


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEventQuerySet(ScopedQuerySet):
    def update(self, **kwargs: object) -> int:
        raise AuditLogIsAppendOnly(_("The audit log cannot be changed."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(_("The audit log cannot be deleted; it is pruned by age."))


class AuditEvent(models.Model):  # 审计日志
    class Action(models.TextChoices):
        VIEW_ID = "view_id", _("viewed a full ID number")
        EXPORT = "export", _("exported")
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        IMPORT = "import", _("imported")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # No foreign-key constraint and no cascade: deleting a user or a street must neither
    # delete nor update the log (Django's SET_NULL would be an UPDATE).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    street = models.ForeignKey(
        "grids.Street",
        verbose_name=_("street"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AuditEventQuerySet.as_manager()

    scope_paths = {"street": "street_id"}

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly(_("The audit log cannot be changed."))
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly(_("The audit log cannot be deleted; it is pruned by age."))
