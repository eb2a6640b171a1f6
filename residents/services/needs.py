"""The needs loop (需求, design §5): record, accept, assign, offer, claim, start, resolve,
reject, escalate; every change a NeedEvent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import PermissionDenied, ValidationError

from core.permissions import ensure_in_scope
from core.scope import Scope, scope_for
from core.types import User
from grids.models import Grid, GridWorker, PartnerAgreement, PartnerUnit, Project
from notifications import hooks as notifications
from points.models import Rule
from points.services.claims import submit_claim
from residents.models import Household, Need, NeedEvent, NeedPhoto, Rectification, Resident, Visit

# ---------------------------------------------------------------------------- needs (需求)
#
# The closed loop of design §5: a need is recorded (by a grid worker, the committee, the street,
# or a resident for themselves), accepted, assigned with a due date to a worker, a department or
# a partner unit (micro-wishes are offered to partner units, which claim them), started,
# resolved, and rated by the resident; a low rating opens a rectification (整改) that ends only
# when done and accepted. Every change is a NeedEvent with who and when, written here and only
# here (record_event), in the same transaction as the change.


@dataclass(frozen=True)
class Step:
    """A step of the loop: the statuses it may start from, and its past participle for
    messages ("cannot be resolved")."""

    done: Promise
    allowed_from: tuple[str, ...]


S = Need.Status
STEPS: dict[str, Step] = {
    "accept": Step(gettext_lazy("accepted"), (S.NEW,)),
    "assign": Step(gettext_lazy("assigned"), (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS)),
    "offer": Step(gettext_lazy("offered to partner units"), (S.ACCEPTED,)),
    "claim": Step(gettext_lazy("claimed"), (S.ACCEPTED,)),
    "start": Step(gettext_lazy("started"), (S.ASSIGNED,)),
    "resolve": Step(gettext_lazy("resolved"), (S.IN_PROGRESS,)),
    "reject": Step(gettext_lazy("rejected"), (S.NEW, S.ACCEPTED)),
    "escalate": Step(gettext_lazy("escalated"), Need.OPEN_STATUSES),
    "update": Step(gettext_lazy("changed"), (*Need.OPEN_STATUSES, S.RESOLVED)),
    "rate": Step(gettext_lazy("rated"), (S.RESOLVED,)),
}
R = Rectification.Status
RECTIFICATION_STEPS: dict[str, Step] = {
    "done": Step(gettext_lazy("marked done"), (R.OPEN,)),
    "accept": Step(gettext_lazy("accepted"), (R.DONE,)),
    "return": Step(gettext_lazy("returned"), (R.DONE,)),
}


NEED_REFUSAL = gettext_lazy(
    "This need is %(status)s: it cannot be %(done)s. Allowed only from: %(allowed)s."
)
RECTIFICATION_REFUSAL = gettext_lazy(
    "This rectification is %(status)s: it cannot be %(done)s. Allowed only from: %(allowed)s."
)


def _check_status(obj: Need | Rectification, step: Step, refusal: Promise) -> None:
    """Refuse (400) a step the object's status does not allow, naming the statuses that do."""
    if obj.status not in step.allowed_from:
        labels = dict(type(obj).Status.choices)
        words = {
            "status": obj.get_status_display(),
            "done": step.done,
            "allowed": ", ".join(str(labels[s]) for s in step.allowed_from),
        }
        raise ValidationError({"status": [str(refusal) % words]})


def _check_step(need: Need, name: str) -> None:
    _check_status(need, STEPS[name], NEED_REFUSAL)


def _check_rectification_step(rectification: Rectification, name: str) -> None:
    _check_status(rectification, RECTIFICATION_STEPS[name], RECTIFICATION_REFUSAL)


def record_event(
    *,
    need: Need,
    kind: str,
    actor: User | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> NeedEvent:
    """Add a line to the need's timeline. Services call it with every change they make; other
    apps call it for what they do to a need (a council putting it on its agenda: kind COUNCIL).
    `actor` None means the system (the daily escalation)."""
    return NeedEvent.objects.create(
        need=need,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        at=at or timezone.now(),
    )


def _lock(need: Need) -> Need:
    """The need, re-read under a row lock: two steps on one need run one after the other, and
    the second sees the status the first left."""
    return Need.objects.select_for_update(of=("self",)).get(pk=need.pk)


def _move(
    need: Need,
    *,
    user: User,
    to_status: str,
    kind: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    fields: tuple[str, ...] = (),
) -> Need:
    """Save the need in `to_status` (with the other `fields` already set on it) and log it."""
    from_status = need.status
    need.status = to_status
    need.save(update_fields=["status", *fields])
    record_event(
        need=need,
        kind=kind,
        actor=user,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data,
    )
    notifications.need_changed(need)  # accepted, assigned, resolved, rejected: the resident
    return need


def _staff_scope(user: User) -> Scope:
    """The user's scope as a grid worker, committee member or street admin (or the worker a
    need is assigned to): without what they may see as a partner contact or a resident."""
    return replace(
        scope_for(user), partner_unit_ids=frozenset(), resident_id=None, team_ids=frozenset()
    )


def _handles(user: User, need: Need) -> bool:
    return Need.objects.for_scope(_staff_scope(user)).filter(pk=need.pk).exists()


def _ensure_handles(user: User, need: Need) -> None:
    """Refuse (403) anyone but the grid's workers, the worker it is assigned to, the community's
    committee and the street."""
    if not _handles(user, need):
        raise PermissionDenied(
            _("Only the grid's workers, the committee or the street handle this need.")
        )


def _ensure_works_on(user: User, need: Need) -> None:
    """Those who handle the need, and the contacts of the partner unit it is assigned to."""
    if need.assigned_partner_id is not None and (
        need.assigned_partner_id in scope_for(user).partner_unit_ids
    ):
        return
    if not _handles(user, need):
        raise PermissionDenied(
            _(
                "Only the grid's workers, the committee, the street or the partner unit it is "
                "assigned to work on this need."
            )
        )


def _check_project(project: Project | None, community_id: int) -> None:
    if project is not None and project.community_id != community_id:
        raise ValidationError({"project": [_("The project belongs to another community.")]})


def _check_due_on(due_on: dt.date | None) -> dt.date:
    if due_on is None:
        raise ValidationError({"due_on": [_("Give a due date.")]})
    if due_on < timezone.localdate():
        raise ValidationError({"due_on": [_("The due date cannot be in the past.")]})
    return due_on


@transaction.atomic
def record_need(
    *,
    user: User,
    title: str,
    category: str,
    source: str | None = None,
    grid: Grid | None = None,
    household: Household | None = None,
    resident: Resident | None = None,
    visit: Visit | None = None,
    text: str = "",
    priority: int = Need.Priority.NORMAL,
    for_council: bool = False,
    project: Project | None = None,
) -> Need:
    """Record a need (需求 / 微心愿) in status new.

    A grid worker, committee member or street admin records one in a grid of their area; the
    grid may be left out when the household, the resident or the visit names it. A resident
    reports one for themselves: grid, household and resident are theirs and the source is
    "resident", whatever the request said. Raises PermissionDenied outside the area.
    """
    scope = scope_for(user)
    if not scope.has_area:
        if not scope.resident_id:
            raise PermissionDenied(
                _("Needs are recorded by grid workers, committees, streets and residents.")
            )
        resident = Resident.objects.select_related("household__grid").get(pk=scope.resident_id)
        household, grid, visit = resident.household, resident.household.grid, None
        source, for_council, project = Need.Source.RESIDENT, False, None
    else:
        if visit is not None:
            if household is not None and household.pk != visit.household_id:
                raise ValidationError({"household": [_("The visit was to another household.")]})
            household = visit.household
            source = source or Need.Source.VISIT
        if resident is not None:
            if household is not None and household.pk != resident.household_id:
                raise ValidationError({"resident": [_("The resident lives in another household.")]})
            household = resident.household
        if household is not None:
            if grid is not None and grid.pk != household.grid_id:
                raise ValidationError({"household": [_("The household is in another grid.")]})
            grid = household.grid
        if grid is None:
            raise ValidationError(
                {"grid": [_("Say which grid the need is in (or its household or resident).")]}
            )
        if not source:
            raise ValidationError({"source": [_("Say where the need came from.")]})
        ensure_in_scope(user, grid)
        _check_project(project, grid.community_id)
    need = Need.objects.create(
        grid=grid,
        household=household,
        resident=resident,
        visit=visit,
        source=source,
        category=category,
        title=title,
        text=text,
        priority=priority,
        for_council=for_council,
        project=project,
        reported_by=user,
    )
    record_event(need=need, kind=NeedEvent.Kind.RECORDED, actor=user, to_status=need.status)
    return need


UPDATABLE = ("title", "text", "category", "priority", "for_council", "project")


@transaction.atomic
def update_need(*, user: User, need: Need, **changes: Any) -> Need:
    """Change a need's details (title, text, category, priority, for_council, project) while it
    is open or resolved. The timeline names the fields changed."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationError({name: [_("This cannot be changed here.")] for name in unknown})
    need = _lock(need)
    _ensure_handles(user, need)
    changed = [name for name, value in changes.items() if getattr(need, name) != value]
    if not changed:
        return need
    _check_step(need, "update")
    if "project" in changed:
        _check_project(changes["project"], need.grid.community_id)
    for name in changed:
        setattr(need, name, changes[name])
    need.save(update_fields=changed)
    record_event(
        need=need, kind=NeedEvent.Kind.UPDATED, actor=user, data={"fields": sorted(changed)}
    )
    return need


@transaction.atomic
def add_need_photo(*, user: User, need: Need, image: Any) -> NeedPhoto:
    """Attach a photo to a need someone may see (ensure_in_scope); larger than
    NEED_PHOTO_MAX_BYTES is refused."""
    ensure_in_scope(user, need)
    if image.size > settings.NEED_PHOTO_MAX_BYTES:
        raise ValidationError(
            {
                "image": [
                    _("The photo is larger than %(max)d MB: send a smaller one.")
                    % {"max": settings.NEED_PHOTO_MAX_BYTES // (1024 * 1024)}
                ]
            }
        )
    photo = NeedPhoto.objects.create(need=need, image=image, uploaded_by=user)
    record_event(need=need, kind=NeedEvent.Kind.PHOTO, actor=user, data={"photo": photo.pk})
    return photo


@transaction.atomic
def accept_need(*, user: User, need: Need, note: str = "") -> Need:
    """Take a new need on (受理)."""
    need = _lock(need)
    _ensure_handles(user, need)
    _check_step(need, "accept")
    return _move(need, user=user, to_status=S.ACCEPTED, kind=NeedEvent.Kind.ACCEPTED, note=note)


@dataclass(frozen=True)
class Assignee:
    worker: GridWorker | None = None
    department: str = ""
    partner_unit: PartnerUnit | None = None

    def data(self) -> dict[str, Any]:
        return {
            "worker": self.worker.pk if self.worker else None,
            "department": self.department,
            "partner_unit": self.partner_unit.pk if self.partner_unit else None,
        }


def _one_assignee(
    worker: GridWorker | None, department: str, partner_unit: PartnerUnit | None
) -> Assignee:
    """Exactly one of a worker, a department and a partner unit."""
    department = (department or "").strip()
    if sum(x is not None and x != "" for x in (worker, department, partner_unit)) != 1:
        raise ValidationError(
            {"worker": [_("Assign to one of: a grid worker, a department or a partner unit.")]}
        )
    return Assignee(worker=worker, department=department, partner_unit=partner_unit)


def _check_assignee_community(assignee: Assignee, community_id: int) -> None:
    """A worker of the need's community; a partner unit with an agreement with it."""
    if assignee.worker is not None and assignee.worker.community_id != community_id:
        raise ValidationError({"worker": [_("The worker works in another community.")]})
    unit = assignee.partner_unit
    if unit is not None and not unit.agreements.filter(community_id=community_id).exists():
        raise ValidationError(
            {"partner_unit": [_("This partner unit has no agreement with the community.")]}
        )


def _set_assignee(need: Need, assignee: Assignee, due_on: dt.date, now: dt.datetime) -> None:
    need.assigned_worker = assignee.worker
    need.assigned_department = assignee.department
    need.assigned_partner = assignee.partner_unit
    need.due_on = due_on
    need.assigned_at = now


ASSIGNMENT_FIELDS = (
    "assigned_worker",
    "assigned_department",
    "assigned_partner",
    "due_on",
    "assigned_at",
)


@transaction.atomic
def assign_need(
    *,
    user: User,
    need: Need,
    due_on: dt.date,
    worker: GridWorker | None = None,
    department: str = "",
    partner_unit: PartnerUnit | None = None,
    note: str = "",
) -> Need:
    """Hand the need to a worker, a department or a partner unit with a due date (时效责任清单);
    again to hand it on. Offers to partner units still open are withdrawn."""
    need = _lock(need)
    _ensure_handles(user, need)
    _check_step(need, "assign")
    assignee = _one_assignee(worker, department, partner_unit)
    _check_assignee_community(assignee, need.grid.community_id)
    _set_assignee(need, assignee, _check_due_on(due_on), timezone.now())
    need.offered_to.clear()
    return _move(
        need,
        user=user,
        to_status=S.ASSIGNED,
        kind=NeedEvent.Kind.ASSIGNED,
        note=note,
        data={**assignee.data(), "due_on": due_on.isoformat()},
        fields=ASSIGNMENT_FIELDS,
    )


@transaction.atomic
def offer_need(
    *,
    user: User,
    need: Need,
    partner_units: list[PartnerUnit],
    due_on: dt.date,
    note: str = "",
) -> Need:
    """Offer an accepted micro-wish (微心愿) to partner units of its community; their contacts
    see it and one claims it (claim_need). Offering again adds units."""
    need = _lock(need)
    _ensure_handles(user, need)
    _check_step(need, "offer")
    if need.category != Need.Category.MICRO_WISH:
        raise ValidationError(
            {"category": [_("Only micro-wishes are offered; assign other needs.")]}
        )
    if not partner_units:
        raise ValidationError({"partner_units": [_("Name at least one partner unit.")]})
    signed = set(
        PartnerAgreement.objects.filter(
            community_id=need.grid.community_id, unit__in=partner_units
        ).values_list("unit_id", flat=True)
    )
    if outside := sorted(u.pk for u in partner_units if u.pk not in signed):
        raise ValidationError(
            {
                "partner_units": [
                    _("No agreement with the community: partner units %(ids)s.")
                    % {"ids": ", ".join(map(str, outside))}
                ]
            }
        )
    need.due_on = _check_due_on(due_on)
    need.save(update_fields=["due_on"])
    need.offered_to.add(*partner_units)
    record_event(
        need=need,
        kind=NeedEvent.Kind.OFFERED,
        actor=user,
        note=note,
        data={"partner_units": sorted(signed), "due_on": due_on.isoformat()},
    )
    notifications.micro_wish_offered(need, sorted(signed))
    return need


@transaction.atomic
def claim_need(
    *, user: User, need: Need, partner_unit: PartnerUnit | None = None, note: str = ""
) -> Need:
    """A partner contact claims (接单) a micro-wish offered to their unit: it is assigned to the
    unit, keeps the offer's due date, and the other units' offers are withdrawn. Of two units
    claiming at once, the second is refused (the need is assigned by then)."""
    need = _lock(need)
    _check_step(need, "claim")
    scope = scope_for(user)
    offered = set(need.offered_to.values_list("id", flat=True))
    mine = offered if scope.everything else offered & scope.partner_unit_ids
    if partner_unit is not None:
        if partner_unit.pk not in mine:
            raise PermissionDenied(_("This micro-wish is not offered to that unit."))
    elif len(mine) == 1:
        partner_unit = PartnerUnit.objects.get(pk=next(iter(mine)))
    elif not mine:
        raise PermissionDenied(_("This micro-wish is not offered to your unit."))
    else:
        raise ValidationError({"partner_unit": [_("Say which of your units claims it.")]})
    need.assigned_partner = partner_unit
    need.assigned_worker = None
    need.assigned_department = ""
    need.assigned_at = timezone.now()
    need.offered_to.set([partner_unit])
    return _move(
        need,
        user=user,
        to_status=S.ASSIGNED,
        kind=NeedEvent.Kind.CLAIMED,
        note=note,
        data={"partner_unit": partner_unit.pk},
        fields=ASSIGNMENT_FIELDS,
    )


@transaction.atomic
def start_need(*, user: User, need: Need, note: str = "") -> Need:
    """Work on an assigned need begins (by its assignee, or those who handle it)."""
    need = _lock(need)
    _ensure_works_on(user, need)
    _check_step(need, "start")
    return _move(need, user=user, to_status=S.IN_PROGRESS, kind=NeedEvent.Kind.STARTED, note=note)


@transaction.atomic
def resolve_need(
    *,
    user: User,
    need: Need,
    resolution: str,
    claim_resident: Resident | None = None,
    claim_rule: Rule | None = None,
    claim_points: int | None = None,
    claim_note: str = "",
) -> Need:
    """The need is solved (办结): say how. With `claim_resident` and `claim_rule` it also
    submits a points claim (积分申报) for that resident or volunteer, approved by the committee
    like any claim (points.services.claims.submit_claim, with its checks: the resident in the
    resolver's area, the rule of their community, the points fitting the rule, the cap)."""
    need = _lock(need)
    _ensure_works_on(user, need)
    _check_step(need, "resolve")
    if not (resolution or "").strip():
        raise ValidationError({"resolution": [_("Say how the need was resolved.")]})
    if (claim_resident is None) != (claim_rule is None):
        raise ValidationError(
            {"claim": [_("A points claim needs both the resident and the rule.")]}
        )
    data: dict[str, Any] = {}
    fields: tuple[str, ...] = ("resolution", "resolved_at")
    if claim_resident is not None and claim_rule is not None:
        need.claim = submit_claim(
            user=user,
            resident=claim_resident,
            rule=claim_rule,
            points=claim_points,
            note=claim_note or _("Need #%(id)d: %(title)s") % {"id": need.pk, "title": need.title},
        )
        data["claim"] = need.claim.pk
        fields += ("claim",)
    need.resolution = resolution.strip()
    need.resolved_at = timezone.now()
    return _move(
        need,
        user=user,
        to_status=S.RESOLVED,
        kind=NeedEvent.Kind.RESOLVED,
        data=data,
        fields=fields,
    )


@transaction.atomic
def reject_need(*, user: User, need: Need, reason: str) -> Need:
    """Decline a need (不予受理) with an explanation to the resident, which is required."""
    need = _lock(need)
    _ensure_handles(user, need)
    _check_step(need, "reject")
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Explain to the resident why the need is rejected.")]})
    need.rejection_reason = reason.strip()
    return _move(
        need,
        user=user,
        to_status=S.REJECTED,
        kind=NeedEvent.Kind.REJECTED,
        note=need.rejection_reason,
        fields=("rejection_reason",),
    )


@transaction.atomic
def escalate_need(*, user: User, need: Need, note: str = "") -> Need:
    """Send an open need up one level by hand: to the community, then to the street."""
    need = _lock(need)
    _ensure_handles(user, need)
    _check_step(need, "escalate")
    if need.escalation >= Need.Escalation.STREET:
        raise ValidationError({"escalation": [_("This need is already escalated to the street.")]})
    need.escalation += 1
    need.save(update_fields=["escalation"])
    record_event(
        need=need,
        kind=NeedEvent.Kind.ESCALATED,
        actor=user,
        note=note,
        data={"escalation": need.escalation},
    )
    return need
