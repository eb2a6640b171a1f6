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
    from points.models import Account, CatalogItem, Claim, Entry, Order, Rule, RuleBook


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


def may_write_rule_book(user: AnyUser, book: RuleBook) -> bool:
    """A version of a community's rule book is made and adopted by its committee or its
    street's admins; of a street's default book, by the street's admins (issue 15)."""
    if book.street_id is not None:
        assert book.street is not None
        return may_write_default_rules(user, book.street)
    assert book.community is not None  # a book belongs to a street or to a community
    return scope_for(user).runs_community(book.community)


def access_write_rule_book(user: AnyUser, book: RuleBook) -> None:
    if book.street_id is not None:
        assert book.street is not None
        access_write_default_rules(user, book.street)
    elif not may_write_rule_book(user, book):
        raise PermissionDenied(
            _("Only the community's committee or its street's admin keeps its rule book.")
        )


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


def community_id_of_account(account: Account) -> int:
    """The community of the account's household (a resident's or a household's account alike:
    Account.household is always set), read fresh from the database."""
    return (
        type(account)
        .objects.filter(pk=account.pk)
        .values_list("household__grid__community_id", flat=True)
        .get()
    )


def holds_account(resident_id: int | None, account: Account) -> bool:
    """Whether the resident holds `account`: it is their own, or (household accounts, 以户为
    单位) their household's shared account, which the head and every member hold."""
    if resident_id is None:
        return False
    if account.resident_id is not None:
        return account.resident_id == resident_id
    if account.shared_household_id is None:
        return False
    return Resident.objects.filter(
        pk=resident_id, household_id=account.shared_household_id
    ).exists()


def access_reverse_entry(user: AnyUser, entry: Entry) -> None:
    """An entry is reversed by the committee of the account's community (or the superuser)."""
    scope = scope_for(user)
    if scope.everything:
        return
    if community_id_of_account(entry.account) not in scope.community_ids:
        raise PermissionDenied(
            _("Only a committee member of the resident's community reverses entries.")
        )


# ---------------------------------------------------------------------------- objections


def access_raise_objection(user: AnyUser, entry: Entry) -> None:
    """A resident objects to entries of an account they hold: their own, or their household's
    shared account (holds_account)."""
    if not holds_account(scope_for(user).resident_id, entry.account):
        raise PermissionDenied(_("A resident may object only to entries of their own account."))


def access_decide_objection(user: AnyUser, holder: Resident | Account) -> None:
    """An objection to an entry of `holder` (a resident, or the account the entry is on) is
    decided by the committee of its community."""
    if isinstance(holder, Resident):
        community_id = community_id_of(holder)
    else:
        community_id = community_id_of_account(holder)
    if community_id not in scope_for(user).community_ids:
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


def may_audit_export(user: AnyUser, community: Community) -> bool:
    """A community's audit export (审计导出, points.audit_export): its committee, its street's
    admins and its discipline inspectors (纪检监督 seats), in a role that reads the ledger."""
    scope = scope_for(user)
    return user.has_perm("points.view_entry") and (
        scope.runs_community(community) or community.pk in scope.inspected_community_ids
    )


def access_audit_export(user: AnyUser, community: Community) -> None:
    if not may_audit_export(user, community):
        raise PermissionDenied(
            _(
                "Only the community's committee, its street's admins and its inspectors export "
                "its audit records."
            )
        )


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
