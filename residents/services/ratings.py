"""The end of the needs loop: the resident's rating, and the rectification (整改) a low rating
opens, done, accepted or returned."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied, ValidationError

from core.scope import scope_for
from core.types import User
from notifications import hooks as notifications
from residents.models import Need, NeedEvent, Rating, Rectification, Resident
from residents.services.needs import (
    R,
    S,
    _check_rectification_step,
    _check_step,
    _ensure_handles,
    _ensure_works_on,
    _lock,
    _move,
    record_event,
)


def _ensure_rates(user: User, need: Need) -> None:
    """The resident the need is about rates it; for a need about a household, any resident of
    it with a login."""
    resident_id = scope_for(user).resident_id
    if resident_id is not None:
        if need.resident_id == resident_id:
            return
        if (
            need.resident_id is None
            and need.household_id is not None
            and Resident.objects.filter(pk=resident_id, household_id=need.household_id).exists()
        ):
            return
    raise PermissionDenied(_("Only the resident the need is about rates it."))


@transaction.atomic
def rate_need(*, user: User, need: Need, level: int, comment: str = "") -> Need:
    """The resident rates a resolved need (好差评) on five levels. 一般 and better close it;
    不满意 and 非常不满意 open a rectification (整改), due NEED_RECTIFICATION_DAYS on, and the
    need closes only when the rectification is accepted."""
    need = _lock(need)
    _ensure_rates(user, need)
    return _rate(user=user, need=need, level=level, comment=comment, source=Rating.Source.RESIDENT)


@transaction.atomic
def record_phone_rating(*, user: User, need: Need, level: int, comment: str = "") -> Need:
    """A grid worker (or the committee, the street) records the rating a resident gave on a
    return call (电话回访), for a resident without a phone of their own or who never rated.
    The rating is marked as taken by phone and counts like the resident's own: the same
    levels, once per need, a low one opening a rectification."""
    need = _lock(need)
    _ensure_handles(user, need)
    return _rate(user=user, need=need, level=level, comment=comment, source=Rating.Source.PHONE)


def _rate(*, user: User, need: Need, level: int, comment: str, source: str) -> Need:
    """The one rule of a rating, whoever records it (call under the need's row lock)."""
    _check_step(need, "rate")
    if Rating.objects.filter(need=need).exists():
        raise ValidationError({"level": [_("This need has been rated already.")]})
    if level not in Rating.Level.values:
        raise ValidationError({"level": [_("Rate from 1 (very dissatisfied) to 5.")]})
    rating = Rating.objects.create(
        need=need, level=level, comment=comment, rated_by=user, source=source
    )
    record_event(
        need=need,
        kind=NeedEvent.Kind.RATED,
        actor=user,
        note=comment,
        data={"level": level, "source": source},
    )
    if rating.needs_rectification:
        due_on = timezone.localdate() + dt.timedelta(days=settings.NEED_RECTIFICATION_DAYS)
        notifications.rectification_opened(
            Rectification.objects.create(need=need, rating=rating, due_on=due_on)
        )
        record_event(
            need=need,
            kind=NeedEvent.Kind.RECTIFICATION_OPENED,
            data={"due_on": due_on.isoformat()},
        )
        return need
    need.closed_at = timezone.now()
    return _move(
        need, user=user, to_status=S.CLOSED, kind=NeedEvent.Kind.CLOSED, fields=("closed_at",)
    )


def _lock_rectification(rectification: Rectification) -> Rectification:
    return (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("need")
        .get(pk=rectification.pk)
    )


@transaction.atomic
def complete_rectification(*, user: User, rectification: Rectification, note: str) -> Rectification:
    """Whoever works on the need reports the rectification done, saying what was done; it then
    waits for the committee's or the street's acceptance."""
    rectification = _lock_rectification(rectification)
    _check_rectification_step(rectification, "done")
    _ensure_works_on(user, rectification.need)
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say what was done.")]})
    rectification.status = R.DONE
    rectification.done_at = timezone.now()
    rectification.done_note = note.strip()
    rectification.save(update_fields=["status", "done_at", "done_note"])
    record_event(
        need=rectification.need,
        kind=NeedEvent.Kind.RECTIFICATION_DONE,
        actor=user,
        note=rectification.done_note,
    )
    return rectification


@transaction.atomic
def accept_rectification(
    *, user: User, rectification: Rectification, note: str = ""
) -> Rectification:
    """Accept a rectification reported done (验收): it ends, and the need closes."""
    rectification = _lock_rectification(rectification)
    _check_rectification_step(rectification, "accept")
    need = _lock(rectification.need)
    _ensure_handles(user, need)
    now = timezone.now()
    rectification.status = R.ACCEPTED
    rectification.accepted_at = now
    rectification.accepted_by = user
    rectification.save(update_fields=["status", "accepted_at", "accepted_by"])
    record_event(need=need, kind=NeedEvent.Kind.RECTIFICATION_ACCEPTED, actor=user, note=note)
    need.closed_at = now
    _move(need, user=user, to_status=S.CLOSED, kind=NeedEvent.Kind.CLOSED, fields=("closed_at",))
    return rectification


@transaction.atomic
def return_rectification(*, user: User, rectification: Rectification, note: str) -> Rectification:
    """Send a rectification reported done back (not good enough), saying why; it is open
    again, with the same due date."""
    rectification = _lock_rectification(rectification)
    _check_rectification_step(rectification, "return")
    _ensure_handles(user, rectification.need)
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why the rectification is returned.")]})
    rectification.status = R.OPEN
    rectification.done_at = None
    rectification.save(update_fields=["status", "done_at"])
    record_event(
        need=rectification.need,
        kind=NeedEvent.Kind.RECTIFICATION_RETURNED,
        actor=user,
        note=note.strip(),
    )
    return rectification
