"""Who may do what in volunteers: each rule written once, here.

Services call the `access_*` helpers, which raise PermissionDenied (a 403 in the API, a form
error or a message in the admin) with the reason; views, pages and the admin ask the `may_*`
helpers, which answer the same rule as a bool, to show or hide a page or a field. A service
refuses an unauthorised user itself, whoever calls it.

Who manages a team (its roster, its activities, its attendance): its leader (core.scope:
team_ids), and those who run its community — the community's committee and its street's admins
(core.scope.Scope.runs_community), the superuser. Those who run the community also create its
teams, choose their hours rule and keep its partner organisations.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.scope import scope_for
from core.types import AnyUser
from grids.models import Community
from volunteers.models import Team


def may_manage_community(user: AnyUser | None, community: Community) -> bool:
    """The community's committee and its street's admins (Scope.runs_community)."""
    return scope_for(user).runs_community(community)


def may_manage_team(user: AnyUser | None, team: Team) -> bool:
    """May the user run the team: its roster, its activities, its attendance?"""
    return team.pk in scope_for(user).team_ids or may_manage_community(user, team.community)


def access_manage_team(user: AnyUser | None, team: Team) -> None:
    if not may_manage_team(user, team):
        raise PermissionDenied(
            _("Only the team's leader or the community's committee manages this team.")
        )


def access_manage_community(user: AnyUser | None, community: Community) -> None:
    if not may_manage_community(user, community):
        raise PermissionDenied(
            _("Only the committee of the community or the street admin writes here.")
        )
