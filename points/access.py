"""Who may do what in points: each rule written once, here.

Services call the `access_*` helpers, which raise PermissionDenied (a 403 in the API, a
message in the admin) with the reason; views, pages and the admin ask the `may_*` helpers,
which answer the same rule as a bool, to show or hide a button, or find what a user may read
(`*_for` helpers, None or an empty set when nothing). A service refuses an unauthorised user
itself, whoever calls it.

What a role may do at all (a group's model permissions, core.roles) is checked by the API's
permission classes and the admin's has_*_permission; the helpers here add where (the scope of
the user's posts, core.scope) and the rules of the scheme (the submitter of a claim does not
decide it).

This module imports no points model at run time (only for type hints), so the ledger's
services may use it without knowing of claims or shops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from core.permissions import ensure_in_scope
from core.scope import scope_for
from core.types import AnyUser, User
from grids.models import Community, Grid, Street
from residents.models import Resident

if TYPE_CHECKING:
    from points.models import CatalogItem, Claim, Entry, Order, Rule


# ---------------------------------------------------------------------------- where things are


def community_id_of(resident: Resident) -> int:
    """The community of the resident's household, read fresh from the database."""
    return (
        Resident.objects.filter(pk=resident.pk)
        .values_list("household__grid__community_id", flat=True)
        .get()
    )


# ---------------------------------------------------------------------------- rules (细则)


def may_write_default_rules(user: AnyUser, street: Street | None = None) -> bool:
    """A street's default rule book is written by its admins (`street` None: any street's)."""
    scope = scope_for(user)
    if street is None:
        return scope.everything or bool(scope.street_ids)
    return scope.everything or street.pk in scope.street_ids


def access_write_default_rules(user: AnyUser, street: Street) -> None:
    if not may_write_default_rules(user, street):
        raise PermissionDenied(_("Only an admin of the street writes its default rule book."))


def default_book_streets_for(user: AnyUser) -> frozenset[int] | None:
    """The streets whose default book the user writes; None for every street."""
    scope = scope_for(user)
    return None if scope.everything else scope.street_ids


def access_write_rule(user: User, rule: Rule) -> None:
    """A community's rule: someone whose area holds the community; a street's default rule:
    an admin of the street."""
    if rule.street is not None:
        access_write_default_rules(user, rule.street)
    else:
        assert rule.community is not None  # a rule belongs to a street or to a community
        ensure_in_scope(user, rule.community)


# ---------------------------------------------------------------------------- claims


def access_decide_claim(user: AnyUser, claim: Claim) -> None:
    """A claim is approved or rejected by a committee member of the resident's community who
    did not submit it."""
    if community_id_of(claim.resident) not in scope_for(user).community_ids:
        raise PermissionDenied(
            _("Only a committee member of the resident's community decides claims.")
        )
    if claim.submitted_by_id == user.pk:
        raise PermissionDenied(_("A claim is decided by someone other than its submitter."))


def claims_decidable_by(user: AnyUser) -> Q:
    """access_decide_claim as a filter on claims (for the bulk decisions)."""
    return Q(resident__household__grid__community_id__in=scope_for(user).community_ids) & ~Q(
        submitted_by=user
    )


def may_decide_claims(user: AnyUser) -> bool:
    """The role decides claims at all (the committee's and the street's)."""
    return user.has_perm("points.change_claim")


def may_decide_claim(user: AnyUser, claim: Claim) -> bool:
    """The role may decide claims and this claim is theirs to decide (access_decide_claim)."""
    if not may_decide_claims(user):
        return False
    try:
        access_decide_claim(user, claim)
    except PermissionDenied:
        return False
    return True


def may_claim_from_card(user: AnyUser) -> bool:
    """The card page links to the admin's claim form for staff who submit claims."""
    return user.is_staff and user.has_perm("points.add_claim")


# ---------------------------------------------------------------------------- the ledger


def access_reverse_entry(user: AnyUser, entry: Entry) -> None:
    """An entry is reversed by the committee of the resident's community (or the superuser)."""
    scope = scope_for(user)
    if scope.everything:
        return
    community_id = (
        Resident.objects.filter(point_account__id=entry.account_id)
        .values_list("household__grid__community_id", flat=True)
        .get()
    )
    if community_id not in scope.community_ids:
        raise PermissionDenied(
            _("Only a committee member of the resident's community reverses entries.")
        )


# ---------------------------------------------------------------------------- objections


def access_raise_objection(user: AnyUser, entry: Entry) -> None:
    if scope_for(user).resident_id != entry.account.resident_id:
        raise PermissionDenied(_("A resident may object only to entries of their own account."))


def access_decide_objection(user: AnyUser, resident: Resident) -> None:
    """An objection to an entry of `resident` is decided by their community's committee."""
    if community_id_of(resident) not in scope_for(user).community_ids:
        raise PermissionDenied(_("Only the committee of the resident's community decides this."))


def may_decide_objections(user: AnyUser) -> bool:
    return user.has_perm("points.change_objection")


# ---------------------------------------------------------------------------- redemption


def access_write_catalog(user: AnyUser, community: Community) -> None:
    scope = scope_for(user)
    if not (scope.everything or community.pk in scope.community_ids):
        raise PermissionDenied(_("Only the committee of the community writes its catalog."))


def access_open_redemption(user: AnyUser, community: Community) -> None:
    scope = scope_for(user)
    if not (scope.everything or community.street_id in scope.street_ids):
        raise PermissionDenied(
            _("Only an admin of the community's street opens its redemption window.")
        )


def access_order_for(user: AnyUser, resident: Resident) -> None:
    """The resident themselves, a grid worker of the resident's grid, or a committee member
    of the resident's community (or the superuser) places and cancels their orders."""
    scope = scope_for(user)
    if scope.everything or scope.resident_id == resident.pk:
        return
    grid_id, community_id = (
        Resident.objects.filter(pk=resident.pk)
        .values_list("household__grid_id", "household__grid__community_id")
        .get()
    )
    if grid_id in scope.grid_ids or community_id in scope.community_ids:
        return
    ensure_in_scope(user, resident)  # 403 naming the resident's id, not their name
    raise PermissionDenied(
        _("Only the resident, their grid worker or their committee handles their orders.")
    )


def access_hand_over(user: AnyUser, order: Order) -> None:
    """A grid worker of the order's grid or the committee records the hand-over."""
    scope = scope_for(user)
    grid_id = (
        Resident.objects.filter(pk=order.resident_id).values_list("household__grid_id", flat=True)
    ).get()
    if not (
        scope.everything or grid_id in scope.grid_ids or order.community_id in scope.community_ids
    ):
        raise PermissionDenied(
            _("Only a grid worker of the resident's grid or the committee hands orders over.")
        )


def access_delete_catalog_item(user: AnyUser, item: CatalogItem) -> None:
    access_write_catalog(user, item.community)


# ---------------------------------------------------------------------------- the close, lists


def access_close_quarter(user: AnyUser) -> None:
    scope = scope_for(user)
    if not (scope.everything or scope.street_ids):
        raise PermissionDenied(_("Only a street admin closes a quarter."))


def may_run_community(user: AnyUser, community: Community) -> bool:
    """A community's purchase list and its residents' full names in the ranking: its
    committee's, its street's (the superuser: any)."""
    return scope_for(user).runs_community(community)


def list_community_for(user: AnyUser, community_id: int) -> Community | None:
    """The community, if the user may read its purchase list."""
    community = Community.objects.filter(pk=community_id).first()
    if community is None or not may_run_community(user, community):
        return None
    return community


def grid_for(user: AnyUser, grid_id: int, *, residents_too: bool = False) -> Grid | None:
    """The grid (with its community) if the user's area holds it: a grid worker's own grid,
    the committee's, the street's. With `residents_too`, also a resident's own grid (the
    public notice is theirs to read); a resident reads no distribution list or card sheet."""
    grids = Grid.objects.select_related("community")
    grid = grids.for_user(user).filter(pk=grid_id).first()
    resident_id = scope_for(user).resident_id
    if grid is None and residents_too and resident_id:
        grid = grids.filter(pk=grid_id, households__residents__id=resident_id).first()
    return grid


def ranking_communities_for(user: AnyUser) -> set[int]:
    """The communities whose ranking the user may read: their area's, and a resident's own
    community."""
    ids = set(Community.objects.for_user(user).values_list("id", flat=True))
    resident_id = scope_for(user).resident_id
    if resident_id:
        ids |= set(
            Resident.objects.filter(pk=resident_id).values_list(
                "household__grid__community_id", flat=True
            )
        )
    return ids
