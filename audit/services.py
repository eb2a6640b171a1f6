"""Writes of the audit log: one row per event, in the transaction of the request's own work
where there is one (a change rolled back leaves no audit row), and the pruning by age.

Who and from where come from the request: the audit middleware (audit.middleware) keeps the
current request in a context variable, so a service or a receiver deep down can record without
having the request passed to it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEvent
from core import login_protection
from core.scope import scope_for
from core.types import AnyUser

if TYPE_CHECKING:
    from django.db.models import Model

current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)

RESIDENT = "residents.resident"


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the login limits see it (REMOTE_ADDR, or behind
    TRUSTED_PROXY_COUNT proxies the address they were given)."""
    address = login_protection.client_ip(request) if request is not None else None
    try:  # the column is an inet on PostgreSQL: a malformed header must not fail the request
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


def _actor(request: HttpRequest | None, user: AnyUser | None) -> AnyUser | None:
    if user is None and request is not None:
        user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _user_street_id(user: AnyUser | None) -> int | None:
    """The street of a user with one street (a street admin), else None."""
    streets = scope_for(user).street_ids if user is not None else frozenset()
    return next(iter(streets)) if len(streets) == 1 else None


def event(
    *,
    action: str,
    object_type: str,
    object_id: object = "",
    description: str = "",
    street_id: int | None = None,
    request: HttpRequest | None = None,
    user: AnyUser | None = None,
) -> AuditEvent:
    """An unsaved audit row for the current (or given) request."""
    request = request if request is not None else current_request.get()
    actor = _actor(request, user)
    return AuditEvent(
        user_id=actor.pk if actor is not None else None,
        username=actor.get_username() if actor is not None else "",
        ip=client_ip(request),
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:40],
        description=description[:300],
        path=(request.get_full_path()[:300] if request is not None else ""),
        street_id=street_id if street_id is not None else _user_street_id(actor),
    )


def record(**kwargs: Any) -> AuditEvent:
    """Record one event now (keyword arguments of `event`)."""
    row = event(**kwargs)
    row.save()
    return row


def record_export(
    *,
    what: str,
    object_type: str,
    object_id: object = "",
    count: int | None = None,
    street_id: int | None = None,
    request: HttpRequest | None = None,
    user: AnyUser | None = None,
) -> AuditEvent:
    """An export or a printed list with names: `what` says which (e.g. "发放清单 2026Q4")."""
    description = (
        what
        if count is None
        else _("%(what)s, %(count)d rows")
        % {
            "what": what,
            "count": count,
        }
    )
    return record(
        action=AuditEvent.Action.EXPORT,
        object_type=object_type,
        object_id=object_id,
        description=description,
        street_id=street_id,
        request=request,
        user=user,
    )


def _resident_streets(resident_ids: Iterable[int]) -> dict[int, int]:
    Resident = apps.get_model("residents", "Resident")
    return dict(
        Resident.objects.filter(pk__in=list(resident_ids)).values_list(
            "pk", "household__grid__community__street_id"
        )
    )


def record_reveals(*, request: HttpRequest | None, shown: list[tuple[AnyUser, str]]) -> int:
    """The full ID numbers a request showed: one row per resident and viewer, or one summary
    row when more than AUDIT_REVEAL_DETAIL_LIMIT were shown at once (an export)."""
    Resident = apps.get_model("residents", "Resident")
    by_user: dict[Any, set[str]] = {}
    users: dict[Any, AnyUser] = {}
    for user, number in shown:
        by_user.setdefault(user.pk, set()).add(number)
        users[user.pk] = user
    rows = []
    limit = getattr(settings, "AUDIT_REVEAL_DETAIL_LIMIT", 200)
    for user_pk, numbers in by_user.items():
        user = users[user_pk]
        if len(numbers) > limit:
            message = ngettext(
                "Shown %(count)d full ID number at once.",
                "Shown %(count)d full ID numbers at once.",
                len(numbers),
            ) % {"count": len(numbers)}
            rows.append(
                event(
                    action=AuditEvent.Action.VIEW_ID,
                    object_type=RESIDENT,
                    description=message,
                    request=request,
                    user=user,
                )
            )
            continue
        found = dict(
            Resident.objects.filter(id_number__in=numbers).values_list(
                "pk", "household__grid__community__street_id"
            )
        )
        names = dict(Resident.objects.filter(pk__in=found).values_list("pk", "name"))
        for pk, street_id in sorted(found.items()):
            rows.append(
                event(
                    action=AuditEvent.Action.VIEW_ID,
                    object_type=RESIDENT,
                    object_id=pk,
                    description=_("Full ID number of %(name)s") % {"name": names.get(pk, "")},
                    street_id=street_id,
                    request=request,
                    user=user,
                )
            )
    AuditEvent.objects.bulk_create(rows)
    return len(rows)


def _field_label(obj: Model, name: str) -> str:
    return str(getattr(obj._meta.get_field(name), "verbose_name", name))


def record_resident_change(*, action: str, resident: Model, changed: list[str]) -> None:
    """A resident's record created, changed or deleted through a request (admin or API).
    Only the names of the changed fields are kept, never their values."""
    street_id = _resident_streets([resident.pk]).get(resident.pk) if resident.pk else None
    household_id = getattr(resident, "household_id", None)
    if street_id is None and household_id is not None:
        Household = apps.get_model("residents", "Household")
        street_id = (
            Household.objects.filter(pk=household_id)
            .values_list("grid__community__street_id", flat=True)
            .first()
        )
    labels = [_field_label(resident, name) for name in changed]
    description = str(getattr(resident, "name", ""))
    if labels:
        description += _(": %(fields)s") % {"fields": "、".join(labels)}
    record(
        action=action,
        object_type=RESIDENT,
        object_id=resident.pk,
        description=description,
        street_id=street_id,
    )


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)


def expired_events(now: dt.datetime | None = None) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(at__lt=retention_cutoff(now))


@transaction.atomic
def prune_audit_log(*, now: dt.datetime | None = None) -> int:
    """Delete the rows older than AUDIT_RETENTION_DAYS, in one statement: the single deletion
    the audit log allows (on PostgreSQL the trigger lets it through only in this
    transaction). The number of rows deleted."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL gridpoints.audit_prune = 'on'")
    expired = expired_events(now)
    # The queryset's delete() refuses; the raw, set-based delete is the one way through.
    return int(expired._raw_delete(expired.db))
