"""points.access: each rule of who may do what, per persona.

For every helper: the owner (the post the rule names: the committee of the resident's
community, the street's admin, the resident themselves), a colleague with another scope (the
same role elsewhere, or another role in the same place) and an outsider (no post at all).
The services refuse through these helpers, whoever calls them.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from points import access
from points.models import Claim, Entry, Order, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services

REFUSED = (PermissionDenied, ApiPermissionDenied)


def person(world, persona: str):
    """The persona's user (a grid worker is a GridWorker row with its login)."""
    found = getattr(world, persona)
    return getattr(found, "user", found)


def allowed(check, *args) -> bool:
    """Whether an access_* helper lets the call through (refusals are PermissionDenied)."""
    try:
        check(*args)
    except REFUSED:
        return False
    return True


@pytest.fixture
def rule(world) -> Rule:
    return Rule.objects.create(
        community=world.community1, code="clean", name="清扫责任区", category="reward", points=1
    )


@pytest.fixture
def claim(world, rule) -> Claim:
    """resident1's claim (grid1, community1), submitted by the grid worker."""
    return claims_services.submit_claim(
        user=world.worker1.user, resident=world.resident1, rule=rule
    )


@pytest.fixture
def entry(world) -> Entry:
    account = ledger_services.account_for(world.resident1)
    return ledger_services.post_entry(account=account, amount=5, kind="award", key="a")


# ---------------------------------------------------------------------------- claims


@pytest.mark.parametrize(
    ("persona", "may"),
    [
        ("committee1", True),  # owner: the committee of the resident's community
        ("committee3", False),  # colleague: a committee of another community
        ("admin1", False),  # colleague: the street's admin decides no claims
        ("worker1", False),  # the submitter's role: grid workers submit, never decide
        ("superuser", False),  # no committee seat: claims are the committee's
        ("stranger", False),  # outsider
    ],
)
def test_who_decides_a_claim(world, claim, persona, may):
    user = person(world, persona)
    assert allowed(access.access_decide_claim, user, claim) is may
    assert access.may_decide_claim(user, claim) is may
    decidable = Claim.objects.filter(access.claims_decidable_by(user), pk=claim.pk)
    assert decidable.exists() is may


def test_the_submitter_never_decides_their_own_claim(world, rule):
    own = claims_services.submit_claim(user=world.committee1, resident=world.resident1, rule=rule)
    assert not allowed(access.access_decide_claim, world.committee1, own)
    assert not access.may_decide_claim(world.committee1, own)
    assert not Claim.objects.filter(access.claims_decidable_by(world.committee1)).exists()
    with pytest.raises(PermissionDenied):
        claims_services.approve_claim(claim=own, approver=world.committee1)


def test_may_decide_claims_follows_the_role(world):
    assert access.may_decide_claims(world.committee1)
    assert access.may_decide_claims(world.admin1)
    assert not access.may_decide_claims(world.worker1.user)
    assert not access.may_decide_claims(world.stranger)


@pytest.mark.parametrize(
    ("persona", "may"),
    [("admin1", True), ("superuser", True), ("admin2", False), ("committee1", False)],
)
def test_who_writes_a_streets_default_rule_book(world, persona, may):
    user = person(world, persona)
    assert access.may_write_default_rules(user, world.street1) is may
    assert allowed(access.access_write_default_rules, user, world.street1) is may
    street_rule = Rule(street=world.street1, code="x", name="x", category="reward", points=1)
    assert allowed(access.access_write_rule, user, street_rule) is may


def test_only_street_admins_edit_default_books_at_all(world):
    assert access.may_write_default_rules(world.admin2)
    assert not access.may_write_default_rules(world.committee1)
    assert not access.may_write_default_rules(world.stranger)
    assert access.default_book_streets_for(world.superuser) is None
    assert access.default_book_streets_for(world.admin1) == {world.street1.pk}
    assert access.default_book_streets_for(world.committee1) == frozenset()


@pytest.mark.parametrize(
    ("persona", "may"),
    [("committee1", True), ("admin1", True), ("committee3", False), ("stranger", False)],
)
def test_who_writes_a_communitys_rule(world, rule, persona, may):
    assert allowed(access.access_write_rule, person(world, persona), rule) is may


def test_the_card_links_to_the_claim_form_for_staff_who_submit_claims(world):
    world.committee1.is_staff = True
    assert access.may_claim_from_card(world.committee1)
    assert not access.may_claim_from_card(world.worker1.user)  # not staff
    assert not access.may_claim_from_card(world.stranger)


# ---------------------------------------------------------------------------- the ledger


@pytest.mark.parametrize(
    ("persona", "may"),
    [
        ("committee1", True),  # owner
        ("superuser", True),
        ("committee3", False),  # colleague of another community
        ("admin1", False),  # another role over the same place
        ("worker1", False),
        ("resident_user", False),  # the account's own resident
        ("stranger", False),  # outsider
    ],
)
def test_who_reverses_an_entry(world, entry, persona, may):
    assert allowed(access.access_reverse_entry, person(world, persona), entry) is may


def test_reverse_entry_itself_refuses_an_outsider(world, entry):
    with pytest.raises(PermissionDenied):
        ledger_services.reverse_entry(entry=entry, user=world.committee3, reason="记错了")
    assert Entry.objects.count() == 1
    reversal = ledger_services.reverse_entry(entry=entry, user=world.committee1, reason="记错了")
    assert reversal.reverses == entry


# ---------------------------------------------------------------------------- objections


def test_only_the_resident_objects_to_their_own_entries(world, entry):
    assert allowed(access.access_raise_objection, world.resident_user, entry)
    assert not allowed(access.access_raise_objection, world.committee1, entry)
    assert not allowed(access.access_raise_objection, world.stranger, entry)
    other = ledger_services.post_entry(
        account=ledger_services.account_for(world.resident2), amount=1, kind="award", key="b"
    )
    assert not allowed(access.access_raise_objection, world.resident_user, other)


@pytest.mark.parametrize(
    ("persona", "may"),
    [("committee1", True), ("committee3", False), ("admin1", False), ("stranger", False)],
)
def test_who_decides_an_objection(world, persona, may):
    user = person(world, persona)
    assert allowed(access.access_decide_objection, user, world.resident1) is may


def test_may_decide_objections_follows_the_role(world):
    assert access.may_decide_objections(world.committee1)
    assert not access.may_decide_objections(world.worker1.user)
    assert not access.may_decide_objections(world.stranger)


# ---------------------------------------------------------------------------- redemption


@pytest.mark.parametrize(
    ("persona", "may"),
    [("committee1", True), ("superuser", True), ("committee3", False), ("admin1", False)],
)
def test_who_writes_a_communitys_catalog(world, persona, may):
    assert allowed(access.access_write_catalog, person(world, persona), world.community1) is may


@pytest.mark.parametrize(
    ("persona", "may"),
    [("admin1", True), ("superuser", True), ("admin2", False), ("committee1", False)],
)
def test_who_opens_a_redemption_window(world, persona, may):
    user = person(world, persona)
    assert allowed(access.access_open_redemption, user, world.community1) is may


@pytest.mark.parametrize(
    ("persona", "may"),
    [
        ("resident_user", True),  # the resident themselves
        ("worker1", True),  # their grid's worker
        ("committee1", True),  # their community's committee
        ("worker2", False),  # a worker of another grid of the same community
        ("committee3", False),
        ("stranger", False),
    ],
)
def test_who_orders_for_a_resident(world, persona, may):
    user = person(world, persona)
    assert allowed(access.access_order_for, user, world.resident1) is may


@pytest.mark.parametrize(
    ("persona", "may"),
    [
        ("worker1", True),
        ("committee1", True),
        ("worker2", False),
        ("admin1", False),
        ("resident_user", False),
        ("stranger", False),
    ],
)
def test_who_hands_an_order_over(world, persona, may):
    user = person(world, persona)
    order = Order(resident=world.resident1, community=world.community1)
    assert allowed(access.access_hand_over, user, order) is may


# ---------------------------------------------------------------------------- the close, lists


@pytest.mark.parametrize(
    ("persona", "may"),
    [("admin1", True), ("superuser", True), ("committee1", False), ("stranger", False)],
)
def test_who_closes_a_quarter(world, persona, may):
    assert allowed(access.access_close_quarter, person(world, persona)) is may


@pytest.mark.parametrize(
    ("persona", "may"),
    [
        ("committee1", True),
        ("admin1", True),
        ("committee3", False),
        ("worker1", False),
        ("stranger", False),
    ],
)
def test_who_runs_a_community(world, persona, may):
    user = person(world, persona)
    assert access.may_run_community(user, world.community1) is may
    found = access.list_community_for(user, world.community1.pk)
    assert (found == world.community1) if may else found is None


def test_no_list_of_a_community_that_does_not_exist(world):
    assert access.list_community_for(world.superuser, 999_999) is None


def test_grid_for_the_area_and_for_a_residents_own_notice(world):
    worker = world.worker1.user
    assert access.grid_for(worker, world.grid1.pk) == world.grid1
    assert access.grid_for(worker, world.grid3.pk) is None
    assert access.grid_for(world.resident_user, world.grid1.pk) is None
    assert access.grid_for(world.resident_user, world.grid1.pk, residents_too=True) == world.grid1
    assert access.grid_for(world.resident_user, world.grid2.pk, residents_too=True) is None
    assert access.grid_for(world.stranger, world.grid1.pk, residents_too=True) is None


def test_ranking_communities(world):
    assert access.ranking_communities_for(world.resident_user) == {world.community1.pk}
    assert access.ranking_communities_for(world.committee1) == {world.community1.pk}
    assert access.ranking_communities_for(world.admin1) == {
        world.community1.pk,
        world.community2.pk,
    }
    assert access.ranking_communities_for(world.stranger) == set()
