"""What each app's services say when something happens: one call per fact, from inside the
service's transaction. Each helper turns the rows into messages (one query for a whole set:
bulk approval, the refunds, the close) and hands them to services.notify_many, which records
them and sends them after the commit.

The rows are read through Django's app registry, never by importing the other apps' modules:
points, residents and volunteers services import this module, so it must import none of
theirs (no circle of imports; tests/core/test_layers.py).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from core.dispatch import enqueue_on_commit
from notifications.events import Event
from notifications.services import Message, about, notify_many

if TYPE_CHECKING:
    from django.db.models import Model


def _model(label: str) -> Any:
    app, name = label.split(".")
    return apps.get_model(app, name)


def _to_resident(
    *,
    event: str,
    about_: str,
    context: dict[str, Any],
    resident_id: int,
    user_id: int | None,
    email: str | None,
    phone: str | None,
    community_id: int | None,
    link: str = "",
) -> Message:
    """A resident is told through their login when they have one, else by SMS to their
    phone (Message.phone is used only without a login)."""
    return Message(
        event=event,
        about=about_,
        context=context,
        recipient_id=user_id,
        email=email or "",
        resident_id=resident_id,
        phone="" if user_id else (phone or ""),
        community_id=community_id,
        link=link,
    )


RESIDENT_FIELDS = (
    "resident_id",
    "resident__name",
    "resident__phone",
    "resident__user_id",
    "resident__user__email",
)


def _resident_message(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    return {
        "resident_id": row[f"{prefix}resident_id"],
        "user_id": row[f"{prefix}resident__user_id"],
        "email": row[f"{prefix}resident__user__email"],
        "phone": row[f"{prefix}resident__phone"],
    }


# ----------------------------------------------------------------------------- claims


def claims_decided(claims: QuerySet[Any]) -> None:
    """Claims just approved or rejected (one, or a bulk decision's batch): the resident is
    told (a deduction as such), and so is the worker who submitted it."""
    rows = claims.values(
        "id",
        "status",
        "points",
        "reject_reason",
        "rule__name",
        "rule__category",
        "rule__community_id",
        "submitted_by_id",
        "submitted_by__email",
        *RESIDENT_FIELDS,
        # The account the claim posted to (a household's, 以户为单位); older claims name none.
        balance=Coalesce("account__balance", "resident__point_account__balance"),
    )
    me = reverse("points:me")
    messages = []
    for row in rows:
        approved = row["status"] == "approved"
        deduction = row["rule__category"] == "deduction"
        context = {
            "resident": row["resident__name"],
            "rule": row["rule__name"],
            "points": row["points"],
            "reason": row["reject_reason"].rstrip("。.！!"),
            "balance": row["balance"],
        }
        event = Event.CLAIM_APPROVED if approved else Event.CLAIM_REJECTED
        resident_event = Event.DEDUCTION if approved and deduction else event
        key = f"claim:{row['id']}"
        messages.append(
            _to_resident(
                event=resident_event,
                about_=key,
                context=context,
                community_id=row["rule__community_id"],
                link=me,
                **_resident_message(row),
            )
        )
        if row["submitted_by_id"] and row["submitted_by_id"] != row["resident__user_id"]:
            messages.append(
                Message(
                    event=event,
                    about=key,
                    context={**context, "to_worker": True},
                    recipient_id=row["submitted_by_id"],
                    email=row["submitted_by__email"] or "",
                    community_id=row["rule__community_id"],
                )
            )
    notify_many(messages)


def claim_decided(claim: Model) -> None:
    claims_decided(type(claim)._default_manager.filter(pk=claim.pk))


def claims_decided_later(*, approver_id: int, decided_at: dt.datetime) -> None:
    """A bulk decision's batch (the claims `approver_id` decided at `decided_at`), told by a
    task after the commit: the bulk statement's own transaction stays a fixed handful of
    queries, and a rollback tells nobody."""
    enqueue_on_commit(
        "notifications.tasks.tell_claims_decided", approver_id, decided_at.isoformat()
    )


def claims_decided_by(*, approver_id: int, decided_at: str) -> None:
    claims_decided(
        _model("points.Claim").objects.filter(
            decided_by_id=approver_id, decided_at=dt.datetime.fromisoformat(decided_at)
        )
    )


# ----------------------------------------------------------------------------- orders

ORDER_EVENTS = {
    "placed": Event.ORDER_PLACED,
    "frozen": Event.ORDER_READY,
    "refunded": Event.ORDER_REFUNDED,
    "cancelled": Event.ORDER_REFUNDED,
}


def orders_changed(orders: QuerySet[Any]) -> None:
    """Orders placed, ready for pickup (frozen by the close) or refunded (cancelled, or not
    collected by the deadline): their residents are told, with where and when to collect."""
    rows = list(
        orders.values(
            "id",
            "status",
            "total_points",
            "community_id",
            "period_id",
            "period__code",
            *RESIDENT_FIELDS,
            # The account the order debited (a household's, 以户为单位); older orders name none.
            balance=Coalesce("account__balance", "resident__point_account__balance"),
        )
    )
    if not rows:
        return
    windows = {
        (w["period_id"], w["community_id"]): w
        for w in _model("points.RedemptionWindow")
        .objects.filter(
            period_id__in={r["period_id"] for r in rows},
            community_id__in={r["community_id"] for r in rows},
        )
        .values("period_id", "community_id", "pickup_place", "pickup_time", "closes_on")
    }
    me = reverse("points:me")
    messages = []
    for row in rows:
        event = ORDER_EVENTS.get(row["status"])
        if event is None:
            continue
        window = windows.get((row["period_id"], row["community_id"]), {})
        context = {
            "resident": row["resident__name"],
            "order": row["id"],
            "points": row["total_points"],
            "period": row["period__code"],
            "balance": row["balance"],
            "pickup_place": window.get("pickup_place", ""),
            "pickup_time": window.get("pickup_time", ""),
            "cancelled": row["status"] == "cancelled",
        }
        messages.append(
            _to_resident(
                event=event,
                about_=f"order:{row['id']}",
                context=context,
                community_id=row["community_id"],
                link=me,
                **_resident_message(row),
            )
        )
    notify_many(messages)


def order_changed(order: Model) -> None:
    orders_changed(type(order)._default_manager.filter(pk=order.pk))


# ----------------------------------------------------------------------------- needs

NEED_EVENTS = {
    "accepted": Event.NEED_ACCEPTED,
    "assigned": Event.NEED_ASSIGNED,
    "resolved": Event.NEED_RESOLVED,
    "rejected": Event.NEED_REJECTED,
}


def need_changed(need: Model) -> None:
    """A need accepted, assigned (or claimed by a partner unit), resolved (asking for the
    rating) or rejected (with the explanation): the resident it is for is told, or the
    resident who reported it."""
    row = (
        type(need)
        ._default_manager.filter(pk=need.pk)
        .values(
            "id",
            "status",
            "title",
            "source",
            "due_on",
            "resolution",
            "rejection_reason",
            "grid__community_id",
            "assigned_department",
            "assigned_worker__name",
            "assigned_partner__name",
            "reported_by_id",
            "reported_by__email",
            *RESIDENT_FIELDS,
        )
        .first()
    )
    if row is None or row["status"] not in NEED_EVENTS:
        return
    event = NEED_EVENTS[row["status"]]
    context = {
        "title": row["title"],
        "due_on": row["due_on"].isoformat() if row["due_on"] else "",
        # the templates end their sentences themselves
        "resolution": row["resolution"].rstrip("。.！!"),
        "reason": row["rejection_reason"].rstrip("。.！!"),
        "assignee": row["assigned_worker__name"]
        or row["assigned_partner__name"]
        or row["assigned_department"]
        or "",
    }
    link = reverse("residents:my_need", args=[row["id"]])
    # The key names the status too, and for an assignment its time: a need handed on to
    # another assignee is told again.
    key = f"need:{row['id']}:{row['status']}"
    assigned_at = getattr(need, "assigned_at", None)
    if event == Event.NEED_ASSIGNED and assigned_at is not None:
        key += f":{assigned_at.timestamp():.0f}"
    if row["resident_id"]:
        message = _to_resident(
            event=event,
            about_=key,
            context={**context, "resident": row["resident__name"]},
            community_id=row["grid__community_id"],
            link=link,
            **_resident_message(row),
        )
    elif row["source"] == "resident" and row["reported_by_id"]:
        message = Message(
            event=event,
            about=key,
            context=context,
            recipient_id=row["reported_by_id"],
            email=row["reported_by__email"] or "",
            community_id=row["grid__community_id"],
            link=link,
        )
    else:
        return
    notify_many([message])


def rectification_opened(rectification: Model) -> None:
    """A low rating opened a rectification (整改) with its due date: the worker the need was
    assigned to is told, or (no worker) whoever recorded the need."""
    row = (
        type(rectification)
        ._default_manager.filter(pk=rectification.pk)
        .values(
            "id",
            "due_on",
            "need_id",
            "need__title",
            "need__grid__community_id",
            "need__assigned_worker__user_id",
            "need__assigned_worker__user__email",
            "need__reported_by_id",
            "need__reported_by__email",
        )
        .first()
    )
    if row is None:
        return
    user_id = row["need__assigned_worker__user_id"] or row["need__reported_by_id"]
    email = (
        row["need__assigned_worker__user__email"]
        if row["need__assigned_worker__user_id"]
        else row["need__reported_by__email"]
    )
    if not user_id:
        return
    notify_many(
        [
            Message(
                event=Event.RECTIFICATION_DUE,
                about=f"rectification:{row['id']}",
                context={
                    "title": row["need__title"],
                    "need": row["need_id"],
                    "due_on": row["due_on"].isoformat() if row["due_on"] else "",
                },
                recipient_id=user_id,
                email=email or "",
                community_id=row["need__grid__community_id"],
            )
        ]
    )


def micro_wish_offered(need: Model, partner_unit_ids: list[int]) -> None:
    """A micro-wish (微心愿) offered to partner units: each unit's contacts are told."""
    rows = (
        _model("grids.PartnerUnit")
        .objects.filter(pk__in=partner_unit_ids, contacts__isnull=False)
        .values("id", "name", "contacts__id", "contacts__email")
    )
    grid_id = need.grid_id  # type: ignore[attr-defined]
    community_id = (
        _model("grids.Grid")
        .objects.filter(pk=grid_id)
        .values_list("community_id", flat=True)
        .first()
    )
    link = reverse("partners:need", args=[need.pk])
    notify_many(
        [
            Message(
                event=Event.MICRO_WISH_OFFERED,
                about=f"need:{need.pk}:unit:{row['id']}",
                context={
                    "unit": row["name"],
                    "title": need.title,  # type: ignore[attr-defined]
                    "due_on": need.due_on.isoformat() if need.due_on else "",  # type: ignore[attr-defined]
                },
                recipient_id=row["contacts__id"],
                email=row["contacts__email"] or "",
                community_id=community_id,
                link=link,
            )
            for row in rows
        ]
    )


# ----------------------------------------------------------------------------- the notice


def community_closed_later(*, period: Model, community: Model, deadline: dt.date) -> None:
    """A community's close (one chunk of the quarter's close job) is told after its commit,
    by a task: its orders are ready for pickup, and its residents' notice is published. The
    close's own statements stay set-based and unchanged in number."""
    enqueue_on_commit(
        "notifications.tasks.tell_community_closed",
        period.pk,
        community.pk,
        deadline.isoformat(),
    )


def community_closed(*, period_id: int, community_id: int, deadline: str) -> None:
    period = _model("points.Period").objects.get(pk=period_id)
    community = _model("grids.Community").objects.get(pk=community_id)
    orders_changed(_model("points.Order").objects.filter(period=period, community=community))
    notice_published(period=period, community=community, deadline=dt.date.fromisoformat(deadline))


def notice_published(*, period: Model, community: Model, deadline: dt.date) -> None:
    """The quarter's public notice (季度公示) stored by the close: each resident on it is
    told their line and until when objections are taken."""
    rows = (
        _model("points.NoticeLine")
        .objects.filter(period=period, grid__community=community)
        .values("grid_id", "earned", "balance", *RESIDENT_FIELDS)
    )
    code = period.code  # type: ignore[attr-defined]
    messages = [
        _to_resident(
            event=Event.NOTICE_PUBLISHED,
            about_=f"notice:{code}",
            context={
                "resident": row["resident__name"],
                "period": code,
                "earned": row["earned"],
                "balance": row["balance"],
                "deadline": deadline.isoformat(),
            },
            community_id=community.pk,
            link=reverse("points:notice", args=[code, row["grid_id"]]),
            **_resident_message(row),
        )
        for row in rows
    ]
    notify_many(messages)


def objection_decided(objection: Model) -> None:
    row = (
        type(objection)
        ._default_manager.filter(pk=objection.pk)
        .values(
            "id",
            "status",
            "decision_note",
            "raised_by_id",
            "raised_by__email",
            "entry__amount",
            "entry__account__household__grid__community_id",
        )
        .first()
    )
    if row is None or row["status"] == "open":
        return
    notify_many(
        [
            Message(
                event=Event.OBJECTION_DECIDED,
                about=f"objection:{row['id']}",
                context={
                    "upheld": row["status"] == "upheld",
                    "note": row["decision_note"],
                    "amount": row["entry__amount"],
                },
                recipient_id=row["raised_by_id"],
                email=row["raised_by__email"] or "",
                community_id=row["entry__account__household__grid__community_id"],
                link=reverse("points:me_objections"),
            )
        ]
    )


# ----------------------------------------------------------------------------- volunteers


def activities_tomorrow(*, today: dt.date) -> int:
    """Volunteers signed up (confirmed) for an activity that starts tomorrow are reminded
    (beat, once a day; the dedupe key makes a second run tell nobody twice). The number of
    notifications recorded or already recorded."""
    tomorrow = today + dt.timedelta(days=1)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=tz)
    rows = list(
        _model("volunteers.Signup")
        .objects.filter(
            status="confirmed",
            activity__status="planned",
            activity__starts_at__gte=start,
            activity__starts_at__lt=start + dt.timedelta(days=1),
        )
        .values(
            "id",
            "activity_id",
            "activity__title",
            "activity__place",
            "activity__starts_at",
            "activity__team__community_id",
            "membership__user_id",
            "membership__user__email",
            "membership__resident_id",
            "membership__resident__name",
            "membership__resident__phone",
            "membership__resident__user_id",
            "membership__resident__user__email",
        )
    )
    messages = []
    for row in rows:
        user_id = row["membership__user_id"] or row["membership__resident__user_id"]
        email = (
            row["membership__user__email"]
            if row["membership__user_id"]
            else row["membership__resident__user__email"]
        )
        messages.append(
            _to_resident(
                event=Event.ACTIVITY_TOMORROW,
                about_=f"activity:{row['activity_id']}",
                context={
                    "resident": row["membership__resident__name"],
                    "title": row["activity__title"],
                    "place": row["activity__place"],
                    "starts_at": timezone.localtime(row["activity__starts_at"]).strftime(
                        "%m月%d日 %H:%M"
                    ),
                },
                resident_id=row["membership__resident_id"],
                user_id=user_id,
                email=email,
                phone=row["membership__resident__phone"],
                community_id=row["activity__team__community_id"],
            )
        )
    notify_many(messages)
    return len(messages)


__all__ = ["about"]
