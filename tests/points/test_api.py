"""The points API (rules, claims and their decisions, accounts, the ledger, quarters,
objections) for each persona: the grid's worker, a worker of another grid, the community's
committee, another community's committee, the street admin, a resident and a stranger.

Over 600 lines on purpose: one test module per API or service layer, long by nature (many
short, independent tests).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import IdempotencyRecord
from grids.models import Community
from points.models import Account, Claim, Entry, Objection, Period, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import objections as objections_services
from tests import factories as f
from tests.api_helpers import (
    POINTS_LIST_ENDPOINTS,
    client,
    ids,
    in_savepoint,
    points_rules,
    token_client,
    url,
)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def rules(world):
    return points_rules(world)


def submit(world, rules, rule="clean", resident=None, user=None, **kw) -> Claim:
    return claims_services.submit_claim(
        user=user or world.worker1.user,
        resident=resident or world.resident1,
        rule=rules[rule],
        **kw,
    )


def approved(world, rules, rule="clean", resident=None, **kw) -> Claim:
    return claims_services.approve_claim(
        claim=submit(world, rules, rule, resident, **kw), approver=world.committee1
    )


def balance(resident) -> int:
    return Account.objects.get(resident=resident).balance


def claim_body(world, rules, rule="clean", resident=None, **kw) -> dict:
    return {
        "resident": (resident or world.resident1).id,
        "rule": rules[rule].id,
        "occurred_on": timezone.localdate().isoformat(),
        "note": "清扫了责任区",
        **kw,
    }


def post(user, path, body=None, **headers):
    return client(user).post(path, body or {}, format="json", **headers)


def action(endpoint, pk, name):
    return f"{url(endpoint, pk)}{name}/"


# ---------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["clean", "hazard", "idea", "fine"]),
        ("worker2", ["clean", "hazard", "idea", "fine"]),  # the same community's book
        ("worker4", ["wai"]),
        ("committee1", ["clean", "hazard", "idea", "fine"]),
        ("committee3", ["wai"]),
        ("admin1", ["clean", "hazard", "idea", "fine", "default1"]),
        ("admin2", ["wai", "default2"]),
    ],
)
def test_each_persona_lists_the_rule_books_of_their_area(world, rules, persona, expected):
    rules["default1"] = Rule.objects.create(
        street=world.street1, code="d", name="默认", category="reward", points=1
    )
    rules["default2"] = Rule.objects.create(
        street=world.street2, code="d", name="默认", category="reward", points=1
    )
    r = client(getattr(world, persona)).get(url("point-rules"))
    assert ids(r) == sorted(rules[name].id for name in expected)


@pytest.mark.parametrize("persona", ["resident_user", "stranger", "partner_user"])
def test_residents_strangers_and_partners_cannot_read_rules(world, rules, persona):
    assert client(getattr(world, persona)).get(url("point-rules")).status_code == 403


def test_a_rule_of_another_community_is_not_found(world, rules):
    assert client(world.committee3).get(url("point-rules", rules["clean"].id)).status_code == 404


def test_the_street_filter_lists_the_street_default_book(world, rules):
    default = Rule.objects.create(
        street=world.street1, code="d", name="默认", category="reward", points=1
    )
    r = client(world.admin1).get(url("point-rules"), {"street": world.street1.id})
    assert ids(r) == [default.id]
    r = client(world.admin1).get(url("point-rules"), {"community": world.community1.id})
    assert len(ids(r)) == 4


def rule_body(**kw) -> dict:
    return {"code": "new", "name": "参加志愿服务", "category": "reward", "points": 2, **kw}


def test_a_committee_member_writes_the_rule_book_of_their_community(world, rules):
    c = client(world.committee1)
    r = c.post(url("point-rules"), rule_body(community=world.community1.id), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["community"] == world.community1.id and r.json()["street"] is None
    r = c.patch(url("point-rules", r.json()["id"]), {"points": 3, "active": False}, format="json")
    assert r.status_code == 200
    assert (r.json()["points"], r.json()["active"]) == (3, False)


@pytest.mark.parametrize("persona", ["committee3", "admin2"])
def test_a_rule_for_another_community_is_refused(world, rules, persona):
    r = post(getattr(world, persona), url("point-rules"), rule_body(community=world.community1.id))
    assert r.status_code == 403


@pytest.mark.parametrize("persona", ["worker1", "resident_user", "stranger"])
def test_only_committee_and_street_admin_write_rules(world, rules, persona):
    r = post(getattr(world, persona), url("point-rules"), rule_body(community=world.community1.id))
    assert r.status_code == 403
    r = client(getattr(world, persona)).patch(
        url("point-rules", rules["clean"].id), {"points": 9}, format="json"
    )
    assert r.status_code == 403


def test_only_a_street_admin_of_the_street_writes_its_default_book(world):
    assert (
        post(world.admin1, url("point-rules"), rule_body(street=world.street1.id)).status_code
        == 201
    )
    assert (
        post(world.admin1, url("point-rules"), rule_body(street=world.street2.id)).status_code
        == 403
    )
    # A committee member's scope reaches their street, but the default book is not theirs.
    assert (
        post(
            world.committee1, url("point-rules"), rule_body(code="c", street=world.street1.id)
        ).status_code
        == 403
    )


def test_a_rule_belongs_to_exactly_one_book(world):
    r = post(world.admin1, url("point-rules"), rule_body())
    assert r.status_code == 400 and "community" in r.json()
    both = rule_body(street=world.street1.id, community=world.community1.id)
    r = post(world.admin1, url("point-rules"), both)
    assert r.status_code == 400 and "community" in r.json()


def test_a_rule_code_is_unique_in_its_book(world, rules):
    r = post(
        world.committee1, url("point-rules"), rule_body(code="clean", community=world.community1.id)
    )
    assert r.status_code == 400 and "code" in r.json()
    # Another community's book may use the same code.
    r = post(
        world.committee3, url("point-rules"), rule_body(code="clean", community=world.community3.id)
    )
    assert r.status_code == 201


def test_a_rule_cannot_move_to_another_book(world, rules):
    r = client(world.admin1).patch(
        url("point-rules", rules["clean"].id), {"community": world.community2.id}, format="json"
    )
    assert r.status_code == 400 and "community" in r.json()


def test_a_fixed_rule_cap_below_its_points_is_refused(world):
    body = rule_body(community=world.community1.id, points=5, cap_per_quarter=3)
    r = post(world.committee1, url("point-rules"), body)
    assert r.status_code == 400 and "cap_per_quarter" in r.json()


def test_only_a_street_admin_deletes_a_rule(world, rules):
    assert (
        client(world.committee1).delete(url("point-rules", rules["hazard"].id)).status_code == 403
    )
    assert client(world.admin1).delete(url("point-rules", rules["hazard"].id)).status_code == 204


def test_a_rule_with_claims_cannot_be_deleted_but_can_be_retired(world, rules):
    submit(world, rules, "hazard")
    r = client(world.admin1).delete(url("point-rules", rules["hazard"].id))
    assert r.status_code == 409
    r = client(world.admin1).patch(
        url("point-rules", rules["hazard"].id), {"active": False}, format="json"
    )
    assert r.status_code == 200


def test_a_community_created_through_the_api_gets_the_street_default_book(world):
    Rule.objects.create(
        street=world.street1, code="clean", name="清扫", category="reward", points=1
    )
    Rule.objects.create(
        street=world.street1, code="fine", name="扣分", category="deduction", points=5
    )
    Rule.objects.create(
        street=world.street2, code="other", name="别处", category="reward", points=1
    )
    body = {"street": world.street1.id, "name": "新社区", "code": "new-c", "kind": "urban"}
    r = post(world.admin1, url("communities"), body)
    assert r.status_code == 201, r.content
    community = Community.objects.get(pk=r.json()["id"])
    assert sorted(community.rules.values_list("code", flat=True)) == ["clean", "fine"]


# ---------------------------------------------------------------------------- claims: create


def test_a_grid_worker_claims_points_for_a_resident_of_their_grid(world, rules):
    r = post(world.worker1, url("point-claims"), claim_body(world, rules))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["status"] == "submitted"
    assert data["submitted_by"] == world.worker1.user.id
    assert data["approved_by"] is None and data["decided_by"] is None
    assert data["decided_at"] is None and data["reject_reason"] == ""
    assert data["period"] == Period.bounds(timezone.localdate())[0]
    assert data["points"] == 1 and data["likely_duplicate"] is False
    assert {"id", "resident", "rule", "occurred_on", "note"} <= set(data)


@pytest.mark.parametrize("resident", ["resident2", "resident4"])
def test_a_grid_worker_cannot_claim_for_a_resident_of_another_grid(world, rules, resident):
    body = claim_body(world, rules, resident=getattr(world, resident))
    assert post(world.worker1, url("point-claims"), body).status_code == 403
    assert not Claim.objects.exists()


def test_a_committee_member_claims_for_any_resident_of_their_community(world, rules):
    r = post(
        world.committee1, url("point-claims"), claim_body(world, rules, resident=world.resident2)
    )
    assert r.status_code == 201
    r = post(
        world.committee3, url("point-claims"), claim_body(world, rules, resident=world.resident2)
    )
    assert r.status_code == 403


@pytest.mark.parametrize("persona", ["resident_user", "stranger", "partner_user"])
def test_residents_and_strangers_cannot_claim(world, rules, persona):
    assert (
        post(getattr(world, persona), url("point-claims"), claim_body(world, rules)).status_code
        == 403
    )


def test_the_points_default_to_the_rule_and_must_fit_it(world, rules):
    body = claim_body(world, rules, "hazard")
    r = post(world.worker1, url("point-claims"), body)
    assert r.json()["points"] == 2
    r = post(world.worker1, url("point-claims"), {**body, "points": 3})
    assert r.status_code == 400 and "points" in r.json()
    idea = claim_body(world, rules, "idea")
    assert post(world.worker1, url("point-claims"), {**idea, "points": 7}).status_code == 201
    r = post(world.worker1, url("point-claims"), {**idea, "points": 11})
    assert r.status_code == 400 and "points" in r.json()


def test_a_rule_of_another_community_is_refused_for_the_resident(world, rules):
    r = post(world.worker1, url("point-claims"), claim_body(world, rules, "wai"))
    assert r.status_code == 400 and "rule" in r.json()


def test_a_claim_in_the_future_or_long_ago_is_refused(world, rules):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    r = post(world.worker1, url("point-claims"), claim_body(world, rules, occurred_on=tomorrow))
    assert r.status_code == 400 and "occurred_on" in r.json()
    r = post(world.worker1, url("point-claims"), claim_body(world, rules, occurred_on="0001-01-01"))
    assert r.status_code == 400 and "occurred_on" in r.json()


def test_a_claim_past_the_cap_is_refused_with_the_services_message(world, rules):
    for _ in range(3):
        assert post(world.worker1, url("point-claims"), claim_body(world, rules)).status_code == 201
    r = post(world.worker1, url("point-claims"), claim_body(world, rules), **EN)
    assert r.status_code == 400
    period = Period.bounds(timezone.localdate())[0]
    assert r.json() == {
        "points": [
            f"Past the cap: 清扫责任区 allows 3 points per resident in {period}; "
            "3 are already claimed, so at most 0 more."
        ]
    }


def test_a_rejected_claim_does_not_count_against_the_cap(world, rules):
    first = submit(world, rules)
    submit(world, rules)
    submit(world, rules)
    claims_services.reject_claim(claim=first, approver=world.committee1, reason="没有清扫")
    assert post(world.worker1, url("point-claims"), claim_body(world, rules)).status_code == 201


def test_the_same_resident_rule_and_day_twice_is_flagged_as_a_likely_duplicate(world, rules):
    first = post(world.worker1, url("point-claims"), claim_body(world, rules)).json()
    second = post(world.committee1, url("point-claims"), claim_body(world, rules)).json()
    assert first["likely_duplicate"] is False
    assert second["likely_duplicate"] is True
    r = client(world.committee1).get(url("point-claims"), {"likely_duplicate": "true"})
    assert ids(r) == [second["id"]]


def test_replaying_a_claim_create_with_the_same_key_creates_one_claim(world, rules):
    body = claim_body(world, rules)
    key = {"HTTP_IDEMPOTENCY_KEY": "claim-1"}
    first = post(world.worker1, url("point-claims"), body, **key)
    again = post(world.worker1, url("point-claims"), body, **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Claim.objects.count() == 1
    other = post(world.worker1, url("point-claims"), {**body, "note": "别的"}, **key)
    assert other.status_code == 409


def test_a_refused_claim_is_not_remembered_under_its_key(world, rules):
    body = claim_body(world, rules, "idea", points=50)
    key = {"HTTP_IDEMPOTENCY_KEY": "claim-2"}
    assert post(world.worker1, url("point-claims"), body, **key).status_code == 400
    assert post(world.worker1, url("point-claims"), {**body, "points": 5}, **key).status_code == 201


# ---------------------------------------------------------------------------- claims: read


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["resident1"]),
        ("worker2", ["resident2"]),
        ("committee1", ["resident1", "resident2"]),
        ("committee3", []),
        ("admin1", ["resident1", "resident2"]),
        ("admin2", []),
    ],
)
def test_each_persona_lists_the_claims_of_their_area(world, rules, persona, expected):
    claims = {
        "resident1": submit(world, rules),
        "resident2": submit(world, rules, resident=world.resident2, user=world.worker2.user),
    }
    r = client(getattr(world, persona)).get(url("point-claims"))
    assert ids(r) == sorted(claims[name].id for name in expected)


@pytest.mark.parametrize("persona", ["resident_user", "stranger"])
def test_residents_and_strangers_cannot_list_claims(world, rules, persona):
    assert client(getattr(world, persona)).get(url("point-claims")).status_code == 403


@pytest.mark.parametrize("persona", ["worker2", "committee3", "admin2"])
def test_a_claim_outside_ones_area_is_not_found(world, rules, persona):
    claim = submit(world, rules)
    assert client(getattr(world, persona)).get(url("point-claims", claim.id)).status_code == 404


def test_claims_filter_by_status_rule_grid_community_resident_period_and_dates(world, rules):
    today = timezone.localdate()
    a = submit(world, rules)
    b = submit(world, rules, "hazard", resident=world.resident2, user=world.worker2.user)
    old = submit(world, rules, "idea", points=4, occurred_on=dt.date(2025, 2, 1))
    claims_services.approve_claim(claim=b, approver=world.committee1)
    c = client(world.committee1)

    def listed(**params):
        return ids(c.get(url("point-claims"), params))

    assert listed(status="approved") == [b.id]
    assert listed(status="submitted") == sorted([a.id, old.id])
    assert listed(rule=rules["hazard"].id) == [b.id]
    assert listed(grid=world.grid1.id) == sorted([a.id, old.id])
    assert listed(community=world.community1.id) == sorted([a.id, b.id, old.id])
    assert listed(community=world.community3.id) == []
    assert listed(resident=world.resident2.id) == [b.id]
    assert listed(period="2025Q1") == [old.id]
    assert listed(occurred_on_after="2025-01-01", occurred_on_before="2025-03-31") == [old.id]
    assert listed(occurred_on_after=today.isoformat()) == sorted([a.id, b.id])
    r = c.get(url("point-claims"), {"ordering": "occurred_on"})
    assert r.json()["results"][0]["id"] == old.id


# ---------------------------------------------------------------------------- claims: decide


def test_a_committee_member_approves_a_claim_and_the_points_are_posted(world, rules):
    claim = submit(world, rules, "idea", points=7)
    r = post(world.committee1, action("point-claims", claim.id, "approve"))
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["status"] == "approved"
    assert data["approved_by"] == data["decided_by"] == world.committee1.id
    assert data["decided_at"] is not None
    assert balance(world.resident1) == 7


def test_a_grid_worker_cannot_approve(world, rules):
    claim = submit(world, rules, user=world.committee1)
    r = post(world.worker1, action("point-claims", claim.id, "approve"))
    assert r.status_code == 403
    claim.refresh_from_db()
    assert claim.status == "submitted"


def test_a_committee_member_cannot_approve_a_claim_they_submitted(world, rules):
    claim = submit(world, rules, user=world.committee1)
    r = post(world.committee1, action("point-claims", claim.id, "approve"))
    assert r.status_code == 403
    colleague = f.committee_member(world.community1, "committee1b").user
    assert post(colleague, action("point-claims", claim.id, "approve")).status_code == 200


def test_a_street_admin_sees_the_claim_but_does_not_decide_it(world, rules):
    claim = submit(world, rules)
    assert post(world.admin1, action("point-claims", claim.id, "approve")).status_code == 403
    r = post(world.admin1, action("point-claims", claim.id, "reject"), {"reason": "不"})
    assert r.status_code == 403


def test_another_communitys_committee_cannot_find_the_claim_to_approve(world, rules):
    claim = submit(world, rules)
    assert post(world.committee3, action("point-claims", claim.id, "approve")).status_code == 404


def test_a_claim_is_approved_once(world, rules):
    claim = submit(world, rules)
    assert post(world.committee1, action("point-claims", claim.id, "approve")).status_code == 200
    r = post(world.committee1, action("point-claims", claim.id, "approve"))
    assert r.status_code == 400
    assert Entry.objects.count() == 1


def test_replaying_an_approval_with_the_same_key_posts_once(world, rules):
    claim = submit(world, rules)
    key = {"HTTP_IDEMPOTENCY_KEY": "approve-1"}
    first = post(world.committee1, action("point-claims", claim.id, "approve"), **key)
    again = post(world.committee1, action("point-claims", claim.id, "approve"), **key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Entry.objects.count() == 1 and balance(world.resident1) == 1


def test_a_rejection_needs_a_reason(world, rules):
    claim = submit(world, rules)
    r = post(world.committee1, action("point-claims", claim.id, "reject"))
    assert r.status_code == 400 and "reason" in r.json()
    r = post(world.committee1, action("point-claims", claim.id, "reject"), {"reason": "  "})
    assert r.status_code == 400 and "reason" in r.json()
    r = post(world.committee1, action("point-claims", claim.id, "reject"), {"reason": "未见实效"})
    assert r.status_code == 200
    data = r.json()
    assert (data["status"], data["reject_reason"]) == ("rejected", "未见实效")
    assert data["approved_by"] is None and data["decided_by"] == world.committee1.id
    assert not Entry.objects.exists()


def test_a_grid_worker_cannot_reject(world, rules):
    claim = submit(world, rules, user=world.committee1)
    r = post(world.worker1, action("point-claims", claim.id, "reject"), {"reason": "不"})
    assert r.status_code == 403


def test_bulk_approval_answers_the_counts_and_moves_the_balances(world, rules):
    mine = [
        submit(world, rules),
        submit(world, rules, "idea", points=6),
        submit(world, rules, "fine"),
        submit(world, rules, "hazard", resident=world.resident2, user=world.worker2.user),
    ]
    by_committee = submit(world, rules, "hazard", user=world.committee1)  # its own: skipped
    decided = submit(world, rules, "hazard")
    claims_services.reject_claim(claim=decided, approver=world.committee1, reason="重复")
    outside = claims_services.submit_claim(
        user=world.worker4.user, resident=world.resident4, rule=rules["wai"]
    )
    body = {"ids": [c.id for c in mine] + [by_committee.id, decided.id, outside.id, 999_999]}
    r = post(world.committee1, url("point-claims") + "bulk-approve/", body)
    assert r.status_code == 200, r.content
    assert r.json() == {"approved": 4, "skipped": 4}
    assert balance(world.resident1) == 1 + 6 - 5
    assert balance(world.resident2) == 2
    assert Claim.objects.get(pk=outside.pk).status == "submitted"
    assert ledger_services.verify_ledger().ok


def test_bulk_approval_refuses_more_than_ten_thousand_ids(world, rules):
    r = post(
        world.committee1, url("point-claims") + "bulk-approve/", {"ids": list(range(1, 10_002))}
    )
    assert r.status_code == 400 and "ids" in r.json()


def test_bulk_approval_takes_ten_thousand_ids(world, rules):
    claim = submit(world, rules)
    body = {"ids": [claim.id, *range(10**6, 10**6 + 9_999)]}
    r = post(world.committee1, url("point-claims") + "bulk-approve/", body)
    assert r.json() == {"approved": 1, "skipped": 9_999}


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": ["x"]}, {"ids": [0]}, {"ids": "1"}])
def test_bulk_approval_needs_a_list_of_ids(world, rules, body):
    r = post(world.committee1, url("point-claims") + "bulk-approve/", body)
    assert r.status_code == 400 and "ids" in r.json()


def test_a_grid_worker_cannot_bulk_approve(world, rules):
    claim = submit(world, rules, user=world.committee1)
    r = post(world.worker1, url("point-claims") + "bulk-approve/", {"ids": [claim.id]})
    assert r.status_code == 403
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_bulk_rejection_needs_a_reason_and_answers_the_counts(world, rules):
    claims = [submit(world, rules), submit(world, rules, "hazard")]
    body = {"ids": [c.id for c in claims] + [999_999]}
    r = post(world.committee1, url("point-claims") + "bulk-reject/", body)
    assert r.status_code == 400 and "reason" in r.json()
    r = post(world.committee1, url("point-claims") + "bulk-reject/", {**body, "reason": "材料不全"})
    assert r.json() == {"rejected": 2, "skipped": 1}
    assert set(Claim.objects.values_list("status", flat=True)) == {"rejected"}


def test_replaying_a_bulk_approval_with_the_same_key_answers_the_first_counts(world, rules):
    claims = [submit(world, rules), submit(world, rules, "hazard")]
    key = {"HTTP_IDEMPOTENCY_KEY": "bulk-1"}
    body = {"ids": [c.id for c in claims]}
    first = post(world.committee1, url("point-claims") + "bulk-approve/", body, **key)
    again = post(world.committee1, url("point-claims") + "bulk-approve/", body, **key)
    assert first.json() == again.json() == {"approved": 2, "skipped": 0}
    assert balance(world.resident1) == 3


# ---------------------------------------------------------------------------- accounts


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["resident1"]),
        ("worker2", ["resident2"]),
        ("committee1", ["resident1", "resident2"]),
        ("committee3", ["resident4"]),
        ("admin1", ["resident1", "resident2", "resident3"]),
        ("resident_user", ["resident1"]),
    ],
)
def test_each_persona_lists_the_accounts_of_their_area(world, persona, expected):
    ledger_services.ensure_accounts(world.resident1.__class__.objects.all())
    r = client(getattr(world, persona)).get(url("point-accounts"))
    accounts = {a.resident_id: a.id for a in Account.objects.all()}
    assert ids(r) == sorted(accounts[getattr(world, name).id] for name in expected)


def test_an_account_shows_its_resident_balance_and_card(world, rules):
    approved(world, rules, "idea", points=8)
    account = Account.objects.get(resident=world.resident1)
    r = client(world.worker1).get(url("point-accounts", account.id))
    assert r.json() == {
        "id": account.id,
        "resident": world.resident1.id,
        "resident_name": "赵爱国",
        "household": world.household1.id,
        "unit": "resident",
        "holder_name": "赵爱国",
        "balance": 8,
        "honour": 8,
        "card_number": account.card_number,
    }


def test_accounts_filter_by_resident_grid_and_community(world):
    ledger_services.ensure_accounts(world.resident1.__class__.objects.all())
    accounts = {a.resident_id: a.id for a in Account.objects.all()}
    c = client(world.admin1)
    assert ids(c.get(url("point-accounts"), {"resident": world.resident2.id})) == [
        accounts[world.resident2.id]
    ]
    assert ids(c.get(url("point-accounts"), {"grid": world.grid1.id})) == [
        accounts[world.resident1.id]
    ]
    assert ids(c.get(url("point-accounts"), {"community": world.community2.id})) == [
        accounts[world.resident3.id]
    ]


def test_an_accounts_statement_is_paginated_newest_first(world, rules):
    approved(world, rules)
    approved(world, rules, "hazard")
    approved(world, rules, "fine")
    account = Account.objects.get(resident=world.resident1)
    r = client(world.worker1).get(url("point-accounts", account.id) + "entries/", {"page_size": 2})
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 3 and data["next"]
    assert [e["seq"] for e in data["results"]] == [3, 2]
    assert [e["amount"] for e in data["results"]] == [-5, 2]


@pytest.mark.parametrize("persona", ["worker2", "committee3"])
def test_an_account_outside_ones_area_and_its_statement_are_not_found(world, rules, persona):
    approved(world, rules)
    account = Account.objects.get(resident=world.resident1)
    c = client(getattr(world, persona))
    assert c.get(url("point-accounts", account.id)).status_code == 404
    assert c.get(url("point-accounts", account.id) + "entries/").status_code == 404


def test_a_stranger_cannot_read_accounts(world):
    assert client(world.stranger).get(url("point-accounts")).status_code == 403


# ---------------------------------------------------------------------------- ledger


def test_an_entry_shows_the_ledger_line(world, rules):
    claim = approved(world, rules, "hazard")
    entry = Entry.objects.get()
    r = client(world.committee1).get(url("point-entries", entry.id))
    data = r.json()
    assert {k: data[k] for k in ("account", "amount", "kind", "seq", "balance_after")} == {
        "account": entry.account_id,
        "amount": 2,
        "kind": "award",
        "seq": 1,
        "balance_after": 2,
    }
    assert data["period"] == Period.bounds(timezone.localdate())[0]
    assert data["reverses"] is None
    assert {"id", "created_at", "note"} <= set(data)
    assert claim.status == "approved"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["resident1"]),
        ("worker2", ["resident2"]),
        ("committee1", ["resident1", "resident2"]),
        ("committee3", []),
        ("admin1", ["resident1", "resident2"]),
        ("resident_user", ["resident1"]),
    ],
)
def test_each_persona_lists_the_entries_of_their_area(world, rules, persona, expected):
    approved(world, rules)
    approved(world, rules, resident=world.resident2, user=world.worker2.user)
    entries = {e.account.resident_id: e.id for e in Entry.objects.select_related("account")}
    r = client(getattr(world, persona)).get(url("point-entries"))
    assert ids(r) == sorted(entries[getattr(world, name).id] for name in expected)


def test_entries_filter_by_account_kind_period_and_grid(world, rules):
    award = approved(world, rules)
    approved(world, rules, "fine")
    approved(world, rules, resident=world.resident2, user=world.worker2.user)
    account = Account.objects.get(resident=world.resident1)
    c = client(world.committee1)

    def listed(**params):
        return ids(c.get(url("point-entries"), params))

    mine = sorted(account.entries.values_list("id", flat=True))
    assert listed(account=account.id) == mine
    assert listed(grid=world.grid1.id) == mine
    assert listed(kind="deduction") == [account.entries.get(kind="deduction").id]
    assert len(listed(period=Period.bounds(timezone.localdate())[0])) == 3
    assert listed(period="2001Q1") == []
    assert award.status == "approved"


def test_the_committee_reverses_an_entry_once(world, rules):
    approved(world, rules, "idea", points=9)
    entry = Entry.objects.get()
    r = post(world.committee1, action("point-entries", entry.id, "reverse"), {"reason": "记错了"})
    assert r.status_code == 201, r.content
    assert (r.json()["kind"], r.json()["amount"], r.json()["reverses"]) == (
        "reversal",
        -9,
        entry.id,
    )
    assert balance(world.resident1) == 0
    again = post(world.committee1, action("point-entries", entry.id, "reverse"), {"reason": "再来"})
    assert again.status_code == 400
    assert balance(world.resident1) == 0


def test_a_reversal_needs_a_reason(world, rules):
    approved(world, rules)
    entry = Entry.objects.get()
    r = post(world.committee1, action("point-entries", entry.id, "reverse"), {})
    assert r.status_code == 400 and "reason" in r.json()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("worker1", 403),
        ("admin1", 403),
        ("resident_user", 403),
        ("committee3", 404),
        ("stranger", 403),
    ],
)
def test_only_the_committee_of_the_residents_community_reverses(world, rules, persona, status):
    approved(world, rules)
    entry = Entry.objects.get()
    r = post(getattr(world, persona), action("point-entries", entry.id, "reverse"), {"reason": "x"})
    assert r.status_code == status
    assert Entry.objects.count() == 1


def test_replaying_a_reversal_with_the_same_key_answers_the_first_reversal(world, rules):
    approved(world, rules)
    entry = Entry.objects.get()
    key = {"HTTP_IDEMPOTENCY_KEY": "rev-1"}
    path = action("point-entries", entry.id, "reverse")
    first = post(world.committee1, path, {"reason": "记错了"}, **key)
    again = post(world.committee1, path, {"reason": "记错了"}, **key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Entry.objects.count() == 2


def test_entries_cannot_be_written_through_the_api(world, rules):
    approved(world, rules)
    entry = Entry.objects.get()
    c = client(world.superuser)
    assert c.post(url("point-entries"), {}, format="json").status_code == 405
    assert c.patch(url("point-entries", entry.id), {"amount": 5}, format="json").status_code == 405
    assert c.delete(url("point-entries", entry.id)).status_code == 405


# ---------------------------------------------------------------------------- quarters


def test_quarters_are_listed_and_found_by_their_code(world):
    ledger_services.period_for(dt.date(2026, 11, 5))
    ledger_services.period_for(dt.date(2026, 2, 1))
    r = client(world.resident_user).get(url("periods"))
    assert [p["code"] for p in r.json()["results"]] == ["2026Q4", "2026Q1"]
    r = client(world.worker1).get(url("periods", "2026Q4"))
    assert r.json() == {
        "id": Period.objects.get(code="2026Q4").id,
        "code": "2026Q4",
        "starts_on": "2026-10-01",
        "ends_on": "2026-12-31",
        "status": "open",
    }
    assert client(world.worker1).get(url("periods", "2030Q1")).status_code == 404
    assert ids(client(world.worker1).get(url("periods"), {"year": 2026})) == sorted(
        Period.objects.values_list("id", flat=True)
    )


def test_a_stranger_cannot_read_quarters(world):
    assert client(world.stranger).get(url("periods")).status_code == 403


# ---------------------------------------------------------------------------- objections


@pytest.fixture
def entry(world, rules) -> Entry:
    approved(world, rules, "idea", points=6)
    return Entry.objects.get(account__resident=world.resident1)


def test_a_resident_objects_to_an_entry_of_their_own_account(world, entry):
    r = post(
        world.resident_user, url("objections"), {"entry": entry.id, "reason": "我只提了一条建议"}
    )
    assert r.status_code == 201, r.content
    data = r.json()
    assert (data["status"], data["entry"], data["raised_by"]) == (
        "open",
        entry.id,
        world.resident_user.id,
    )


def test_a_resident_cannot_object_to_another_residents_entry(world, rules, entry):
    approved(world, rules, resident=world.resident2, user=world.worker2.user)
    other = Entry.objects.get(account__resident=world.resident2)
    r = post(world.resident_user, url("objections"), {"entry": other.id, "reason": "不对"})
    assert r.status_code == 403
    assert not Objection.objects.exists()


@pytest.mark.parametrize("persona", ["committee1", "worker1", "stranger"])
def test_only_residents_raise_objections(world, entry, persona):
    r = post(getattr(world, persona), url("objections"), {"entry": entry.id, "reason": "不对"})
    assert r.status_code == 403


def test_an_objection_needs_a_reason_and_waits_alone(world, entry):
    r = post(world.resident_user, url("objections"), {"entry": entry.id, "reason": ""})
    assert r.status_code == 400 and "reason" in r.json()
    assert (
        post(
            world.resident_user, url("objections"), {"entry": entry.id, "reason": "不对"}
        ).status_code
        == 201
    )
    r = post(world.resident_user, url("objections"), {"entry": entry.id, "reason": "还是不对"})
    assert r.status_code == 400


def test_an_objection_after_the_window_is_refused(world, entry):
    import time_machine

    late = entry.period.ends_on + dt.timedelta(days=30)
    with time_machine.travel(dt.datetime.combine(late, dt.time(10)), tick=False):
        r = post(world.resident_user, url("objections"), {"entry": entry.id, "reason": "不对"})
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("persona", "sees"),
    [("committee1", True), ("committee3", False), ("admin1", True), ("resident_user", True)],
)
def test_objections_are_listed_for_the_community_and_the_resident(world, entry, persona, sees):
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="不对"
    )
    r = client(getattr(world, persona)).get(url("objections"))
    assert ids(r) == ([objection.id] if sees else [])


def test_grid_workers_do_not_handle_objections(world, entry):
    assert client(world.worker1).get(url("objections")).status_code == 403


def test_upholding_an_objection_reverses_the_entry(world, entry):
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="不对"
    )
    r = post(world.committee1, action("objections", objection.id, "uphold"), {"note": "核实有误"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "upheld" and r.json()["correction"]
    assert balance(world.resident1) == 0


def test_upholding_with_an_amount_posts_an_adjustment(world, entry):
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="少算了"
    )
    r = post(
        world.committee1,
        action("objections", objection.id, "uphold"),
        {"note": "补 2 分", "amount": 2},
    )
    assert r.status_code == 200
    assert Entry.objects.get(pk=r.json()["correction"]).kind == "adjustment"
    assert balance(world.resident1) == 8


def test_dismissing_an_objection_needs_a_note(world, entry):
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="不对"
    )
    path = action("objections", objection.id, "dismiss")
    r = post(world.committee1, path, {})
    assert r.status_code == 400 and "note" in r.json()
    r = post(world.committee1, path, {"note": "经核实无误"})
    assert (r.status_code, r.json()["status"]) == (200, "dismissed")
    assert post(world.committee1, path, {"note": "再驳回"}).status_code == 400
    assert balance(world.resident1) == 6


@pytest.mark.parametrize(
    ("persona", "status"),
    [("committee3", 404), ("admin1", 403), ("worker1", 403), ("resident_user", 403)],
)
def test_only_the_committee_of_the_community_decides_an_objection(world, entry, persona, status):
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="不对"
    )
    for name, body in (("uphold", {"note": "x"}), ("dismiss", {"note": "x"})):
        r = post(getattr(world, persona), action("objections", objection.id, name), body)
        assert r.status_code == status
    assert Objection.objects.get().status == "open"


def test_replaying_an_uphold_with_the_same_key_corrects_once(world, entry):
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="不对"
    )
    key = {"HTTP_IDEMPOTENCY_KEY": "uphold-1"}
    path = action("objections", objection.id, "uphold")
    first = post(world.committee1, path, {"note": "核实有误", "amount": -1}, **key)
    again = post(world.committee1, path, {"note": "核实有误", "amount": -1}, **key)
    assert first.json() == again.json()
    assert balance(world.resident1) == 5
    assert IdempotencyRecord.objects.filter(key="uphold-1").count() == 1


# ---------------------------------------------------------------------------- no N+1

_n = itertools.count(1)


def _residents(world, k: int) -> list:
    return [f.ResidentFactory(household=f.HouseholdFactory(grid=world.grid1)) for _ in range(k)]


def add_rules(world, rules, k: int) -> None:
    for _ in range(k):
        n = next(_n)
        Rule.objects.create(
            community=world.community1, code=f"r{n}", name=f"r{n}", category="reward", points=1
        )


def add_claims(world, rules, k: int) -> None:
    for resident in _residents(world, k):
        claim = submit(world, rules, "hazard", resident=resident)
        if next(_n) % 2:
            claims_services.approve_claim(claim=claim, approver=world.committee1)


def add_accounts(world, rules, k: int) -> None:
    ledger_services.ensure_accounts(
        world.resident1.__class__.objects.filter(pk__in=[r.pk for r in _residents(world, k)])
    )


def add_entries(world, rules, k: int) -> None:
    claims = [submit(world, rules, "hazard", resident=r) for r in _residents(world, k)]
    claims_services.bulk_approve_claims(
        claims=Claim.objects.filter(pk__in=[c.pk for c in claims]), approver=world.committee1
    )
    ledger_services.reverse_entry(entry=Entry.objects.last(), user=world.committee1, reason="x")


def add_periods(world, rules, k: int) -> None:
    for _ in range(k):
        n = next(_n)
        ledger_services.period_for(dt.date(2000 + n // 4, 3 * (n % 4) + 1, 1))


def add_objections(world, rules, k: int) -> None:
    for _ in range(k):
        claim = submit(
            world, rules, "hazard", occurred_on=dt.date(2025, 1, 1) + dt.timedelta(days=next(_n))
        )
        claims_services.approve_claim(claim=claim, approver=world.committee1)
        entry = Entry.objects.filter(source_type="claim", source_id=claim.pk).get()
        objections_services.raise_objection(user=world.resident_user, entry=entry, reason="不对")


ADD: dict[str, Callable] = {
    "point-rules": add_rules,
    "point-claims": add_claims,
    "point-accounts": add_accounts,
    "point-entries": add_entries,
    "periods": add_periods,
    "objections": add_objections,
}


def test_every_points_list_has_a_row_maker():
    assert set(ADD) == set(POINTS_LIST_ENDPOINTS)


def count_queries(c, path: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        r = c.get(path, {"page_size": 100})
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries), len(r.json()["results"])


def _assert_flat(c, path: str, add: Callable[[int], None]) -> None:
    add(3)
    c.get(path)  # warm the per-process caches
    few_queries, few_rows = count_queries(c, path)
    add(27)
    many_queries, many_rows = count_queries(c, path)
    assert many_rows >= few_rows + 27
    assert many_queries == few_queries, (
        f"{few_queries} queries for {few_rows} rows, {many_queries} for {many_rows}"
    )


@pytest.mark.parametrize("persona", ["superuser", "committee1"])
@pytest.mark.parametrize("endpoint", POINTS_LIST_ENDPOINTS)
def test_points_list_queries_do_not_grow_with_the_rows(world, rules, endpoint, persona):
    c = token_client(getattr(world, persona))
    _assert_flat(c, url(endpoint), lambda k: ADD[endpoint](world, rules, k))


def test_an_accounts_statement_runs_the_same_queries_for_3_and_30_entries(world, rules):
    account = ledger_services.account_for(world.resident1)

    def add(k: int) -> None:
        for _ in range(k):
            ledger_services.post_entry(account=account, amount=1, kind="award", key=f"k{next(_n)}")

    _assert_flat(
        token_client(world.worker1.user), url("point-accounts", account.id) + "entries/", add
    )


# ---------------------------------------------------------------------------- bad input

JUNK = ["abc", "-1", "0", "1.5", "99999999999999999999999999", "", "\x00", "2026-13-45", "x" * 3000]


def filter_names(endpoint: str) -> list[str]:
    from django.urls import resolve

    view = resolve(url(endpoint)).func.cls
    return sorted(view.filterset_class.base_filters)


@pytest.mark.parametrize("endpoint", POINTS_LIST_ENDPOINTS)
def test_junk_query_parameters_on_points_lists_never_give_a_500(world, rules, endpoint):
    c = client(world.superuser)
    params = [
        *filter_names(endpoint),
        "occurred_on_after",
        "page",
        "page_size",
        "ordering",
        "search",
    ]
    for value in JUNK:
        for name in params:
            r = in_savepoint(lambda name=name, value=value: c.get(url(endpoint), {name: value}))
            assert r.status_code in (200, 400, 404), (name, value, r.content[:200])
            assert r["Content-Type"].startswith("application/json")


JUNK_VALUES = [None, "", "\x00", "x" * 5000, -1, 0, 10**30, 1.5, True, [], {}, "2026-02-30", "1"]


@pytest.mark.parametrize("value", JUNK_VALUES, ids=range(len(JUNK_VALUES)))
def test_junk_in_any_field_of_a_points_write_never_gives_a_500(world, entry, rules, value):
    claim = submit(world, rules, "hazard")
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="不对"
    )
    writes = [
        (world.committee1, url("point-rules"), rule_body(community=world.community1.id)),
        (world.worker1, url("point-claims"), claim_body(world, rules, "idea", points=3)),
        (world.resident_user, url("objections"), {"entry": entry.id, "reason": "不对"}),
        (world.committee1, action("point-claims", claim.id, "reject"), {"reason": "x"}),
        (world.committee1, url("point-claims") + "bulk-approve/", {"ids": [claim.id]}),
        (
            world.committee1,
            url("point-claims") + "bulk-reject/",
            {"ids": [claim.id], "reason": "x"},
        ),
        (world.committee1, action("point-entries", entry.id, "reverse"), {"reason": "x"}),
        (
            world.committee1,
            action("objections", objection.id, "uphold"),
            {"note": "x", "amount": 1},
        ),
        (world.committee1, action("objections", objection.id, "dismiss"), {"note": "x"}),
    ]
    for user, path, body in writes:
        c = client(user)
        for name in [*body, "unknown"]:
            r = in_savepoint(lambda c=c, path=path, body=body, name=name: c.post(
                path, {**body, name: value}, format="json"
            ))  # fmt: skip
            assert r.status_code < 500, (path, name, r.content[:300])
            assert r["Content-Type"].startswith("application/json")
            if r.status_code >= 400:
                assert r.json()


@pytest.mark.parametrize("body", ["{bad", "[1, 2]", "null", '"x"'])
def test_a_malformed_body_to_a_points_action_is_a_json_4xx(world, rules, body):
    claim = submit(world, rules)
    c = client(world.committee1)
    for path in (
        action("point-claims", claim.id, "reject"),
        url("point-claims") + "bulk-approve/",
        url("point-claims"),
    ):
        r = in_savepoint(lambda path=path: c.post(path, body, content_type="application/json"))
        assert 400 <= r.status_code < 500, (path, r.content)
        assert isinstance(r.json(), dict)
