"""Writes for volunteers: the only code that saves a Team, Membership, Activity, Signup or
Attendance (the admin's plain forms aside, which call these for anything with a rule).

Who manages a team (volunteers.access): a street admin of its street, a committee member of
its community, its leader (core.scope: team_ids), the superuser. A member acts for themselves
(sign up, withdraw, check in with the activity's QR code, check out); a manager may act for any
member of the team, and records attendance for members without a phone. Every write checks its
user here, whoever calls it (API, admin, pages).
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.types import AnyUser, User
from grids.models import Community, Resource
from points.models import Rule
from points.services import claims as claims_services
from residents.models import Resident
from volunteers.access import access_manage_community, access_manage_team, may_manage_community
from volunteers.models import Activity, Attendance, Membership, PartnerOrganisation, Signup, Team

# A member may check in this long before the activity starts.
CHECK_IN_OPENS_BEFORE = dt.timedelta(hours=1)
HOURS = Decimal("0.01")
# The most Attendance.hours holds (max_digits=6, decimal_places=2).
MAX_HOURS = Decimal("9999.99")

# ----------------------------------------------------------------------------- who may


def own_membership(user: AnyUser | None, team: Team) -> Membership | None:
    """The user's active membership of the team: by the member's login or their resident's."""
    if user is None or not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(team=team, active=True)
        .filter(Q(user=user) | Q(resident__user=user))
        .select_related("resident")
        .first()
    )


def _acting_for(user: User, activity: Activity, membership: Membership | None) -> Membership:
    """The member an action is for: the caller, or (for a manager) the member named."""
    own = own_membership(user, activity.team)
    if membership is None or (own is not None and membership.pk == own.pk):
        if own is None:
            raise PermissionDenied(_("You are not an active member of this team."))
        return own
    access_manage_team(user, activity.team)
    if membership.team_id != activity.team_id or not membership.active:
        raise ValidationError({"membership": [_("Name an active member of the activity's team.")]})
    return membership


# ----------------------------------------------------------------------------- teams


def check_hours_rule(community: Community, rule: Rule | None) -> None:
    if rule is None:
        return
    if rule.community_id != community.pk or rule.category == Rule.Category.DEDUCTION or rule.up_to:
        raise ValidationError(
            {
                "hours_rule": [
                    _(
                        "Choose a fixed reward or base rule of the team's community: its points "
                        "are given per hour of service."
                    )
                ]
            }
        )


@transaction.atomic
def create_team(
    *,
    user: User,
    community: Community,
    name: str,
    kind: str = Team.Kind.OTHER,
    description: str = "",
    hours_rule: Rule | None = None,
) -> Team:
    access_manage_community(user, community)
    check_hours_rule(community, hours_rule)
    if Team.objects.filter(community=community, name=name).exists():
        raise ValidationError({"name": [_("The community already has a team of this name.")]})
    return Team.objects.create(
        community=community, name=name, kind=kind, description=description, hours_rule=hours_rule
    )


@transaction.atomic
def update_team(*, user: User, team: Team, **fields: Any) -> Team:
    """Name, kind, description (the team's leader too); the hours rule (the committee only,
    as it decides what the team's hours are worth). A team stays in its community."""
    access_manage_team(user, team)
    community = fields.pop("community", team.community)
    if community.pk != team.community_id:
        raise ValidationError({"community": [_("A team stays in the community it was made in.")]})
    if "hours_rule" in fields and fields["hours_rule"] != team.hours_rule:
        access_manage_community(user, team.community)
        check_hours_rule(team.community, fields["hours_rule"])
    name = fields.get("name", team.name)
    if Team.objects.filter(community=team.community, name=name).exclude(pk=team.pk).exists():
        raise ValidationError({"name": [_("The community already has a team of this name.")]})
    for key, value in fields.items():
        setattr(team, key, value)
    team.save()
    return team


@transaction.atomic
def delete_team(*, user: User, team: Team) -> None:
    """Delete a team (the API's and the admin's delete): those who run its community. A team
    that held activities is protected by them (ProtectedError)."""
    access_manage_community(user, team.community)
    team.delete()


def _step_down_leader(team_id: int, *, keep: int | None = None) -> None:
    """The team has one leader: a new one makes the previous one a member again."""
    leaders = Membership.objects.filter(team_id=team_id, role=Membership.Role.LEADER)
    if keep is not None:
        leaders = leaders.exclude(pk=keep)
    leaders.update(role=Membership.Role.MEMBER)


def check_resident(team: Team, resident: Resident) -> None:
    """A team's members are residents of its community."""
    in_community = Resident.objects.filter(
        pk=resident.pk, household__grid__community=team.community_id
    )
    if not in_community.exists():
        raise ValidationError(
            {"resident": [_("A team's members are residents of the team's community.")]}
        )


def ensure_may_choose_leader(user: AnyUser, team: Team) -> None:
    """Who leads a team is the committee's (or the street admin's) choice: a team's leader
    runs the roster but does not hand the team, and its scope, to someone else."""
    if not may_manage_community(user, team.community):
        raise PermissionDenied(
            _(
                "Only the committee of the community or the street admin chooses the team's "
                "leader: a team's leader cannot make another member the leader."
            )
        )


def has_posts(login: User) -> bool:
    """Does the login hold a post of its own: superuser, street admin, committee member, grid
    worker, contact of a partner unit? Such a login already sees an area of its own."""
    GridWorker = apps.get_model("grids", "GridWorker")
    StreetAdmin = apps.get_model("grids", "StreetAdmin")
    CommitteeMember = apps.get_model("grids", "CommitteeMember")
    PartnerUnit = apps.get_model("grids", "PartnerUnit")
    return bool(
        login.is_superuser
        or StreetAdmin.objects.filter(user=login).exists()
        or CommitteeMember.objects.filter(user=login).exists()
        or GridWorker.objects.filter(user=login).exists()
        or PartnerUnit.objects.filter(contacts=login).exists()
    )


def check_login(*, user: User, team: Team, resident: Resident, login: User | None) -> None:
    """May `user` link `login` to the membership of `resident` in `team`?

    The login of a membership is whoever acts as that member: they check in as the member,
    and a leader's login gets the team's scope (core.scope: team_ids). So it is not a free
    choice:

    - no login, or the resident's own login (Resident.user): anyone who manages the team;
    - any other login: only the committee of the community or the street admin
      (`access.may_manage_community`), and only a login of no one else: not the login of a resident,
      not the login another resident's membership uses, and with no post of its own
      (`has_posts`: superuser, street admin, committee member, grid worker, partner contact)
      — so that no one's account, and no official's, is given a team's scope by a roster.
    """
    if login is None or login.pk == resident.user_id:
        return
    if not may_manage_community(user, team.community):
        raise ValidationError(
            {
                "login": [
                    _(
                        "Link no login or the resident's own login; only the committee of the "
                        "community or the street admin links another login."
                    )
                ]
            }
        )
    used_by_other = (
        Resident.objects.filter(user=login).exists()
        or Membership.objects.filter(user=login).exclude(resident=resident).exists()
    )
    if used_by_other or has_posts(login):
        raise ValidationError(
            {
                "login": [
                    _(
                        "This login belongs to another resident or holds a post of its own: "
                        "link a login of the member's own."
                    )
                ]
            }
        )


@transaction.atomic
def add_member(
    *,
    user: User,
    team: Team,
    resident: Resident,
    joined_on: dt.date | None = None,
    role: str = Membership.Role.MEMBER,
    login: User | None = None,
) -> Membership:
    """Add a resident of the team's community to the team (a former member comes back).
    A leader is chosen by the committee or street admin (`ensure_may_choose_leader`); the
    login is checked by `check_login`."""
    access_manage_team(user, team)
    Team.objects.select_for_update().filter(pk=team.pk).get()  # one leader at a time
    check_resident(team, resident)
    membership = Membership.objects.filter(team=team, resident=resident).first()
    if membership is not None and membership.active:
        raise ValidationError({"resident": [_("This resident is already a member of the team.")]})
    if role == Membership.Role.LEADER:
        ensure_may_choose_leader(user, team)
    check_login(user=user, team=team, resident=resident, login=login)
    if role == Membership.Role.LEADER:
        _step_down_leader(team.pk, keep=membership.pk if membership else None)
    if membership is None:
        membership = Membership(team=team, resident=resident)
    membership.joined_on = joined_on or timezone.localdate()
    membership.role = role
    membership.active = True
    membership.user = login
    membership.save()
    return membership


def becomes_leader(membership: Membership, fields: dict[str, Any]) -> bool:
    """Does the change make the member the team's (active) leader, who was not before?"""
    role = fields.get("role", membership.role)
    active = fields.get("active", membership.active)
    was_leader = membership.role == Membership.Role.LEADER and membership.active
    return role == Membership.Role.LEADER and bool(active) and not was_leader


def check_member_change(*, user: User, membership: Membership, fields: dict[str, Any]) -> None:
    """The rules `update_member` holds a change to: a new leader is the committee's choice, a
    new login passes `check_login`. `membership` is as stored (not yet changed)."""
    if becomes_leader(membership, fields):
        ensure_may_choose_leader(user, membership.team)
    if "login" in fields and fields["login"] != membership.user:
        check_login(
            user=user, team=membership.team, resident=membership.resident, login=fields["login"]
        )


@transaction.atomic
def update_member(*, user: User, membership: Membership, **fields: Any) -> Membership:
    """Change a member's role, login (`login`: Membership.user) or join date, or end the
    membership (active=False). See `check_member_change` for who may make a new leader or
    link a login."""
    access_manage_team(user, membership.team)
    Team.objects.select_for_update().filter(pk=membership.team_id).get()
    unknown = set(fields) - {"login", "joined_on", "role", "active"}
    if unknown:
        raise TypeError(f"update_member() does not change {sorted(unknown)}")
    check_member_change(user=user, membership=membership, fields=fields)
    role = fields.get("role", membership.role)
    if role == Membership.Role.LEADER and fields.get("active", membership.active):
        _step_down_leader(membership.team_id, keep=membership.pk)
    if "login" in fields:
        membership.user = fields.pop("login")
    for key, value in fields.items():
        setattr(membership, key, value)
    membership.save()
    return membership


@transaction.atomic
def remove_member(*, user: User, membership: Membership) -> None:
    """Take a row off the team's roster (the admin's inline delete): anyone who manages the
    team. A member with attendance is protected by it (ProtectedError): end the membership
    (active=False) instead."""
    access_manage_team(user, membership.team)
    membership.delete()


# ----------------------------------------------------------------------------- activities


def _lock(activity: Activity) -> Activity:
    """The activity, locked for the transaction: sign-ups, withdrawals, check-ins and the
    completion of one activity queue up behind each other."""
    return (
        Activity.objects.select_for_update(of=("self",)).select_related("team").get(pk=activity.pk)
    )


def _ensure_planned(activity: Activity) -> None:
    if activity.status != Activity.Status.PLANNED:
        raise ValidationError(
            _(
                "This activity is %(status)s: only a planned activity takes sign-ups and "
                "attendance (planned → done | cancelled)."
            )
            % {"status": activity.get_status_display()},
            code="activity_not_planned",
        )


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("The activity must end after it starts.")]})


@transaction.atomic
def create_activity(
    *,
    user: User,
    team: Team,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    place: str,
    capacity: int,
    description: str = "",
) -> Activity:
    access_manage_team(user, team)
    _check_times(starts_at, ends_at)
    if capacity < 1:
        raise ValidationError({"capacity": [_("At least one place.")]})
    return Activity.objects.create(
        team=team,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        capacity=capacity,
        description=description,
    )


def _confirmed(activity: Activity) -> int:
    return Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count()


def _promote(activity: Activity) -> int:
    """Fill free places from the waitlist, first come first served. Call under the lock."""
    free = activity.capacity - _confirmed(activity)
    if free <= 0:
        return 0
    first = Signup.objects.filter(activity=activity, status=Signup.Status.WAITLISTED).order_by(
        "created_at", "id"
    )
    ids = list(first.values_list("id", flat=True)[:free])
    return Signup.objects.filter(id__in=ids).update(status=Signup.Status.CONFIRMED)


@transaction.atomic
def update_activity(*, user: User, activity: Activity, **fields: Any) -> Activity:
    """Change a planned activity. Fewer places than are confirmed is refused; more places
    move the waitlist up."""
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    _ensure_planned(activity)
    team = fields.pop("team", activity.team)
    if team.pk != activity.team_id:
        raise ValidationError({"team": [_("An activity stays with the team that holds it.")]})
    _check_times(
        fields.get("starts_at", activity.starts_at), fields.get("ends_at", activity.ends_at)
    )
    capacity = fields.get("capacity", activity.capacity)
    confirmed = _confirmed(activity)
    if capacity < confirmed:
        raise ValidationError(
            {
                "capacity": [
                    _("%(count)d members are confirmed: the capacity cannot go below that.")
                    % {"count": confirmed}
                ]
            }
        )
    for key, value in fields.items():
        setattr(activity, key, value)
    activity.save()
    _promote(activity)
    return activity


@transaction.atomic
def cancel_activity(*, user: User, activity: Activity) -> Activity:
    """Cancel a planned activity; cancelling it again changes nothing."""
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    if activity.status == Activity.Status.CANCELLED:
        return activity
    _ensure_planned(activity)
    activity.status = Activity.Status.CANCELLED
    activity.save(update_fields=["status"])
    return activity


@transaction.atomic
def delete_activity(*, user: User, activity: Activity) -> None:
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    if activity.status != Activity.Status.PLANNED or activity.signups.exists():
        raise ValidationError(
            _("Members have signed up for this activity, or it took place: cancel it instead.")
        )
    activity.delete()


# ----------------------------------------------------------------------------- sign-up


@transaction.atomic
def sign_up(*, user: User, activity: Activity, membership: Membership | None = None) -> Signup:
    """Sign a member up: confirmed while there is a place, else on the waitlist.

    The activity's row is locked before the places are counted, so concurrent sign-ups queue
    up and exactly `capacity` are confirmed. Signing up again returns the sign-up there is.
    """
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    if activity.starts_at <= timezone.now():
        raise ValidationError(_("The activity has started: sign-up is closed."))
    existing = (
        Signup.objects.filter(activity=activity, membership=member)
        .exclude(status=Signup.Status.WITHDRAWN)
        .first()
    )
    if existing is not None:
        return existing
    status = (
        Signup.Status.CONFIRMED
        if _confirmed(activity) < activity.capacity
        else Signup.Status.WAITLISTED
    )
    return Signup.objects.create(activity=activity, membership=member, status=status)


@transaction.atomic
def withdraw(*, user: User, activity: Activity, membership: Membership | None = None) -> Signup:
    """Withdraw a sign-up; a confirmed place goes to the first on the waitlist."""
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    if activity.starts_at <= timezone.now():
        raise ValidationError(_("The activity has started: a sign-up can no longer be withdrawn."))
    signup = (
        Signup.objects.filter(activity=activity, membership=member)
        .exclude(status=Signup.Status.WITHDRAWN)
        .first()
    )
    if signup is None:
        raise ValidationError(_("There is no sign-up to withdraw."), code="not_signed_up")
    signup.status = Signup.Status.WITHDRAWN
    signup.withdrawn_at = timezone.now()
    signup.save(update_fields=["status", "withdrawn_at"])
    _promote(activity)
    return signup


# ----------------------------------------------------------------------------- attendance


def hours_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    """Service hours from check-in to check-out, to the hundredth of an hour (rounded down).
    Both are aware datetimes, so 22:00 to 01:30 the next day is 3.5 hours."""
    seconds = Decimal((end - start).total_seconds())
    return (seconds / Decimal(3600)).quantize(HOURS, rounding=ROUND_DOWN)


def activity_for_token(token: str) -> Activity | None:
    """The activity whose QR code carries `token`."""
    if not token or len(token) > 64:
        return None
    return Activity.objects.select_related("team__community").filter(check_in_token=token).first()


def _set_times(
    attendance: Attendance, checked_in_at: dt.datetime, checked_out_at: dt.datetime | None
) -> None:
    if checked_out_at is not None and checked_out_at <= checked_in_at:
        raise ValidationError({"at": [_("The check-out must come after the check-in.")]})
    hours = hours_between(checked_in_at, checked_out_at) if checked_out_at is not None else None
    if hours is not None and hours > MAX_HOURS:
        raise ValidationError(
            {
                "at": [
                    _("The check-out must come within %(hours)s hours of the check-in.")
                    % {"hours": MAX_HOURS}
                ]
            }
        )
    attendance.checked_in_at = checked_in_at
    attendance.checked_out_at = checked_out_at
    attendance.hours = hours


@transaction.atomic
def check_in(
    *,
    user: User,
    activity: Activity,
    token: str | None = None,
    membership: Membership | None = None,
    at: dt.datetime | None = None,
) -> Attendance:
    """Check a member in.

    A member checks themselves in with the code of the activity's QR code, from an hour
    before it starts until it ends; they need a confirmed sign-up, or are signed up on the
    spot while there is a place. Checking in again changes nothing. A manager records the
    check-in of any member of the team, at any time given (a correction moves it).
    """
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    now = timezone.now()
    existing = Attendance.objects.filter(activity=activity, membership=member).first()
    if own_membership(user, activity.team) == member and at is None:
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
        if token is None or not secrets.compare_digest(
            token.encode(), activity.check_in_token.encode()
        ):
            raise PermissionDenied(_("Scan the activity's QR code to check in."))
        if existing is not None:
            return existing
        if not activity.starts_at - CHECK_IN_OPENS_BEFORE <= now <= activity.ends_at:
            raise ValidationError(
                _("Check-in opens an hour before the activity starts and closes when it ends.")
            )
        signup = (
            Signup.objects.filter(activity=activity, membership=member)
            .exclude(status=Signup.Status.WITHDRAWN)
            .first()
        )
        if signup is None and _confirmed(activity) < activity.capacity:
            signup = Signup.objects.create(
                activity=activity, membership=member, status=Signup.Status.CONFIRMED
            )
        if signup is None or signup.status != Signup.Status.CONFIRMED:
            raise ValidationError(
                _("The activity is full and you have no confirmed place."), code="no_place"
            )
        return Attendance.objects.create(activity=activity, membership=member, checked_in_at=now)
    # A manager records it (for themselves too, when a time is given).
    access_manage_team(user, activity.team)
    attendance = existing or Attendance(activity=activity, membership=member)
    _set_times(attendance, at or now, attendance.checked_out_at)
    attendance.recorded_by = user
    attendance.save()
    return attendance


@transaction.atomic
def check_out(
    *,
    user: User,
    activity: Activity,
    membership: Membership | None = None,
    at: dt.datetime | None = None,
) -> Attendance:
    """Check a member out; the hours are counted from the check-in.

    A member's own check-out counts until now, at most until the activity's end (a forgotten
    check-out does not run on through the night); checking out again changes nothing. A
    manager records any time given.
    """
    activity = _lock(activity)
    member = _acting_for(user, activity, membership)
    _ensure_planned(activity)
    attendance = Attendance.objects.filter(activity=activity, membership=member).first()
    if attendance is None:
        raise ValidationError(_("Check in before checking out."), code="not_checked_in")
    if own_membership(user, activity.team) == member and at is None:
        if attendance.checked_out_at is not None:
            return attendance
        out = min(timezone.now(), activity.ends_at)
        if out <= attendance.checked_in_at:
            raise ValidationError({"at": [_("The check-out must come after the check-in.")]})
        _set_times(attendance, attendance.checked_in_at, out)
    else:
        access_manage_team(user, activity.team)
        _set_times(attendance, attendance.checked_in_at, at or timezone.now())
        attendance.recorded_by = user
    attendance.save()
    return attendance


# ----------------------------------------------------------------------------- completion


def points_for(hours: Decimal, per_hour: int) -> int:
    """Whole points for `hours` at `per_hour` points an hour, rounded down."""
    return int((hours * per_hour).to_integral_value(rounding=ROUND_DOWN))


@transaction.atomic
def complete_activity(*, user: User, activity: Activity) -> Activity:
    """Mark a planned activity done and claim points for its attendees' hours, once.

    Under the activity's lock: an activity already done is returned as it is (nothing more is
    claimed, also when two requests race); a cancelled one is refused. An attendee who did not
    check out is counted until the activity's end. With the team's hours rule, each attendee's
    hours × the rule's points per hour (rounded down) become one claim (submitted by the
    caller, approved by the committee like any claim); past the rule's cap per quarter the
    claim is cut to what is left. The attendance keeps its claim, or says why there is none.
    """
    activity = _lock(activity)
    access_manage_team(user, activity.team)
    if activity.status == Activity.Status.DONE:
        return activity
    _ensure_planned(activity)
    now = timezone.now()
    if activity.starts_at > now:
        raise ValidationError(_("The activity has not started yet: it cannot be done."))
    activity.status = Activity.Status.DONE
    activity.completed_at = now
    activity.completed_by = user
    activity.save(update_fields=["status", "completed_at", "completed_by"])

    rule = activity.team.hours_rule
    occurred_on = timezone.localdate(activity.starts_at)
    attendances = Attendance.objects.filter(activity=activity, claim__isnull=True).select_related(
        "membership__resident"
    )
    for attendance in attendances.order_by("id"):
        if attendance.checked_out_at is None:
            out = min(activity.ends_at, now)
            if out > attendance.checked_in_at:
                _set_times(attendance, attendance.checked_in_at, out)
        note = ""
        hours = attendance.hours or Decimal(0)
        points = points_for(hours, rule.points) if rule is not None else 0
        if rule is None or not rule.active:
            note = _("The team has no active points rule for service hours.")
        elif points < 1:
            note = _("Less than one point's worth of hours.")
        else:
            claim = claims_services.submit_hours_claim(
                user=user,
                resident=attendance.membership.resident,
                rule=rule,
                points=points,
                occurred_on=occurred_on,
                note=_("%(hours)s hours of volunteer service: %(activity)s")
                % {"hours": hours, "activity": activity.title},
            )
            attendance.claim = claim
            if claim is None:
                note = _("The rule's cap for the quarter is reached: no points.")
            elif claim.points < points:
                note = _("Cut to %(points)d of %(earned)d points by the rule's cap.") % {
                    "points": claim.points,
                    "earned": points,
                }
        attendance.points_note = note[:200]
        attendance.save()
    return activity


# ----------------------------------------------------------------------------- partners


@transaction.atomic
def save_partner_organisation(
    *, user: User, instance: PartnerOrganisation | None = None, **fields: Any
) -> PartnerOrganisation:
    """Create or change a partner organisation (公益合伙人) of a community in the caller's
    area (committee, street admin)."""
    community = fields.get("community", instance.community if instance else None)
    assert community is not None, "a new partner organisation names its community"
    access_manage_community(user, community)
    if instance is not None and community.pk != instance.community_id:
        raise ValidationError({"community": [_("It stays in the community it was made in.")]})
    organisation = instance or PartnerOrganisation()
    for key, value in fields.items():
        setattr(organisation, key, value)
    name_taken = PartnerOrganisation.objects.filter(
        community=community, name=organisation.name
    ).exclude(pk=organisation.pk)
    if name_taken.exists():
        raise ValidationError({"name": [_("The community already lists this organisation.")]})
    organisation.full_clean()
    organisation.save()
    list_in_resources(organisation=organisation)
    return organisation


@transaction.atomic
def delete_partner_organisation(*, user: User, organisation: PartnerOrganisation) -> None:
    """Delete a partner organisation (and its row of the resources list): those who run its
    community."""
    access_manage_community(user, organisation.community)
    organisation.delete()


def list_in_resources(*, organisation: PartnerOrganisation) -> Resource:
    """Keep the organisation's row in its community's resources list (资源清单) in step with it:
    the free service, who gives it and how to reach them."""
    contact = " ".join(p for p in (organisation.contact_name, organisation.contact_phone) if p)
    resource, _created = Resource.objects.update_or_create(
        partner_organisation=organisation,
        defaults={
            "community_id": organisation.community_id,
            "name": organisation.service[:200],
            "kind": Resource.Kind.SERVICE,
            "description": organisation.service,
            "provider": organisation.name,
            "contact": contact[:100],
            "active": organisation.active,
        },
    )
    return resource
