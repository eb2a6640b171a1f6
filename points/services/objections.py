"""Writes for objections (公示异议) to entries of the public notice: the deadlines, raising
one, and the committee's decision (upheld: the entry reversed or adjusted; dismissed)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.types import User
from grids.models import Community
from notifications import hooks as notifications
from points import access
from points.models import Entry, Objection, Period, Policy
from points.services.claims import policy_for
from points.services.ledger import post_entry, reverse_entry


def objection_deadline(entry: Entry) -> dt.date:
    """The last day a resident may object to `entry`: its quarter's end plus the community's
    objection window (the public notice, 季度公示, is posted when the quarter ends)."""
    community = entry.account.household.grid.community  # a resident's or a household's
    return entry.period.ends_on + dt.timedelta(days=policy_for(community).objection_days)


def notice_deadline(*, period: Period, community: Community) -> dt.date:
    """The objection deadline printed on a quarter's public notice: as objection_deadline, but
    a read only (the policy's default window when the community has no policy row yet)."""
    days = (
        Policy.objects.filter(community=community).values_list("objection_days", flat=True).first()
    )
    if days is None:
        days = Policy._meta.get_field("objection_days").get_default()
    return period.ends_on + dt.timedelta(days=days)


@transaction.atomic
def raise_objection(*, user: User, entry: Entry, reason: str) -> Objection:
    """A resident objects (异议) to an entry of an account they hold (their own, or their
    household's), inside the window."""
    access.access_raise_objection(user, entry)
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say what is wrong with this entry.")]})
    deadline = objection_deadline(entry)
    if timezone.localdate() > deadline:
        raise ValidationError(
            _("The objection window for %(period)s closed on %(date)s.")
            % {"period": entry.period.code, "date": deadline.isoformat()}
        )
    if Objection.objects.filter(entry=entry, status=Objection.Status.OPEN).exists():
        raise ValidationError(_("An objection to this entry is already waiting for a decision."))
    return Objection.objects.create(entry=entry, raised_by=user, reason=reason.strip())


def _lock_open_objection(objection: Objection, user: User) -> Objection:
    locked = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("entry__account")
        .get(pk=objection.pk)
    )
    if locked.status != Objection.Status.OPEN:
        raise ValidationError(_("This objection has already been decided."))
    access.access_decide_objection(user, locked.entry.account)
    return locked


@transaction.atomic
def uphold_objection(
    *, objection: Objection, user: User, note: str, amount: int | None = None
) -> Objection:
    """Uphold an objection: reverse the entry, or (with `amount`) post an adjustment."""
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say what was decided.")]})
    objection = _lock_open_objection(objection, user)
    if amount is None:
        correction = reverse_entry(entry=objection.entry, user=user, reason=note)
    else:
        correction = post_entry(
            account=objection.entry.account,
            amount=amount,
            kind=Entry.Kind.ADJUSTMENT,
            key=f"objection:{objection.pk}",
            source=objection,
            created_by=user,
            note=note,
        )
    objection.status = Objection.Status.UPHELD
    objection.correction = correction
    objection.decided_by, objection.decided_at = user, timezone.now()
    objection.decision_note = note.strip()
    objection.save(
        update_fields=["status", "correction", "decided_by", "decided_at", "decision_note"]
    )
    notifications.objection_decided(objection)
    return objection


@transaction.atomic
def dismiss_objection(*, objection: Objection, user: User, note: str) -> Objection:
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why the objection is dismissed.")]})
    objection = _lock_open_objection(objection, user)
    objection.status = Objection.Status.DISMISSED
    objection.decided_by, objection.decided_at = user, timezone.now()
    objection.decision_note = note.strip()
    objection.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    notifications.objection_decided(objection)
    return objection
