"""Writes for notifications: telling someone something (notify), carrying it through the
outside channels (attempt_delivery), and the inbox's marks (mark_read).

How a notification travels:

1. A service of another app calls `notify(...)` (or a helper of notifications.hooks, which
   builds the messages for a set of rows at once) inside its own transaction. The
   Notification rows and one Delivery per outside channel (e-mail for a user who has an
   address, SMS for a resident without a login) are written in that transaction, with a
   dedupe key (event, object, recipient) that is unique: the same fact told twice records
   one notification, so a retried request or a re-run job tells nobody twice.
2. Once the transaction commits, `notifications.tasks.deliver_batch` is queued
   (core.dispatch.enqueue_on_commit): a rollback sends nothing.
3. `send_delivery` (one per delivery) calls attempt_delivery: an SMS in the quiet hours or
   past the recipient's hourly limit is held until it may go (the beat task send_held
   sends it); a provider error is retried with backoff, and the last one is recorded on the
   Delivery (status failed, last_error).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.dispatch import enqueue_on_commit
from notifications import sms
from notifications.events import Event, render_text
from notifications.models import Delivery, Notification, NotificationSetting

if TYPE_CHECKING:
    from django.db.models import Model

    from core.types import User


@dataclass(frozen=True)
class Message:
    """One notification to be recorded: to a user (recipient_id, with their e-mail) or a
    resident without a login (resident_id, with their phone), about one object."""

    event: str
    about: str  # "<model>:<id>", the object the fact is about
    context: dict[str, Any] = field(default_factory=dict)
    recipient_id: int | None = None
    email: str = ""
    resident_id: int | None = None
    phone: str = ""
    community_id: int | None = None
    link: str = ""

    @property
    def dedupe_key(self) -> str:
        who = f"u{self.recipient_id}" if self.recipient_id else f"r{self.resident_id}"
        return f"{self.event}:{self.about}:{who}"[:200]


def about(obj: Model) -> str:
    return f"{obj._meta.model_name}:{obj.pk}"


def disabled_events(
    community_ids: Iterable[int | None], events: Iterable[str]
) -> set[tuple[int, str]]:
    """(community, event) pairs turned off (NotificationSetting enabled=False); on by default."""
    ids = {c for c in community_ids if c is not None}
    if not ids:
        return set()
    rows = NotificationSetting.objects.filter(
        community_id__in=ids, event__in=set(events), enabled=False
    ).values_list("community_id", "event")
    return set(rows)


def notify_many(messages: Sequence[Message]) -> uuid.UUID | None:
    """Record many notifications in a fixed handful of statements (whatever their number) and
    queue their delivery for after the commit. Messages of events turned off for their
    community, and those told already (same dedupe key), are left out. The batch id, or None
    when nothing was recorded."""
    if not messages:
        return None
    off = disabled_events((m.community_id for m in messages), (m.event for m in messages))
    wanted: dict[str, Message] = {}
    for m in messages:
        if (m.community_id, m.event) in off or not (m.recipient_id or m.resident_id):
            continue
        if not m.recipient_id and not m.phone:
            continue  # a resident with neither a login nor a phone: nobody to tell
        wanted.setdefault(m.dedupe_key, m)
    if not wanted:
        return None
    batch = uuid.uuid4()
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=m.recipient_id,
                resident_id=m.resident_id,
                community_id=m.community_id,
                event=m.event,
                text=render_text(m.event, m.context),
                params={k: str(v) for k, v in m.context.items()},
                link=m.link,
                dedupe_key=key,
                batch=batch,
            )
            for key, m in wanted.items()
        ],
        ignore_conflicts=True,  # told already (the unique dedupe key): told once
        batch_size=1000,
    )
    recorded = Notification.objects.filter(batch=batch).values_list("id", "dedupe_key")
    deliveries = []
    for notification_id, key in recorded:
        m = wanted[key]
        if m.recipient_id:
            if m.email and settings.NOTIFICATIONS_EMAIL:
                deliveries.append(
                    Delivery(
                        notification_id=notification_id,
                        channel=Delivery.Channel.EMAIL,
                        address=m.email,
                    )
                )
        elif m.phone:
            deliveries.append(
                Delivery(
                    notification_id=notification_id,
                    channel=Delivery.Channel.SMS,
                    address=m.phone,
                )
            )
    if deliveries:
        Delivery.objects.bulk_create(deliveries, batch_size=1000)
        enqueue_on_commit("notifications.tasks.deliver_batch", str(batch))
    return batch


def message_for(
    *,
    recipient: User | None,
    event: str,
    context: dict[str, Any],
    resident: Any = None,
    link: str = "",
    about_: str = "",
    community_id: int | None = None,
) -> Message:
    return Message(
        event=event,
        about=about_,
        context=context,
        recipient_id=recipient.pk if recipient is not None else None,
        email=(recipient.email or "") if recipient is not None else "",
        resident_id=resident.pk if resident is not None else None,
        phone=(resident.phone or "") if resident is not None and recipient is None else "",
        community_id=community_id,
        link=link,
    )


@transaction.atomic
def notify(
    *,
    recipient: User | None,
    event: str,
    context: dict[str, Any],
    resident: Any = None,
    link: str = "",
    about_obj: Model | None = None,
    key: str = "",
    community_id: int | None = None,
) -> Notification | None:
    """Tell `recipient` (a user; or None and `resident`: a resident without a login, by SMS
    to their phone) that `event` happened, about `about_obj`. Recorded now, sent after the
    commit; once per (event, object, recipient): the object is `about_obj`, or `key` names
    the fact (without either, every call is a new fact); nothing when the event is turned off
    for `community_id`. The notification, or None when nothing new was recorded."""
    if event not in Event.values:
        raise ValueError(f"unknown event {event!r}")
    message = message_for(
        recipient=recipient,
        event=event,
        context=context,
        resident=resident,
        link=link,
        about_=about(about_obj) if about_obj is not None else (key or f"once:{uuid.uuid4()}"),
        community_id=community_id,
    )
    batch = notify_many([message])
    if batch is None:
        return None
    return Notification.objects.filter(batch=batch).first()


# ----------------------------------------------------------------------------- delivery

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def quiet_until(now: dt.datetime) -> dt.datetime | None:
    """The end of the quiet hours (no SMS from SMS_QUIET_START to SMS_QUIET_END o'clock,
    Beijing time) when `now` falls in them, else None."""
    local = now.astimezone(BEIJING)
    start, end = settings.SMS_QUIET_START, settings.SMS_QUIET_END
    if start == end:
        return None
    hour = local.hour
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if morning <= local:
        morning += dt.timedelta(days=1)
    return morning


def rate_limited_until(phone: str, now: dt.datetime) -> dt.datetime | None:
    """When the next SMS to `phone` may go, if SMS_MAX_PER_HOUR were sent to it in the last
    hour; else None."""
    limit = settings.SMS_MAX_PER_HOUR
    if not limit:
        return None
    hour_ago = now - dt.timedelta(hours=1)
    sent = list(
        Delivery.objects.filter(
            channel=Delivery.Channel.SMS,
            address=phone,
            status=Delivery.Status.SENT,
            sent_at__gt=hour_ago,
        )
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)[:limit]
    )
    oldest = sent[-1] if len(sent) >= limit else None
    return None if oldest is None else oldest + dt.timedelta(hours=1)


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, held, retry, failed, skipped
    delivery_id: int


def _send(delivery: Delivery) -> None:
    notification = delivery.notification
    if delivery.channel == Delivery.Channel.EMAIL:
        subject = f"{settings.NOTIFICATIONS_EMAIL_SUBJECT_PREFIX}{notification.get_event_display()}"
        body = notification.text
        if notification.link:
            body += f"\n\n{settings.NOTIFICATIONS_SITE_URL.rstrip('/')}{notification.link}"
        send_mail(subject, body, None, [delivery.address], fail_silently=False)
    else:
        sms.send_sms(
            delivery.address, sms.template_code_for(notification.event), notification.params
        )


def attempt_delivery(*, delivery_id: int, final: bool = False) -> Outcome:
    """Try to send one delivery now. An SMS in the quiet hours or past the hourly limit is
    held (status held, not_before when it may go); a provider error counts an attempt and
    asks for a retry, or, when `final`, marks the delivery failed with the error. A
    delivery already sent or failed is left alone (a task run twice sends once)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification")
            .get(pk=delivery_id)
        )
        if delivery.status not in (Delivery.Status.QUEUED, Delivery.Status.HELD):
            return Outcome("skipped", delivery.pk)
        if delivery.not_before is not None and delivery.not_before > now:
            return Outcome("held", delivery.pk)
        if delivery.channel == Delivery.Channel.SMS:
            hold = quiet_until(now) or rate_limited_until(delivery.address, now)
            if hold is not None:
                delivery.status, delivery.not_before = Delivery.Status.HELD, hold
                delivery.save(update_fields=["status", "not_before"])
                return Outcome("held", delivery.pk)
        delivery.attempts += 1
        try:
            _send(delivery)
        except Exception as exc:  # any provider or SMTP error: recorded, retried
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            delivery.status = Delivery.Status.FAILED if final else Delivery.Status.QUEUED
            delivery.not_before = None
            delivery.save(update_fields=["attempts", "last_error", "status", "not_before"])
            return Outcome("failed" if final else "retry", delivery.pk)
        delivery.status, delivery.sent_at, delivery.not_before = Delivery.Status.SENT, now, None
        delivery.save(update_fields=["attempts", "status", "sent_at", "not_before"])
        return Outcome("sent", delivery.pk)


def queued_in_batch(batch: str) -> list[int]:
    return list(
        Delivery.objects.filter(
            notification__batch=batch, status=Delivery.Status.QUEUED
        ).values_list("id", flat=True)
    )


def held_due(now: dt.datetime | None = None) -> list[int]:
    """Held deliveries whose time has come (the quiet hours are over, the hour has passed)."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status=Delivery.Status.HELD)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .order_by("id")
        .values_list("id", flat=True)
    )


# ----------------------------------------------------------------------------- the inbox


@transaction.atomic
def mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the user's notifications read (the caller found it in the user's inbox)."""
    if notification.recipient_id != user.pk:
        raise PermissionError("not the recipient")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; the number marked."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
