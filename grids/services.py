"""Writes for the grids app."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.permissions import ensure_in_scope
from core.scope import scope_for
from core.types import User
from grids import selectors
from grids.models import (
    AgendaEvaluation,
    AgendaItem,
    Community,
    Council,
    GridAssignment,
    GridWorker,
    PartnerAgreement,
    PartnerUnit,
    Project,
)
from grids.signals import community_created
from residents.models import Need, NeedEvent

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- territory


@transaction.atomic
def create_community(community: Community) -> Community:
    """Save a new community (the API's create and the admin's add) and let the apps above
    set it up in the same transaction: points gives it its street's default rule book
    (积分细则). Those apps connect to `grids.signals.community_created` in their
    AppConfig.ready(), so grids knows nothing of them (no import of points here, no cycle)."""
    community.save(force_insert=True)
    community_created.send(sender=Community, community=community)
    return community


def _access_agreements(user: User, communities: list[Community]) -> None:
    """Signing, changing or ending a partner unit's agreement is a write to its community:
    each must be in the user's area."""
    for community in communities:
        ensure_in_scope(user, community)


@transaction.atomic
def create_partner_unit(
    *, user: User, agreements: list[dict[str, Any]] | None = None, **fields: Any
) -> PartnerUnit:
    """A partner unit (共建单位) with its agreements (`{"community", "signed_on"}` each), every
    community of which is in the user's area."""
    agreements = agreements or []
    _access_agreements(user, [a["community"] for a in agreements])
    unit = PartnerUnit.objects.create(**fields)
    PartnerAgreement.objects.bulk_create(PartnerAgreement(unit=unit, **a) for a in agreements)
    return unit


@transaction.atomic
def update_partner_unit(
    *,
    user: User,
    unit: PartnerUnit,
    agreements: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> PartnerUnit:
    """Change a partner unit. Sending `agreements` replaces the list: an agreement it drops is
    a write to that community too, so a street admin cannot end another street's agreement."""
    if agreements is not None:
        kept = {a["community"].pk for a in agreements}
        dropped = [
            a.community
            for a in unit.agreements.select_related("community")
            if a.community_id not in kept
        ]
        _access_agreements(user, [a["community"] for a in agreements] + dropped)
    for name, value in fields.items():
        setattr(unit, name, value)
    unit.save()
    if agreements is not None:
        unit.agreements.all().delete()
        PartnerAgreement.objects.bulk_create(PartnerAgreement(unit=unit, **a) for a in agreements)
    return unit


def end_assignments_today(*, assignments: QuerySet[GridAssignment]) -> tuple[int, int]:
    """End the given assignments today, in one UPDATE. Returns (ended, left alone).

    An assignment that starts after today cannot end today (the end may not precede the
    start), and one that has already ended keeps its date.
    """
    today = timezone.localdate()
    open_ = assignments.filter(Q(end_date__isnull=True) | Q(end_date__gt=today))
    ended = open_.filter(start_date__lte=today).update(end_date=today)
    future = open_.filter(start_date__gt=today).count()
    return ended, future


# ---------------------------------------------------------------------------- council (议事会)
# 石桥乡's 民需我解议事会: monthly on the 10th, the agenda fixed by the 7th from the needs
# flagged for it; five steps (讲政策、晒情况、提诉求、议办法、评成效); each past item scored
# and struck off (销号) or carried over with a reason (挂账).

COUNCIL_DAY = 10
AGENDA_CUTOFF_DAY = 7

MINUTES_SECTIONS = (
    "policy_talk",
    "affairs_disclosed",
    "needs_raised",
    "solutions_discussed",
    "past_items_evaluated",
)
MINUTES_FIELDS = (*MINUTES_SECTIONS, "attendees", "attendee_count", "chaired_by", "place")
AGENDA_ITEM_FIELDS = ("title", "decision", "need", "project", "responsible", "position")
# Needs with nothing left to decide do not go on an agenda by themselves.
_SETTLED_NEEDS = (Need.Status.REJECTED, Need.Status.CLOSED)


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    return _month_bounds(day)[1] + dt.timedelta(days=1)


def _ensure_council_writer(user: User | None, community: Community) -> None:
    if user is None:  # the system: the monthly and daily beat
        return
    if not scope_for(user).runs_community(community):
        raise PermissionDenied(
            _("Only the committee of %(community)s or its street admin runs its council.")
            % {"community": community.name}
        )


def _lock(council: Council) -> Council:
    return Council.objects.select_for_update().select_related("community").get(pk=council.pk)


def _require_status(council: Council, *allowed: str) -> None:
    if council.status not in allowed:
        raise ValidationError(
            {
                "status": [
                    _(
                        "The council of %(date)s is %(status)s; this can be done only while "
                        "it is %(allowed)s."
                    )
                    % {
                        "date": council.held_on.isoformat(),
                        "status": council.get_status_display(),
                        "allowed": ", ".join(str(Council.Status(s).label) for s in allowed),
                    }
                ]
            },
            code="bad_state",
        )


_NOT_HELD = (Council.Status.PLANNED, Council.Status.AGENDA_FIXED)


@transaction.atomic
def plan_council(
    *,
    community: Community,
    month: dt.date,
    user: User | None = None,
    held_on: dt.date | None = None,
    agenda_cutoff: dt.date | None = None,
) -> Council:
    """The community's council of `month` (any day of it): planned on the 10th with the
    agenda cut-off on the 7th unless other days are given. Idempotent: a community has one
    council a month, and planning it again returns the one already planned."""
    _ensure_council_writer(user, community)
    first, last = _month_bounds(month)
    held_on = held_on or first.replace(day=COUNCIL_DAY)
    if not first <= held_on <= last:
        raise ValidationError(
            {"held_on": [_("Pick a day in %(month)s.") % {"month": first.strftime("%Y-%m")}]}
        )
    if agenda_cutoff is None:
        agenda_cutoff = min(first.replace(day=AGENDA_CUTOFF_DAY), held_on)
    if agenda_cutoff > held_on:
        raise ValidationError(
            {"agenda_cutoff": [_("The agenda cut-off must not be after the meeting.")]}
        )
    # Two requests planning the same month wait for each other here (PostgreSQL).
    Community.objects.select_for_update().filter(pk=community.pk).first()
    existing = Council.objects.filter(community=community, held_on__range=(first, last)).first()
    if existing is not None:
        return existing
    return Council.objects.create(community=community, held_on=held_on, agenda_cutoff=agenda_cutoff)


@transaction.atomic
def plan_councils(*, month: dt.date) -> int:
    """Plan `month`'s council (the 10th, cut-off the 7th) for every community that has none
    that month, in one INSERT. Idempotent. Returns how many were planned."""
    first, last = _month_bounds(month)
    # Take the communities' locks that plan_council takes, in id order, before looking: a
    # council planned by hand for another day of the month meanwhile is then seen, not doubled.
    list(Community.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    planned = Council.objects.filter(held_on__range=(first, last)).values("community_id")
    missing = list(Community.objects.exclude(pk__in=planned).values_list("pk", flat=True))
    Council.objects.bulk_create(
        [
            Council(
                community_id=pk,
                held_on=first.replace(day=COUNCIL_DAY),
                agenda_cutoff=first.replace(day=AGENDA_CUTOFF_DAY),
            )
            for pk in missing
        ],
    )
    return len(missing)


def _current_workers(grid_ids: set[int], day: dt.date) -> dict[int, int]:
    """grid → the worker who answers for it on `day`: its leader if the leader works it that
    day, else the longest-serving worker assigned to it."""
    chosen: dict[int, int] = {}
    rows = (
        GridAssignment.objects.current(day)
        .filter(grid_id__in=grid_ids)
        .order_by("grid_id", "start_date", "id")
        .values_list("grid_id", "worker_id", "grid__leader_id")
    )
    for grid_id, worker_id, leader_id in rows:
        if grid_id not in chosen or worker_id == leader_id:
            chosen[grid_id] = worker_id
    return chosen


def _council_events(
    council: Council, items: list[AgendaItem], user: User | None
) -> list[NeedEvent]:
    """A timeline event (NeedEvent COUNCIL) for each item with a need. Only the event: the
    need itself belongs to the needs services."""
    note = _("On the agenda of the council of %(date)s.") % {"date": council.held_on.isoformat()}
    return NeedEvent.objects.bulk_create(
        NeedEvent(
            need_id=item.need_id,
            kind=NeedEvent.Kind.COUNCIL,
            actor=user,
            note=note,
            data={
                "council": council.pk,
                "held_on": council.held_on.isoformat(),
                "agenda_item": item.pk,
            },
        )
        for item in items
        if item.need_id is not None
    )


@transaction.atomic
def fix_agenda(*, council: Council, user: User | None = None) -> int:
    """Fix the agenda at (or after) the cut-off: one item per need of the community flagged
    for the council and recorded by the end of the cut-off day that no council has had on
    its agenda yet, with the need's worker (or the grid's) answering for it. The council goes
    from planned to agenda fixed. Idempotent: an agenda already fixed adds nothing. Returns
    how many items were added."""
    council = _lock(council)
    _ensure_council_writer(user, council.community)
    if council.status == Council.Status.AGENDA_FIXED:
        return 0
    _require_status(council, Council.Status.PLANNED)
    today = timezone.localdate()
    if today < council.agenda_cutoff:
        raise ValidationError(
            {
                "agenda_cutoff": [
                    _("The agenda can be fixed on or after its cut-off, %(date)s.")
                    % {"date": council.agenda_cutoff.isoformat()}
                ]
            },
            code="before_cutoff",
        )
    # Needs carry no "flagged at" time: a need counts if it was recorded by the end of the
    # cut-off day and is flagged now. One flagged later waits for next month's council.
    end = dt.datetime.combine(
        council.agenda_cutoff + dt.timedelta(days=1),
        dt.time.min,
        tzinfo=timezone.get_current_timezone(),
    )
    needs = list(
        Need.objects.filter(
            grid__community_id=council.community_id, for_council=True, created_at__lt=end
        )
        .exclude(status__in=_SETTLED_NEEDS)
        .exclude(Exists(AgendaItem.objects.filter(need=OuterRef("pk"))))
        .order_by("-priority", "created_at", "id")
        .only("id", "title", "grid_id", "assigned_worker_id")
    )
    workers = _current_workers({n.grid_id for n in needs}, today)
    start = (council.items.aggregate(m=Max("position"))["m"] or 0) + 1
    AgendaItem.objects.bulk_create(
        AgendaItem(
            council=council,
            need_id=need.pk,
            title=need.title[:200],
            responsible_id=need.assigned_worker_id or workers.get(need.grid_id),
            position=start + i,
        )
        for i, need in enumerate(needs)
    )
    # Read back rather than trust bulk_create's ids (not returned by every backend).
    added = list(council.items.filter(need_id__in=[n.pk for n in needs]))
    _council_events(council, added, user)
    council.status = Council.Status.AGENDA_FIXED
    council.save(update_fields=["status"])
    return len(added)


def fix_due_agendas(*, today: dt.date | None = None) -> int:
    """Fix every planned agenda whose cut-off day is over (the daily beat). One transaction
    per council, so one failing council does not hold back the others. Returns items added."""
    today = today or timezone.localdate()
    added = 0
    due = Council.objects.filter(status=Council.Status.PLANNED, agenda_cutoff__lt=today)
    for council in due.order_by("id").iterator():
        try:
            added += fix_agenda(council=council)
        except Exception:  # noqa: BLE001 - logged; tomorrow's run tries this council again
            logger.exception("Could not fix the agenda of council %s", council.pk)
    return added


def validate_agenda_links(
    *,
    community_id: int,
    need: Need | None = None,
    project: Project | None = None,
    responsible: GridWorker | None = None,
) -> None:
    """An agenda item links only to a need, a project and a worker of the council's
    community."""
    errors: dict[str, list[str]] = {}
    if need is not None and need.grid.community_id != community_id:
        errors["need"] = [_("The need is not of this council's community.")]
    if project is not None and project.community_id != community_id:
        errors["project"] = [_("The project is not of this council's community.")]
    if responsible is not None and responsible.community_id != community_id:
        errors["responsible"] = [_("The worker is not of this council's community.")]
    if errors:
        raise ValidationError(errors)


def _check_item_fields(council: Council, fields: dict[str, Any], item: AgendaItem | None) -> None:
    unknown = set(fields) - set(AGENDA_ITEM_FIELDS)
    if unknown:
        raise TypeError(f"not agenda item fields: {sorted(unknown)}")
    validate_agenda_links(
        community_id=council.community_id,
        need=fields.get("need"),
        project=fields.get("project"),
        responsible=fields.get("responsible"),
    )
    need = fields.get("need")
    if need is not None:
        others = AgendaItem.objects.filter(council=council, need=need)
        if item is not None:
            others = others.exclude(pk=item.pk)
        if others.exists():
            raise ValidationError({"need": [_("The need is already on this agenda.")]})


@transaction.atomic
def add_agenda_item(*, council: Council, user: User, **fields: Any) -> AgendaItem:
    """Add an item by hand (title, decision, need, project, responsible, position) while the
    council is not held. The title defaults to the need's or the project's."""
    council = _lock(council)
    _ensure_council_writer(user, council.community)
    _require_status(council, *_NOT_HELD)
    _check_item_fields(council, fields, None)
    title = (fields.pop("title", "") or "").strip()
    need, project = fields.get("need"), fields.get("project")
    title = title or (need.title if need else "") or (project.name if project else "")
    if not title:
        raise ValidationError({"title": [_("Give the item a title, or link a need or project.")]})
    if fields.get("position") is None:
        fields["position"] = (council.items.aggregate(m=Max("position"))["m"] or 0) + 1
    item = AgendaItem.objects.create(council=council, title=title[:200], **fields)
    _council_events(council, [item], user)
    return item


@transaction.atomic
def update_agenda_item(*, item: AgendaItem, user: User, **fields: Any) -> AgendaItem:
    """Change an item (its decision above all) while its council is not held."""
    council = _lock(item.council)
    _ensure_council_writer(user, council.community)
    _require_status(council, *_NOT_HELD)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    _check_item_fields(council, fields, item)
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()[:200]
        if not fields["title"]:
            raise ValidationError({"title": [_("This field may not be blank.")]})
    new_need = "need" in fields and fields["need"] is not None and fields["need"].pk != item.need_id
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    if new_need:
        _council_events(council, [item], user)
    return item


@transaction.atomic
def delete_agenda_item(*, item: AgendaItem, user: User) -> None:
    council = _lock(item.council)
    _ensure_council_writer(user, council.community)
    _require_status(council, *_NOT_HELD)
    item.delete()


@transaction.atomic
def delete_council(*, council: Council, user: User) -> None:
    """Drop a council planned by mistake, before its agenda is fixed."""
    council = _lock(council)
    _ensure_council_writer(user, council.community)
    _require_status(council, Council.Status.PLANNED)
    council.delete()


@transaction.atomic
def record_minutes(*, council: Council, user: User, **fields: Any) -> Council:
    """Write the minutes: the five sections, the attendance (names one a line, and the
    number present, counted from the names when not given), who chaired, where. Only the
    fields given change; allowed while the council is not held."""
    unknown = set(fields) - set(MINUTES_FIELDS)
    if unknown:
        raise TypeError(f"not minutes fields: {sorted(unknown)}")
    council = _lock(council)
    _ensure_council_writer(user, council.community)
    _require_status(council, *_NOT_HELD)
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(council, name, value)
    if "attendees" in fields and "attendee_count" not in fields:
        council.attendee_count = len([n for n in council.attendees.splitlines() if n.strip()])
    if council.attendee_count < 0:
        raise ValidationError({"attendee_count": [_("Ensure this value is 0 or more.")]})
    council.recorded_by = user
    council.save(update_fields=[*fields, "attendee_count", "recorded_by"])
    return council


@transaction.atomic
def evaluate_items(
    *, council: Council, user: User, evaluations: list[dict[str, Any]]
) -> list[AgendaEvaluation]:
    """The fifth step (评成效): score past items (1–5) of earlier held councils of the
    community that are still open or carried over; each is struck off (销号) or carried over
    with a reason (挂账). An item evaluated again at the same council is re-scored (so a
    retried request changes nothing). Allowed while the council is not held."""
    council = _lock(council)
    _ensure_council_writer(user, council.community)
    _require_status(council, *_NOT_HELD)
    if not evaluations:
        raise ValidationError({"evaluations": [_("Evaluate at least one item.")]})
    wanted = [getattr(e["item"], "pk", e["item"]) for e in evaluations]
    if len(wanted) != len(set(wanted)):
        raise ValidationError({"evaluations": [_("Each item may appear once.")]})
    items = {
        i.pk: i
        for i in selectors.evaluable_items(council=council)
        .filter(pk__in=wanted)
        .select_for_update(of=("self",))
    }
    errors: list[str] = []
    for e, item_id in zip(evaluations, wanted, strict=True):
        label = {"item": item_id}
        if item_id not in items:
            errors.append(
                _("Item %(item)s is not a past item of this community still to evaluate.") % label
            )
        score = e.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            errors.append(_("Item %(item)s: the score must be 1 to 5.") % label)
        if not e.get("struck_off") and not (e.get("reason") or "").strip():
            errors.append(_("Item %(item)s: say why it is carried over.") % label)
    if errors:
        raise ValidationError({"evaluations": errors})
    now = timezone.now()
    done = []
    for e, item_id in zip(evaluations, wanted, strict=True):
        item, struck_off = items[item_id], bool(e.get("struck_off"))
        evaluation, _created = AgendaEvaluation.objects.update_or_create(
            item=item,
            council=council,
            defaults={
                "score": e["score"],
                "struck_off": struck_off,
                "reason": (e.get("reason") or "").strip(),
                "evaluated_by": user,
                "evaluated_at": now,
            },
        )
        item.outcome = AgendaItem.Outcome.STRUCK_OFF if struck_off else AgendaItem.Outcome.CARRIED
        item.save(update_fields=["outcome"])
        done.append(evaluation)
    return done


@transaction.atomic
def hold_council(*, council: Council, user: User) -> Council:
    """Close the meeting: from agenda fixed to held, on or after its day, once the minutes
    of all five sections and the attendance are written and every past item still open or
    carried over has been evaluated at this council. Then nothing of it changes any more."""
    council = _lock(council)
    _ensure_council_writer(user, council.community)
    _require_status(council, Council.Status.AGENDA_FIXED)
    if timezone.localdate() < council.held_on:
        raise ValidationError(
            {
                "held_on": [
                    _("The council meets on %(date)s: it can be held from that day.")
                    % {"date": council.held_on.isoformat()}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    for name in MINUTES_SECTIONS:
        if not getattr(council, name).strip():
            errors[name] = [_("Write the minutes of this section.")]
    if not council.attendees.strip() or council.attendee_count <= 0:
        errors["attendees"] = [_("Record who attended.")]
    missing = list(selectors.items_to_evaluate(council=council).select_related("council"))
    if missing:
        errors["items"] = [
            _("Item %(item)s “%(title)s” of the council of %(date)s is not evaluated yet.")
            % {"item": i.pk, "title": i.title, "date": i.council.held_on.isoformat()}
            for i in missing
        ]
    if errors:
        raise ValidationError(errors)
    council.status = Council.Status.HELD
    council.save(update_fields=["status"])
    return council
