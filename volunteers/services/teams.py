"""Writes for volunteer teams: who may act (a membership of their own, or managing the team),
teams, members and their leader, and partner organisations (listed in the grid's resources).

Who manages a team (volunteers.access): a street admin of its street, a committee member of
its community, its leader (core.scope: team_ids), the superuser. A member acts for themselves
(sign up, withdraw, check in with the activity's QR code, check out); a manager may act for any
member of the team, and records attendance for members without a phone. Every write checks its
user here, whoever calls it (API, admin, pages).
"""

from __future__ import annotations

import datetime as dt
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
from residents.models import Resident
from volunteers.access import access_manage_community, access_manage_team, may_manage_community
from volunteers.models import Activity, Membership, PartnerOrganisation, Team

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
