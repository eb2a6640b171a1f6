"""The points admin: the committee's approval queue, the read-only ledger and balances, quarters
with their notices and card sheets, objections, rule books.

The personas get the points permissions granted here explicitly, so the tests say what each
page needs whatever core.roles hands out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from points.models import Account, Claim, Entry, Objection, Policy, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import objections as objections_services
from tests import factories as f

ALL_POINTS = [
    f"{action}_{model}"
    for model in ("rule", "claim", "account", "entry", "period", "policy", "objection")
    for action in ("view", "add", "change", "delete")
]


def url(model: str, action: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:points_{model}_{action}", args=args)


@pytest.fixture
def rules(world: Any) -> dict[str, Rule]:
    def rule(community: Any, code: str, category: str, points: int, **kw: Any) -> Rule:
        return Rule.objects.create(
            community=community, code=code, name=code, category=category, points=points, **kw
        )

    return {
        "clean": rule(world.community1, "clean", "reward", 1),
        "idea": rule(world.community1, "idea", "reward", 10, up_to=True),
        "rules": rule(world.community1, "rules", "deduction", 5),
        "clean2": rule(world.community2, "clean", "reward", 1),
        "clean3": rule(world.community3, "clean", "reward", 1),
    }


def submit(user: Any, resident: Any, rule: Rule, points: int | None = None) -> Claim:
    user = getattr(user, "user", user)
    return claims_services.submit_claim(user=user, resident=resident, rule=rule, points=points)


def act(client: Client, action: str, claims: list[Claim], **extra: Any) -> Any:
    data = {"action": action, "_selected_action": [c.pk for c in claims], **extra}
    return client.post(url("claim") + "?status=all", data, follow=True)


def balance(resident: Any) -> int:
    account = Account.objects.filter(resident=resident).first()
    return account.balance if account else 0


def messages_of(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# ---------------------------------------------------------------------------- the queue


def test_approval_queue_of_a_committee_member_lists_only_their_communitys_claims(
    world, rules, staff_client
):
    mine = submit(world.worker1, world.resident1, rules["clean"])
    also_mine = submit(world.worker2, world.resident2, rules["idea"], 3)
    submit(world.worker3, world.resident3, rules["clean2"])
    submit(world.worker4, world.resident4, rules["clean3"])

    response = staff_client(world.committee1, "view_claim", "change_claim").get(url("claim"))
    assert response.status_code == 200
    assert {c.pk for c in response.context["cl"].result_list} == {mine.pk, also_mine.pk}
    page = response.content.decode()
    assert "赵爱国" in page and "赵秀英" in page
    assert "陈建国" not in page and "李明" not in page
    assert "泰山社区" not in page and "外村" not in page  # nor in the sidebar filters


def test_approval_queue_shows_submitted_claims_until_another_status_is_chosen(
    world, rules, staff_client
):
    waiting = submit(world.worker1, world.resident1, rules["clean"])
    approved = claims_services.approve_claim(
        claim=submit(world.worker1, world.resident1, rules["idea"], 2), approver=world.committee1
    )
    client = staff_client(world.committee1, "view_claim", "change_claim")

    def listed(query: str = "") -> set[int]:
        return {c.pk for c in client.get(url("claim") + query).context["cl"].result_list}

    assert listed() == {waiting.pk}
    assert listed("?status=approved") == {approved.pk}
    assert listed("?status=all") == {waiting.pk, approved.pk}


def test_bulk_approval_posts_the_entries_and_skips_the_members_own_submissions(
    world, rules, staff_client
):
    claims = [
        submit(world.worker1, world.resident1, rules["idea"], 7),
        submit(world.worker1, world.resident1, rules["rules"]),
        submit(world.worker2, world.resident2, rules["clean"]),
    ]
    own = submit(world.committee1, world.resident2, rules["idea"], 9)
    outside = submit(world.worker3, world.resident3, rules["clean2"])
    client = staff_client(world.committee1, "view_claim", "change_claim")

    response = act(client, "approve_selected", [*claims, own, outside])
    assert response.status_code == 200
    text = messages_of(response)
    assert "3 claims approved" in text and "1 claim skipped" in text
    assert balance(world.resident1) == 7 - 5
    assert balance(world.resident2) == 1
    assert set(Claim.objects.filter(status="approved").values_list("pk", flat=True)) == {
        c.pk for c in claims
    }
    own.refresh_from_db()
    outside.refresh_from_db()
    assert own.status == outside.status == "submitted"
    assert Entry.objects.count() == 3
    assert ledger_services.verify_ledger().ok


def test_approving_again_posts_nothing_twice(world, rules, staff_client):
    claim = submit(world.worker1, world.resident1, rules["idea"], 4)
    client = staff_client(world.committee1, "view_claim", "change_claim")
    act(client, "approve_selected", [claim])
    response = act(client, "approve_selected", [claim])
    assert "1 claim skipped" in messages_of(response)
    assert balance(world.resident1) == 4
    assert Entry.objects.count() == 1


def test_reject_action_asks_for_a_reason_before_rejecting(world, rules, staff_client):
    claims = [
        submit(world.worker1, world.resident1, rules["clean"]),
        submit(world.worker2, world.resident2, rules["clean"]),
    ]
    client = staff_client(world.committee1, "view_claim", "change_claim")

    asked = act(client, "reject_selected", claims)
    assert asked.status_code == 200
    assert "admin/points/claim/reject_selected.html" in [t.name for t in asked.templates]
    assert not Claim.objects.exclude(status="submitted").exists()

    no_reason = act(client, "reject_selected", claims, confirm="yes", reason="  ")
    assert no_reason.status_code == 200
    assert no_reason.context["form"].errors["reason"]
    assert not Claim.objects.exclude(status="submitted").exists()

    done = act(client, "reject_selected", claims, confirm="yes", reason="照片看不清")
    assert "2 claims rejected" in messages_of(done)
    assert set(Claim.objects.values_list("status", "reject_reason")) == {("rejected", "照片看不清")}
    assert not Entry.objects.exists()


def test_decision_actions_are_not_offered_without_the_change_permission(world, rules, staff_client):
    submit(world.worker1, world.resident1, rules["clean"])
    response = staff_client(world.worker1, "view_claim", "add_claim").get(url("claim"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="approve_selected"' not in page and 'value="reject_selected"' not in page


# ---------------------------------------------------------------------------- one claim


def test_a_claim_page_is_read_only_and_cannot_be_deleted(world, rules, staff_client):
    claim = submit(world.worker1, world.resident1, rules["clean"])
    client = staff_client(world.committee1, *ALL_POINTS)
    page = client.get(url("claim", "change", claim.pk)).content.decode()
    assert 'name="_save"' not in page
    assert client.post(url("claim", "change", claim.pk), {"points": 9}).status_code == 403
    assert client.get(url("claim", "delete", claim.pk)).status_code == 403


def test_committee_member_approves_one_claim_from_its_page(world, rules, staff_client):
    claim = submit(world.worker1, world.resident1, rules["idea"], 6)
    client = staff_client(world.committee1, "view_claim", "change_claim")
    page = client.get(url("claim", "change", claim.pk)).content.decode()
    assert url("claim", "decide", claim.pk) in page

    response = client.post(url("claim", "decide", claim.pk), {"decision": "approve"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.decided_by == world.committee1
    assert balance(world.resident1) == 6


def test_rejecting_one_claim_needs_a_reason(world, rules, staff_client):
    claim = submit(world.worker1, world.resident1, rules["clean"])
    client = staff_client(world.committee1, "view_claim", "change_claim")
    decide = url("claim", "decide", claim.pk)

    response = client.post(decide, {"decision": "reject", "reason": ""}, follow=True)
    assert "Say why the claim is rejected." in messages_of(response)
    claim.refresh_from_db()
    assert claim.status == "submitted"

    client.post(decide, {"decision": "reject", "reason": "重复申报"})
    claim.refresh_from_db()
    assert (claim.status, claim.reject_reason) == ("rejected", "重复申报")


def test_the_submitter_is_not_offered_the_decision_on_their_own_claim(world, rules, staff_client):
    claim = submit(world.committee1, world.resident1, rules["clean"])
    client = staff_client(world.committee1, "view_claim", "change_claim")
    page = client.get(url("claim", "change", claim.pk)).content.decode()
    assert url("claim", "decide", claim.pk) not in page
    response = client.post(url("claim", "decide", claim.pk), {"decision": "approve"}, follow=True)
    assert "someone other than its submitter" in messages_of(response)
    claim.refresh_from_db()
    assert claim.status == "submitted"


def test_claim_added_in_the_admin_goes_through_submit_claim(world, rules, staff_client):
    client = staff_client(world.worker1, "view_claim", "add_claim")
    assert client.get(url("claim", "add")).status_code == 200
    data = {"resident": world.resident1.pk, "rule": rules["idea"].pk, "occurred_on": "2026-01-05"}

    too_many = client.post(url("claim", "add"), {**data, "points": 20})
    assert too_many.status_code == 200
    assert "from 1 up to 10 points" in too_many.content.decode()
    assert not Claim.objects.exists()

    response = client.post(url("claim", "add"), {**data, "points": 5, "note": "修路建议"})
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.points, claim.status, claim.submitted_by) == (5, "submitted", world.worker1.user)
    assert claim.period.code == "2026Q1"


def test_claim_cannot_be_added_for_a_resident_of_another_grid(world, rules, staff_client):
    client = staff_client(world.worker1, "view_claim", "add_claim")
    data = {"resident": world.resident2.pk, "rule": rules["clean"].pk, "occurred_on": "2026-01-05"}
    response = client.post(url("claim", "add"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["resident"]
    assert not Claim.objects.exists()


# ---------------------------------------------------------------------------- the ledger


@pytest.fixture
def posted(world: Any, rules: dict[str, Rule]) -> list[Entry]:
    for resident, worker in ((world.resident1, world.worker1), (world.resident2, world.worker2)):
        claims_services.approve_claim(
            claim=submit(worker, resident, rules["idea"], 3), approver=world.committee1
        )
    return list(Entry.objects.all())


def test_ledger_admin_offers_no_add_change_or_delete_even_to_the_superuser(
    world, posted, staff_client
):
    client = staff_client(world.superuser)
    entry = posted[0]
    assert client.get(url("entry")).status_code == 200
    assert client.get(url("entry", "add")).status_code == 403
    page = client.get(url("entry", "change", entry.pk)).content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert client.post(url("entry", "change", entry.pk), {"amount": 100}).status_code == 403
    assert client.get(url("entry", "delete", entry.pk)).status_code == 403
    assert client.post(url("entry", "delete", entry.pk), {"post": "yes"}).status_code == 403
    assert 'value="delete_selected"' not in client.get(url("entry")).content.decode()
    assert Entry.objects.get(pk=entry.pk).amount == 3


def test_ledger_lists_only_the_entries_in_scope_and_finds_a_card_number(
    world, posted, staff_client
):
    client = staff_client(world.worker1, "view_entry")
    listed = client.get(url("entry")).context["cl"].result_list
    assert [e.account.resident for e in listed] == [world.resident1]

    card = Account.objects.get(resident=world.resident1).card_number
    found = client.get(url("entry") + f"?q={card}").context["cl"].result_list
    assert len(found) == 1
    card2 = Account.objects.get(resident=world.resident2).card_number
    assert not client.get(url("entry") + f"?q={card2}").context["cl"].result_list


@pytest.mark.parametrize("page", ["entry", "account", "claim", "claim?status=all"])
def test_ledger_balances_and_queue_cost_the_same_number_of_queries_for_more_rows(
    world, rules, staff_client, page
):
    client = staff_client(world.committee1, "view_entry", "view_account", "view_claim")
    model, _, query = page.partition("?")
    address = url(model) + (f"?{query}" if query else "")

    def post_some(n: int) -> None:
        for _ in range(n):
            resident = f.ResidentFactory(household=world.household1)
            submit(world.worker1, resident, rules["idea"], 2)  # waits in the queue
            claims_services.approve_claim(
                claim=submit(world.worker1, resident, rules["rules"]), approver=world.committee1
            )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        assert response.status_code == 200
        return len(queries)

    post_some(1)
    assert client.get(address).status_code == 200  # warm the caches
    before = count()
    post_some(5)
    assert Entry.objects.count() == 6
    assert count() == before


def test_account_admin_is_read_only_and_links_to_the_accounts_entries(world, posted, staff_client):
    client = staff_client(world.committee1, *ALL_POINTS)
    account = Account.objects.get(resident=world.resident1)
    page = client.get(url("account")).content.decode()
    assert account.card_number in page
    entries_link = url("entry") + f"?account__id__exact={account.pk}"
    assert entries_link in page
    listed = client.get(entries_link).context["cl"].result_list
    assert [e.account_id for e in listed] == [account.pk]
    assert client.get(url("account", "add")).status_code == 403
    assert 'name="_save"' not in client.get(url("account", "change", account.pk)).content.decode()
    assert client.get(url("account", "delete", account.pk)).status_code == 403


# ---------------------------------------------------------------------------- quarters


def test_quarter_page_links_to_the_notice_and_card_sheet_of_each_grid_in_scope(
    world, posted, staff_client
):
    period = posted[0].period
    client = staff_client(world.committee1, "view_period")
    page = client.get(url("period", "change", period.pk)).content.decode()
    for grid in (world.grid1, world.grid2):
        assert reverse("points:notice", args=[period.code, grid.pk]) in page
        assert reverse("points:card_sheet", args=[grid.pk]) in page
    assert reverse("points:card_sheet", args=[world.grid3.pk]) not in page
    assert 'name="_save"' not in page
    assert client.get(url("period", "add")).status_code == 403


def test_policies_are_listed_for_the_communities_in_scope_only(world, staff_client):
    Policy.objects.create(community=world.community1, objection_days=10)
    Policy.objects.create(community=world.community3, objection_days=5)
    client = staff_client(world.committee1, "view_policy", "change_policy")
    listed = client.get(url("policy")).context["cl"].result_list
    assert [p.community for p in listed] == [world.community1]


# ---------------------------------------------------------------------------- objections


def test_committee_member_upholds_an_objection_and_the_entry_is_reversed(
    world, posted, staff_client
):
    entry = Entry.objects.get(account__resident=world.resident1)
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="没参加"
    )
    client = staff_client(world.committee1, "view_objection", "change_objection")
    decide = url("objection", "decide", objection.pk)
    assert decide in client.get(url("objection", "change", objection.pk)).content.decode()

    client.post(decide, {"decision": "uphold", "note": ""})
    objection.refresh_from_db()
    assert objection.status == "open"  # a decision says why

    assert client.post(decide, {"decision": "uphold", "note": "核实无误"}).status_code == 302
    objection.refresh_from_db()
    assert objection.status == "upheld"
    assert objection.correction.reverses == entry
    assert balance(world.resident1) == 0


def test_committee_member_dismisses_an_objection_without_touching_the_ledger(
    world, posted, staff_client
):
    entry = Entry.objects.get(account__resident=world.resident1)
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="少了"
    )
    client = staff_client(world.committee1, "view_objection", "change_objection")
    client.post(url("objection", "decide", objection.pk), {"decision": "dismiss", "note": "属实"})
    objection.refresh_from_db()
    assert objection.status == "dismissed"
    assert Entry.objects.count() == len(posted)


def test_objections_of_another_community_are_not_listed(world, posted, staff_client):
    entry = Entry.objects.get(account__resident=world.resident1)
    objections_services.raise_objection(user=world.resident_user, entry=entry, reason="没参加")
    client = staff_client(world.committee3, "view_objection", "change_objection")
    assert not client.get(url("objection")).context["cl"].result_list
    assert Objection.objects.count() == 1


# ---------------------------------------------------------------------------- rule books


def test_committee_member_sees_the_rules_of_their_community_only(world, rules, staff_client):
    client = staff_client(world.committee1, "view_rule", "add_rule", "change_rule")
    listed = set(client.get(url("rule")).context["cl"].result_list)
    assert listed == {rules["clean"], rules["idea"], rules["rules"]}


def test_street_admin_copies_the_default_book_into_chosen_communities(world, rules, staff_client):
    Rule.objects.create(
        street=world.street1, code="clean", name="清扫", category="reward", points=1
    )
    Rule.objects.create(
        street=world.street1, code="hazard", name="报隐患", category="reward", points=2
    )
    client = staff_client(world.admin1, "view_rule", "add_rule", "change_rule")
    assert len(client.get(url("rule")).context["cl"].result_list) == 2 + 4  # book + 2 villages

    copy = reverse("admin:points_rule_copy_defaults")
    form = client.get(copy).context["form"]
    assert set(form.fields["communities"].queryset) == {world.community1, world.community2}
    response = client.post(copy, {"communities": [world.community2.pk]}, follow=True)
    assert "1 rule copied" in messages_of(response)  # 泰山社区 had "clean" already
    assert set(Rule.objects.filter(community=world.community2).values_list("code", flat=True)) == {
        "clean",
        "hazard",
    }


def test_a_rule_belongs_to_exactly_one_book(world, staff_client):
    client = staff_client(world.admin1, "view_rule", "add_rule")
    data = {"code": "x", "name": "x", "category": "reward", "points": 1, "active": "on"}
    response = client.post(url("rule", "add"), data)
    assert response.status_code == 200
    assert "choose exactly one" in response.content.decode()
    both = {**data, "community": world.community1.pk, "street": world.street1.pk}
    assert client.post(url("rule", "add"), both).status_code == 200
    assert client.post(url("rule", "add"), {**data, "street": world.street1.pk}).status_code == 302


# ---------------------------------------------------------------------------- every page loads


@pytest.mark.parametrize(
    "model", ["rule", "claim", "account", "entry", "period", "policy", "objection"]
)
def test_every_points_page_loads_for_the_superuser(world, posted, staff_client, model):
    client = staff_client(world.superuser)
    Policy.objects.create(community=world.community1)
    entry = Entry.objects.get(account__resident=world.resident1)
    objections_services.raise_objection(user=world.resident_user, entry=entry, reason="x")
    assert client.get(url(model)).status_code == 200
    obj = {
        "rule": Rule.objects.first(),
        "claim": Claim.objects.first(),
        "account": Account.objects.first(),
        "entry": entry,
        "period": entry.period,
        "policy": Policy.objects.first(),
        "objection": Objection.objects.first(),
    }[model]
    assert client.get(url(model, "change", obj.pk)).status_code == 200


def test_a_street_admin_opens_a_redemption_window_in_the_admin(world, staff_client):
    from points.models import Period, RedemptionWindow

    period = ledger_services.period_for(dt.date(2026, 9, 1))
    data = {
        "period": period.pk,
        "community": world.community1.pk,
        "opens_on": "2026-10-01",
        "closes_on": "2026-10-07",
    }
    url = reverse("admin:points_redemptionwindow_add")
    assert staff_client(world.committee1).post(url, data).status_code == 403
    # Another street's admin cannot even choose the community.
    assert staff_client(world.admin2).post(url, data).status_code == 200
    assert not RedemptionWindow.objects.exists()
    # The service's refusal (the quarter is being closed) comes back as a message.
    Period.objects.filter(pk=period.pk).update(status=Period.Status.CLOSING)
    r = staff_client(world.admin1).post(url, data, follow=True)
    assert r.status_code == 200 and not RedemptionWindow.objects.exists()
    assert "2026Q3" in r.content.decode()
    Period.objects.filter(pk=period.pk).update(status=Period.Status.OPEN)
    r = staff_client(world.admin1).post(url, data)
    assert r.status_code == 302, r.content[:600]
    window = RedemptionWindow.objects.get()
    assert (window.community, window.opened_by) == (world.community1, world.admin1)
    assert Period.objects.get(pk=period.pk).status == Period.Status.REDEEMING
