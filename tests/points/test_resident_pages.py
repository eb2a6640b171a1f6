"""A resident's rules, ranking, objections and shop on /me/ (issue 16), in Chinese.

Personas from tests/conftest.py: `resident` is 赵爱国 of grid 1 (community 1, 新庄赵村);
赵秀英 lives in grid 2 of the same community; worker1/worker2 work grids 1/2.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from points.models import CatalogItem, Claim, Entry, Objection, Order, Policy, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services
from tests import factories as f

pytestmark = pytest.mark.django_db

Q3 = dt.date(2026, 7, 1)  # 2026Q3 ends 09-30; with the default 7 days, objections until 10-07
IN_Q3 = dt.date(2026, 8, 10)
INSIDE_WINDOW = dt.date(2026, 10, 5)
AFTER_WINDOW = dt.date(2026, 10, 20)


def at(day: dt.date) -> time_machine.travel:
    return time_machine.travel(
        dt.datetime.combine(day, dt.time(10), ZoneInfo("Asia/Shanghai")), tick=False
    )


def chinese(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def page_of(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def rules(world: Any) -> dict[str, Rule]:
    def rule(code: str, name: str, category: str, points: int, **kw: Any) -> Rule:
        return Rule.objects.create(
            community=world.community1, code=code, name=name, category=category, points=points,
            **kw,
        )  # fmt: skip

    return {
        "clean": rule("R01", "清扫责任区", "reward", 1, cap_per_quarter=3),
        "idea": rule("R02", "建议被采纳", "reward", 10, up_to=True),
        "base": rule("R00", "户籍在村", "base", 5),
        "bad": rule("R09", "违反村规民约", "deduction", 5),
        "other": Rule.objects.create(
            community=world.community2,
            code="T01",
            name="泰山社区的细则",
            category="reward",
            points=2,
        ),  # fmt: skip
    }


def award(world: Any, rule: Rule, resident: Any, points: int | None = None, **kw: Any) -> Claim:
    worker = world.worker1 if resident.household.grid_id == world.grid1.pk else world.worker2
    claim = claims_services.submit_claim(
        user=worker.user, resident=resident, rule=rule, points=points, **kw
    )
    return claims_services.approve_claim(claim=claim, approver=world.committee1)


# ---------------------------------------------------------------------------- the rules


def test_a_resident_reads_their_communitys_rules_with_points_and_caps(world, rules):
    page = page_of(chinese(world.resident_user).get("/me/rules/"))
    for text in ("积分细则", "清扫责任区", "建议被采纳", "违反村规民约", "户籍在村"):
        assert text in page, text
    assert "泰山社区的细则" not in page  # another community's book
    assert "每季度最多 3 分" in page  # the cap
    assert re.search(r"最高</span>\+10", page)  # an "up to" rule
    assert "−5" in page  # a deduction
    assert page.index("户籍在村") < page.index("清扫责任区") < page.index("违反村规民约")


def test_the_rules_page_is_for_residents(world, rules):
    response = chinese(world.worker1.user).get("/me/rules/")
    assert "清扫责任区" not in page_of(response)


# ---------------------------------------------------------------------------- the ranking


def test_the_annual_ranking_masks_other_names_and_shows_mine(world, rules):
    award(world, rules["idea"], world.resident2, points=9)  # 赵秀英, grid 2
    award(world, rules["idea"], world.resident1, points=4)  # 赵爱国, the resident
    world.resident2.is_party_member = True
    world.resident2.save(update_fields=["is_party_member"])
    client = chinese(world.resident_user)
    page = page_of(client.get("/me/ranking/"))
    assert "年度排名" in page
    assert "赵秀英" not in page and "赵*英" in page  # masked, as on the notice
    assert "赵爱国" in page  # one's own name in full
    assert page.index("赵*英") < page.index("赵爱国")
    mine = re.search(r'<li class="me" id="my-rank">\s*<span class="rank[^"]*">(\d+)<', page)
    assert mine and mine.group(1) == "2"
    assert "外村" not in page and "李明" not in page  # another street's resident
    party = page_of(client.get("/me/ranking/?party=1"))
    assert "赵*英" in party and "赵爱国" not in party and "优秀党员" in party


def test_a_ranking_year_out_of_range_falls_back_to_this_year(world, rules):
    response = chinese(world.resident_user).get("/me/ranking/?year=1999")
    assert response.status_code == 200 and response.context["year"] == dt.date.today().year


# ---------------------------------------------------------------------------- objections


@pytest.fixture
def q3_entry(world: Any, rules: dict[str, Rule]) -> Entry:
    """赵爱国's award of 2026Q3 (posted in August)."""
    with at(IN_Q3):
        award(world, rules["idea"], world.resident1, points=6, note="提建议")
    return Entry.objects.get(account__resident=world.resident1)


def test_a_resident_objects_to_an_entry_inside_the_window(world, q3_entry):
    client = chinese(world.resident_user)
    with at(INSIDE_WINDOW):
        page = page_of(client.get("/me/objections/"))
        assert "2026Q3 季度公示" in page and "异议受理至 2026-10-07" in page
        assert f'name="entry" value="{q3_entry.pk}"' in page and "建议被采纳" in page
        response = client.post("/me/objections/", {"entry": q3_entry.pk, "reason": "我提了两条"})
        assert response.status_code == 302
        after = page_of(client.get(response["Location"]))
    objection = Objection.objects.get()
    assert (objection.entry, objection.raised_by, objection.reason) == (
        q3_entry,
        world.resident_user,
        "我提了两条",
    )
    assert "异议已提交" in after and "我的异议" in after
    assert f'name="entry" value="{q3_entry.pk}"' not in after  # one open objection at a time


def test_an_objection_outside_the_window_is_refused_with_a_clear_message(world, q3_entry):
    client = chinese(world.resident_user)
    with at(AFTER_WINDOW):
        page = page_of(client.get("/me/objections/"))
        assert "异议期已于 2026-10-07 结束" in page
        assert 'name="reason"' not in page  # no form
        response = client.post("/me/objections/", {"entry": q3_entry.pk, "reason": "不对"})
    assert response.status_code == 400
    assert "2026-10-07" in page_of(response) and 'role="alert"' in page_of(response)
    assert not Objection.objects.exists()


def test_an_objection_without_a_reason_keeps_the_form_and_says_why(world, q3_entry):
    with at(INSIDE_WINDOW):
        response = chinese(world.resident_user).post(
            "/me/objections/", {"entry": q3_entry.pk, "reason": "  "}
        )
    assert response.status_code == 400
    assert "<details open>" in page_of(response)
    assert not Objection.objects.exists()


def test_a_resident_cannot_object_to_another_residents_entry(world, rules):
    with at(IN_Q3):
        award(world, rules["idea"], world.resident2, points=3)
    other = Entry.objects.get(account__resident=world.resident2)
    with at(INSIDE_WINDOW):
        response = chinese(world.resident_user).post(
            "/me/objections/", {"entry": other.pk, "reason": "不对"}
        )
    assert response.status_code == 404
    assert not Objection.objects.exists()


def test_the_notice_links_a_resident_to_their_objections(world, q3_entry):
    with at(INSIDE_WINDOW):
        page = page_of(chinese(world.resident_user).get(f"/notice/2026Q3/{world.grid1.pk}/"))
    assert 'href="/me/objections/"' in page and "对我的积分提出异议" in page


# ---------------------------------------------------------------------------- the shop

OPENS, CLOSES = dt.date(2026, 10, 1), dt.date(2026, 10, 7)


@pytest.fixture
def shop(world: Any) -> dict[str, CatalogItem]:
    """Community 1's window of 2026Q3 (10-01 to 10-07, collect at 村委会), 25 points for 赵爱国."""
    q3 = ledger_services.period_for(Q3)
    with at(dt.date(2026, 9, 30)):
        redemption_services.open_redemption(
            period=q3, community=world.community1, opens_on=OPENS, closes_on=CLOSES,
            user=world.admin1, pickup_place="村委会一楼", pickup_time="10月12日 上午9:00–11:30",
        )  # fmt: skip
    ledger_services.post_entry(
        account=ledger_services.account_for(world.resident1), amount=25, kind="award",
        key="seed", period=q3,
    )  # fmt: skip

    def item(name: str, points: int) -> CatalogItem:
        return CatalogItem.objects.create(
            community=world.community1, name=name, points=points, unit="个"
        )

    return {"soap": item("香皂", 10), "towel": item("毛巾", 20), "shampoo": item("洗发水", 30)}


def row_of(page: str, item: CatalogItem) -> str:
    match = re.search(rf'<li[^>]*data-item="{item.pk}".*?</li>', page, re.S)
    assert match, item.name
    return match.group()


def test_the_shop_greys_what_the_balance_cannot_pay_for(world, shop):
    with at(dt.date(2026, 10, 3)):
        page = page_of(chinese(world.resident_user).get("/me/"))
    soap, towel, shampoo = (row_of(page, shop[k]) for k in ("soap", "towel", "shampoo"))
    assert "unaffordable" not in soap and "disabled" not in soap and "还差" not in soap
    assert "unaffordable" not in towel
    assert 'class="unaffordable"' in shampoo and "disabled" in shampoo
    assert "还差 5 分" in shampoo  # 30 − 25


def test_without_a_window_the_page_says_so_and_when_the_next_is_expected(world):
    client = chinese(world.resident_user)
    with at(dt.date(2026, 11, 10)):
        page = page_of(client.get("/me/"))
        assert "现在不是兑换时间" in page and "村（居）委会通知" in page
        Policy.objects.create(community=world.community1, auto_open_redemption=True)
        expected = page_of(client.get("/me/"))
    assert "预计 2027-01-01" in expected  # the day after 2026Q4 ends


def test_without_a_window_an_announced_next_window_is_shown(world, shop):
    with at(dt.date(2026, 9, 20)):
        page = page_of(chinese(world.resident_user).get("/me/"))
    assert "现在不是兑换时间" in page and "2026-10-01" in page


def test_after_ordering_the_page_says_where_and_when_to_collect(world, shop):
    client = chinese(world.resident_user)
    with at(dt.date(2026, 10, 3)):
        response = client.post("/me/orders/", {"token": "t-1", f"qty-{shop['soap'].pk}": "2"})
        assert response.status_code == 302
        page = page_of(client.get("/me/"))
    order = Order.objects.get()
    pickup = re.search(rf'<dl class="pickup" id="pickup-{order.pk}">.*?</dl>', page, re.S)
    assert pickup, "the pickup block of the order"
    block = pickup.group()
    assert "村委会一楼" in block and "10月12日 上午9:00–11:30" in block
    assert "2026-10-21" in block  # the window's end + the default 14 collection days


def test_without_pickup_details_the_order_says_the_committee_will_tell(world, shop):
    window = shop["soap"].community.redemption_windows.get()
    window.pickup_place = window.pickup_time = ""
    window.save()
    client = chinese(world.resident_user)
    with at(dt.date(2026, 10, 3)):
        client.post("/me/orders/", {"token": "t-2", f"qty-{shop['soap'].pk}": "1"})
        page = page_of(client.get("/me/"))
    assert "由村（居）委会通知" in page and "兑换结束后统一发放" in page


def test_the_me_page_links_every_resident_page(world):
    page = page_of(chinese(world.resident_user).get("/me/"))
    for href in ("/me/needs/new/", "/me/needs/", "/me/rules/", "/me/ranking/", "/me/objections/"):
        assert f'href="{href}"' in page, href
    assert "我要反映" in page and "积分细则" in page and "公示与异议" in page


def test_the_resident_pages_ask_for_a_login(world):
    for url in ("/me/rules/", "/me/ranking/", "/me/objections/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_window_set_through_the_api_carries_its_pickup(world, client_for):
    q3 = ledger_services.period_for(Q3)
    with at(dt.date(2026, 9, 30)):
        response = client_for(world.admin1).post(
            "/api/v1/redemption-windows/",
            {
                "period": q3.code,
                "community": world.community1.pk,
                "opens_on": "2026-10-01",
                "closes_on": "2026-10-07",
                "pickup_place": "村委会",
                "pickup_time": "10月12日",
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    assert (response.json()["pickup_place"], response.json()["pickup_time"]) == (
        "村委会",
        "10月12日",
    )


def test_an_outsider_gets_no_resident_data(world, rules):
    stranger = f.UserFactory(username="nobody")
    assert "清扫责任区" not in page_of(chinese(stranger).get("/me/rules/"))
    assert "赵爱国" not in page_of(chinese(stranger).get("/me/ranking/"))
