"""Household accounts and honour points where residents, workers and committees see them
(issue 15, points 1 and 2): the resident's page and API, the card and its sheet, the monthly
statement, the notice (live and stored by the close), the rankings and the party members'
ranking, the admin, objections, balance by SMS and the field app's bundle.

新庄赵村 (community1) counts per resident, then switches to households (以户为单位) in the
middle of 2026Q4: 赵爱国 (head) and 王桂兰 share household1, 赵秀英 lives alone in household2
(no head), 孙立 and 孙小红 in household5 (no head, grid1).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from points.models import Account, Entry, NoticeLine, Objection, Period, Rule, UnitSwitch
from points.paper import month_bounds, statement_households
from points.selectors import claims as claims_selectors
from points.services import claims as claims_services
from points.services import close as close_services
from points.services import ledger as ledger_services
from points.services import objections as objections_services
from points.services import units
from points.sms_balance import BALANCE_TEMPLATE, NOT_FOUND_TEMPLATE, card_number_in, reply_for
from tests import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 16)  # inside 2026Q4
AFTER_Q4 = dt.date(2027, 1, 2)


@pytest.fixture(autouse=True)
def chinese():
    """The names built outside a request (SMS replies, the close's stored notice) are compared
    in Chinese, whatever language an earlier test left active."""
    with translation.override("zh-hans"):
        yield


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


def resident_login(resident: Any, username: str) -> Any:
    user = f.UserFactory(username=username, groups=["resident"])
    resident.user = user
    resident.save(update_fields=["user"])
    return user


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hh(world: Any) -> SimpleNamespace:
    """Before the switch: 赵爱国 +5, 王桂兰 +5 and −3, 赵秀英 +5 (own accounts). The switch.
    After it: 赵秀英 +5, 王桂兰 +5 (to the households' accounts), and household1 spends 4."""
    w = world
    w.spouse = f.ResidentFactory(
        household=w.household1, name="王桂兰", phone="13900000002", is_party_member=True
    )
    w.household1.head = w.resident1
    w.household1.save(update_fields=["head"])
    w.resident1.phone = "13900000001"
    w.resident1.save(update_fields=["phone"])
    w.resident2.is_party_member = True
    w.resident2.save(update_fields=["is_party_member"])
    w.household5 = f.HouseholdFactory(grid=w.grid1, village=True, house_number="20")
    w.sun = f.ResidentFactory(household=w.household5, name="孙立")
    w.sun2 = f.ResidentFactory(household=w.household5, name="孙小红")
    w.spouse_user = resident_login(w.spouse, "wangguilan")
    w.resident2_user = resident_login(w.resident2, "zhaoxiuying")
    w.clean = Rule.objects.create(
        community=w.community1, code="clean", name="清扫责任区", category="reward", points=5
    )
    w.fine = Rule.objects.create(
        community=w.community1, code="fine", name="违反村规", category="deduction", points=3
    )

    def approved(resident: Any, rule: Rule | None = None) -> Any:
        worker = w.worker1 if resident.household.grid_id == w.grid1.pk else w.worker2
        claim = claims_services.submit_claim(
            user=worker.user, resident=resident, rule=rule or w.clean
        )
        return claims_services.approve_claim(claim=claim, approver=w.committee1)

    with at(TODAY):
        approved(w.resident1)
        approved(w.spouse)
        approved(w.spouse, w.fine)
        approved(w.resident2)
        w.resident_ranking = list(claims_selectors.ranking(community_id=w.community1.pk, year=2026))
        w.switch = units.switch_account_unit(
            community=w.community1, to_unit="household", by=w.admin1
        )
        approved(w.resident2)
        w.spouse_claim = approved(w.spouse)
        w.hh1 = Account.objects.get(shared_household=w.household1)
        ledger_services.debit(account=w.hh1, points=4, key="order:test")
    w.hh1.refresh_from_db()
    w.hh2 = Account.objects.get(shared_household=w.household2)
    w.spouse_award = Entry.objects.get(source_type="claim", source_id=w.spouse_claim.pk)
    return w


def test_the_household_account_holds_what_every_member_earned(hh):
    # 5 + 5 − 3 moved by the switch, + 5 after it; 4 spent: honour is kept.
    assert (hh.hh1.balance, hh.hh1.honour) == (8, 12)
    assert (hh.hh2.balance, hh.hh2.honour) == (10, 10)
    assert ledger_services.verify_ledger().ok


# ---------------------------------------------------------------------------- me


@pytest.mark.parametrize("who", ["resident_user", "spouse_user"])
def test_head_and_member_see_the_households_balance_and_honour_in_the_api(hh, who):
    with at(TODAY):
        data = api(getattr(hh, who)).get("/api/v1/me/").json()
    assert (data["balance"], data["honour"]) == (8, 12)
    assert data["account_unit"] == "household"
    assert data["card_number"] == hh.hh1.card_number
    assert data["holder_name"] == hh.hh1.holder_name
    # Earned this quarter on the household's account: only what came after the switch.
    assert data["earned_this_quarter"] == 5


def test_another_household_sees_its_own_account_not_the_neighbours(hh):
    with at(TODAY):
        data = api(hh.resident2_user).get("/api/v1/me/").json()
    assert (data["balance"], data["honour"], data["card_number"]) == (
        10,
        10,
        hh.hh2.card_number,
    )
    with at(TODAY):
        entries = api(hh.resident2_user).get("/api/v1/me/entries/").json()["results"]
    assert {e["account"] for e in entries} == {hh.hh2.pk}


def test_my_statement_is_the_households_and_names_the_member_of_each_claim(hh):
    with at(TODAY):
        rows = api(hh.resident_user).get("/api/v1/me/entries/").json()["results"]
    assert {r["account"] for r in rows} == {hh.hh1.pk}
    by_kind = {r["kind"]: r for r in rows}
    assert set(by_kind) == {"transfer", "award", "redemption"}
    award = by_kind["award"]
    assert (award["member"], award["member_name"]) == (hh.spouse.pk, "王桂兰")
    assert (award["honour"], award["honour_after"]) == (5, 12)
    assert by_kind["redemption"]["member_name"] is None
    assert by_kind["redemption"]["honour"] == 0


def test_the_me_page_says_points_are_counted_per_household(hh):
    with at(TODAY):
        html = page(hh.spouse_user).get(reverse("points:me")).content.decode()
    assert 'id="balance">8<' in html
    assert 'id="honour">12<' in html
    assert 'id="per-household"' in html and "以户为单位" in html and "赵爱国" in html
    assert "（王桂兰）" in html  # the line of her claim names her
    assert hh.hh1.card_number in html


def test_a_resident_community_keeps_the_resident_page_as_it_was(world):
    with at(TODAY):
        html = page(world.resident_user).get(reverse("points:me")).content.decode()
    assert 'id="per-household"' not in html
    assert 'id="honour">0<' in html


# ---------------------------------------------------------------------------- cards


def test_a_household_card_shows_the_household_to_members_and_404_to_others(hh):
    url = reverse("points:card", args=[hh.hh1.card_number])
    with at(TODAY):
        html = page(hh.spouse_user).get(url).content.decode()
        assert page(hh.resident2_user).get(url).status_code == 404
        assert page(hh.stranger).get(url).status_code == 404
    assert 'id="balance">8<' in html and 'id="honour">12<' in html
    assert "王桂兰" in html and "赵爱国" in html


def test_a_worker_scanning_a_household_card_may_claim_for_each_member(hh, staff_client):
    client = staff_client(hh.worker1, "add_claim")
    with at(TODAY):
        html = client.get(reverse("points:card", args=[hh.hh1.card_number])).content.decode()
    add = reverse("admin:points_claim_add")
    assert f"{add}?resident={hh.resident1.pk}" in html
    assert f"{add}?resident={hh.spouse.pk}" in html


def test_the_card_sheet_prints_one_card_per_household_with_its_members(hh):
    with at(TODAY):
        html = page(hh.worker1.user).get(reverse("points:card_sheet", args=[hh.grid1.pk]))
    text = html.content.decode()
    assert text.count('class="pcard"') == 2  # household1 and household5
    hh5 = Account.objects.get(shared_household=hh.household5)  # opened for the card
    assert hh.hh1.card_number in text and hh5.card_number in text
    # No resident's own card in a community that counts per household.
    own = Account.objects.get(resident=hh.resident1)
    assert own.card_number not in text
    assert "王桂兰" in text and "孙小红" in text


# ---------------------------------------------------------------------------- statements


def test_the_monthly_statement_is_per_household_and_names_the_members(hh):
    first, start, end = month_bounds("2026-11", dt.date(2026, 12, 5))
    statements = {
        s.household.pk: s for s in statement_households(grid=hh.grid1, start=start, end=end)
    }
    st = statements[hh.household1.pk]
    assert st.per_household and st.names == ["赵爱国", "王桂兰"]
    [member] = st.members
    assert member.resident is None and member.card_number == hh.hh1.card_number
    assert (member.opening, member.closing, member.honour) == (0, 8, 12)
    members = {(e.member, e.what, e.amount) for e in st.entries}
    assert ("王桂兰", "清扫责任区", 5) in members  # on the household's account, after the switch
    assert ("王桂兰", "违反村规", -3) in members  # on her own, before it
    assert ("赵爱国", "清扫责任区", 5) in members


def test_the_statement_page_prints_the_household_card_and_honour(hh):
    with at(dt.date(2026, 11, 30)):
        response = page(hh.worker1.user).get(
            reverse("points:statement", args=[hh.grid1.pk]), {"month": "2026-11"}
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-test="per-household"' in html
    assert hh.hh1.card_number in html
    assert 'data-test="honour">12<' in html


# ---------------------------------------------------------------------------- notice


def test_the_notice_has_one_line_per_household_on_its_head(hh, client_for):
    code = Period.objects.get(code="2026Q4").code
    with at(TODAY):
        data = (
            client_for(hh.worker1.user)
            .get(f"/api/v1/periods/{code}/notice/", {"grid": hh.grid1.pk})
            .json()
        )
    rows = [
        (r["resident"], r["household"], r["per_household"], r["name"], r["earned"], r["balance"])
        for r in data["results"]
    ]
    assert rows == [
        # Earned in the quarter: every account of the household (5 + 5 − 3 before the
        # switch, 5 after), the transfers left out.
        (hh.resident1.pk, hh.household1.pk, True, "赵*国户", 12, 8),
        # No head: the member with the smallest id stands for the household.
        (hh.sun.pk, hh.household5.pk, True, "孙*户", 0, 0),
    ]


def test_the_notice_page_counts_households(hh):
    with at(TODAY):
        html = page(hh.resident_user).get(reverse("points:notice", args=["2026Q4", hh.grid1.pk]))
    text = html.content.decode()
    assert "赵*国户" in text and "孙*户" in text and "王*兰" not in text
    assert "以户为单位" in text


def test_the_close_stores_one_notice_line_per_household(
    hh, tasks_in_process, django_capture_on_commit_callbacks
):
    q4 = Period.objects.get(code="2026Q4")
    with at(AFTER_Q4), django_capture_on_commit_callbacks(execute=True):
        close_services.start_close(period=q4, user=hh.admin1)
    lines = list(
        NoticeLine.objects.filter(period=q4, grid__community=hh.community1)
        .order_by("grid_id", "id")
        .values_list("grid_id", "resident_id", "masked_name", "earned", "balance")
    )
    assert lines == [
        (hh.grid1.pk, hh.resident1.pk, "赵*国户", 12, 8),
        (hh.grid1.pk, hh.sun.pk, "孙*户", 0, 0),
        (hh.grid2.pk, hh.resident2.pk, "赵*英户", 10, 10),
    ]


# ---------------------------------------------------------------------------- rankings


def test_a_resident_community_ranks_residents_by_honour(hh):
    rows = [(r.name, r.honour, r.rank, r.per_household) for r in hh.resident_ranking]
    assert rows[:3] == [
        ("赵爱国", 5, 1, False),
        ("赵秀英", 5, 1, False),
        ("王桂兰", 2, 3, False),
    ]


def test_a_household_community_ranks_households_across_the_switch(hh, client_for):
    rows = claims_selectors.ranking(community_id=hh.community1.pk, year=2026)
    got = [(r.household_id, r.pk, r.honour, r.rank) for r in rows]
    # Household 1: 12 (before the switch on its members' accounts, after it on its own);
    # household 2: 10; household 5: 0. Spending (4) does not lower honour; the transfers
    # of the switch count nothing.
    assert got == [
        (hh.household1.pk, hh.resident1.pk, 12, 1),
        (hh.household2.pk, hh.resident2.pk, 10, 2),
        (hh.household5.pk, hh.sun.pk, 0, 3),
    ]
    with at(TODAY):
        data = client_for(hh.committee1).get("/api/v1/rankings/", {"year": 2026}).json()
    first = data["results"][0]
    assert first == {
        "rank": 1,
        "top_three": True,
        "per_household": True,
        "resident": None,
        "household": hh.household1.pk,
        "name": "赵爱国户",
        "grid": hh.grid1.pk,
        "is_party_member": None,
        "honour": 12,
        "earned": 12,
    }


def test_the_party_ranking_stays_per_person_in_a_household_community(hh, client_for):
    def party() -> list[tuple[int, int, int]]:
        rows: Any = claims_selectors.ranking(
            community_id=hh.community1.pk, year=2026, party_only=True
        )
        return [(r.pk, r.honour, r.rank) for r in rows]

    # 王桂兰: +5 −3 on her own account, +5 by her claim on the household's; 赵秀英 5 + 5.
    assert party() == [(hh.resident2.pk, 10, 1), (hh.spouse.pk, 7, 2)]
    # A reversal of her claim's award (on the household's account) is hers too.
    with at(TODAY):
        ledger_services.reverse_entry(entry=hh.spouse_award, user=hh.committee1, reason="记错")
    assert party() == [(hh.resident2.pk, 10, 1), (hh.spouse.pk, 2, 2)]
    with at(TODAY):
        data = (
            client_for(hh.committee1)
            .get("/api/v1/rankings/", {"year": 2026, "party_only": True})
            .json()
        )
    assert [(r["resident"], r["per_household"], r["honour"]) for r in data["results"]] == [
        (hh.resident2.pk, False, 10),
        (hh.spouse.pk, False, 2),
    ]


def test_the_ranking_page_marks_my_household(hh):
    with at(TODAY):
        html = page(hh.spouse_user).get(reverse("points:me_ranking")).content.decode()
    assert 'id="my-rank"' in html and "赵爱国户" in html  # my household, in full
    assert "赵*英户" in html  # the others masked
    assert 'id="per-household"' in html


def test_the_dashboard_top_ranks_households_as_the_ranking_does(hh, client_for):
    with at(TODAY):
        data = (
            client_for(hh.committee1)
            .get("/api/v1/reports/dashboard/", {"quarter": "2026Q4"})
            .json()
        )
    top = [(r["rank"], r["name"], r["points"]) for r in data["ranking_top"]]
    assert top == [(1, "赵*国户", 12), (2, "赵*英户", 10)]


# ---------------------------------------------------------------------------- admin


def test_the_account_admin_lists_holders_units_and_honour_and_filters_by_unit(hh, staff_client):
    client = staff_client(hh.committee1, "view_account")
    url = reverse("admin:points_account_changelist")
    households = client.get(url, {"unit": "household"}).content.decode()
    assert hh.hh1.card_number in households and hh.hh2.card_number in households
    own = Account.objects.get(resident=hh.spouse)
    assert own.card_number not in households
    residents = client.get(url, {"unit": "resident"}).content.decode()
    assert own.card_number in residents and hh.hh1.card_number not in residents
    # By the head's name, and by words of the address.
    found = client.get(url, {"unit": "household", "q": "赵爱国"}).content.decode()
    assert hh.hh1.card_number in found and hh.hh2.card_number not in found
    by_address = client.get(url, {"unit": "household", "q": "20"}).content.decode()
    hh5 = Account.objects.get(shared_household=hh.household5)
    assert hh5.card_number in by_address and hh.hh1.card_number not in by_address


def test_the_entry_admin_filters_by_household_accounts(hh, staff_client):
    client = staff_client(hh.committee1, "view_entry")
    html = client.get(reverse("admin:points_entry_changelist"), {"unit": "household"})
    assert html.status_code == 200
    listed = html.context["cl"].result_list
    assert {e.account_id for e in listed} == {hh.hh1.pk, hh.hh2.pk}


def test_the_policy_admin_shows_the_unit_read_only_and_switches_back(hh, staff_client):
    client = staff_client(hh.superuser)
    policy = hh.community1.points_policy
    url = reverse("admin:points_policy_change", args=[policy.pk])
    html = client.get(url).content.decode()
    assert 'name="account_unit"' not in html  # read-only
    assert 'name="reset_month"' in html  # the yearly reset stays editable
    switch = reverse("admin:points_policy_switch_unit", args=[policy.pk])
    assert switch in html
    with at(TODAY):
        response = client.post(switch, {"to_unit": "resident"}, follow=True)
    policy.refresh_from_db()
    assert policy.account_unit == "resident"
    assert "resident" in " ".join(str(m) for m in response.context["messages"])


def test_the_street_admin_switches_a_community_the_committee_cannot(hh, staff_client):
    """The switch is the street's call (core.roles: street admins change the points policy;
    committees only read it)."""
    policy = hh.community1.points_policy
    switch = reverse("admin:points_policy_switch_unit", args=[policy.pk])
    with at(TODAY):
        refused = staff_client(hh.committee1).post(switch, {"to_unit": "resident"})
        assert refused.status_code == 403
        policy.refresh_from_db()
        assert policy.account_unit == "household"
        done = staff_client(hh.admin1).post(switch, {"to_unit": "resident"}, follow=True)
    assert done.status_code == 200
    policy.refresh_from_db()
    assert policy.account_unit == "resident"
    assert UnitSwitch.objects.filter(community=hh.community1, switched_by=hh.admin1).exists()


def test_the_policy_admin_shows_why_a_switch_is_refused(hh, staff_client):
    policy = hh.community1.points_policy
    switch = reverse("admin:points_policy_switch_unit", args=[policy.pk])
    # 2027Q1: 2026Q4 (with this community's entries) is not closed yet.
    with at(dt.date(2027, 1, 5)):
        client = staff_client(hh.superuser)
        response = client.post(switch, {"to_unit": "resident"}, follow=True)
    policy.refresh_from_db()
    assert policy.account_unit == "household"
    text = " ".join(str(m) for m in response.context["messages"])
    assert "2026Q4" in text


# ---------------------------------------------------------------------------- objections


def test_a_member_objects_to_an_entry_of_the_households_account(hh):
    with at(TODAY):
        r = api(hh.resident_user).post(
            "/api/v1/objections/", {"entry": hh.spouse_award.pk, "reason": "那天没有清扫"}
        )
        assert r.status_code == 201, r.content
        # Not a member of the household: the entry is not theirs to name (or refused).
        other = api(hh.resident2_user).post(
            "/api/v1/objections/", {"entry": hh.spouse_award.pk, "reason": "x"}
        )
        assert other.status_code in (400, 403, 404)
        assert not Objection.objects.filter(raised_by=hh.resident2_user).exists()
        objection = Objection.objects.get(pk=r.json()["id"])
        # The committee of the account's community decides it.
        objections_services.uphold_objection(objection=objection, user=hh.committee1, note="核实")
    hh.hh1.refresh_from_db()
    assert (hh.hh1.balance, hh.hh1.honour) == (3, 7)


def test_the_objections_page_lists_household_entries_after_the_quarter(hh):
    with at(dt.date(2027, 1, 3)):
        client = page(hh.spouse_user)
        html = client.get(reverse("points:me_objections")).content.decode()
        assert f'id="entry-{hh.spouse_award.pk}"' in html
        response = client.post(
            reverse("points:me_objections"), {"entry": hh.spouse_award.pk, "reason": "不对"}
        )
    assert response.status_code == 302
    assert Objection.objects.filter(entry=hh.spouse_award).exists()


# ---------------------------------------------------------------------------- SMS, field app


def test_a_household_card_texted_from_any_members_phone_gets_the_balance(hh):
    number = hh.hh1.card_number
    assert len(number) == 11 and card_number_in(f"查积分 {number}") == number
    for phone in ("13900000001", "13900000002"):  # the head's and 王桂兰's
        reply = reply_for(phone=phone, text=number)
        assert reply.template == BALANCE_TEMPLATE
        assert (reply.params["name"], reply.params["balance"]) == ("赵*国户", "8")
    assert reply_for(phone=hh.resident2.phone, text=number).template == NOT_FOUND_TEMPLATE


def test_the_field_bundle_shows_the_households_points_not_the_members(hh):
    with at(TODAY):
        bundle = api(hh.worker1.user).get("/api/v1/field/bundle/").json()
    household = next(h for h in bundle["households"] if h["id"] == hh.household1.pk)
    assert (household["balance"], household["honour"], household["card_number"]) == (
        8,
        12,
        hh.hh1.card_number,
    )
    members = [r for r in bundle["residents"] if r["household"] == hh.household1.pk]
    assert {r["balance"] for r in members} == {None}


# ---------------------------------------------------------------------------- the demo


@pytest.mark.django_db
def test_the_demo_counts_taishan_per_household_after_a_switch():
    from demo.seed import seed_demo
    from points.models import Policy, UnitSwitch

    seed_demo()
    policy = Policy.objects.get(community__code="taishan")
    assert policy.account_unit == "household"
    assert (policy.reset_month, policy.reset_day) == (12, 28)
    switch = UnitSwitch.objects.get(community__code="taishan")
    assert switch.points_moved > 0
    assert Entry.objects.filter(kind="transfer", source_id=switch.pk).exists()
    # 朱德荣 and 孙秀兰 share one account: both their claims' points are on it.
    zhu = Account.objects.get(shared_household__residents__name="朱德荣")
    moved_in = Entry.objects.get(account=zhu, kind="transfer")
    assert moved_in.amount == moved_in.honour == 3 + 1  # R05 +3, R01 +1
    assert not Policy.objects.filter(community__code="xzz", account_unit="household").exists()
    assert ledger_services.verify_ledger().ok
    again = seed_demo()
    assert not again.created_anything, again.created
