"""Rough edges found walking through the product as each role (issue 16, point 6): the claim
form's date, objections in the admin, wrong translations, statuses in words on timelines,
names instead of logins, and a grid worker ordering for a resident in the admin."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from points.models import CatalogItem, Entry, Order, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import objections as objections_services
from points.services import redemption as redemption_services
from residents.models import Need
from residents.services import needs as needs_services
from tests import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")


def chinese(user: Any) -> Client:
    """An admin client asking for Chinese pages, the roles' own permissions only."""
    user = getattr(user, "user", user)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def named(world):
    """The personas with names (姓名 in first_name), as the demo and the services set them."""
    for user, name in (
        (world.committee1, "王主任"),
        (world.worker1.user, "李网格"),
        (world.admin1, "张街道"),
    ):
        user.first_name = name
        user.save(update_fields=["first_name"])
    return world


@pytest.fixture
def rule(world) -> Rule:
    return Rule.objects.create(
        community=world.community1, code="clean", name="清扫门前", category="reward", points=5
    )


def test_the_claim_form_shows_today_as_its_date(world, rule):
    day = dt.datetime(2026, 12, 7, 9, tzinfo=SHANGHAI)
    with time_machine.travel(day, tick=False):
        page = chinese(world.worker1).get(reverse("admin:points_claim_add"))
    assert page.status_code == 200
    # type=date reads only ISO dates: a localised "2026年12月7日" would show an empty field.
    assert 'type="date" name="occurred_on" value="2026-12-07"' in page.content.decode()


def test_an_objection_shows_the_entrys_rule_date_and_points_and_reads_pending(named, rule):
    w = named
    with time_machine.travel(dt.datetime(2026, 11, 3, 10, tzinfo=SHANGHAI), tick=False):
        claim = claims_services.submit_claim(
            user=w.worker1.user, resident=w.resident1, rule=rule, occurred_on=dt.date(2026, 11, 2)
        )
        claims_services.approve_claim(claim=claim, approver=w.committee1)
        entry = Entry.objects.get(account__resident=w.resident1)
        objection = objections_services.raise_objection(
            user=w.resident_user, entry=entry, reason="那天没扫"
        )
        page = chinese(w.committee1).get(
            reverse("admin:points_objection_change", args=[objection.pk])
        )
        listing = chinese(w.committee1).get(reverse("admin:points_objection_changelist"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "清扫门前" in html and "2026-11-02" in html and "+5" in html
    assert "待处理" in html and "进行中" not in html
    assert "待处理" in listing.content.decode()


def test_admin_pages_say_history_as_django_does(world, rule):
    claim = claims_services.submit_claim(
        user=world.worker1.user, resident=world.resident1, rule=rule
    )
    page = chinese(world.committee1).get(reverse("admin:points_claim_change", args=[claim.pk]))
    html = page.content.decode()
    assert "积分明细" not in html  # the resident page's heading, not the admin's history link
    assert reverse("admin:points_claim_history", args=[claim.pk]) in html
    with translation.override("zh-hans"):
        assert translation.pgettext("points", "History") == "积分明细"
        assert translation.gettext("History") == "历史"


def test_printed_lists_head_the_points_column_with_points_not_the_app_name():
    with translation.override("zh-hans"):
        for template in ("points/purchase_list.html", "points/distribution_list.html"):
            html = render_to_string(template, {"rows": [], "period": None})
            assert '<th class="num">积分</th>' in html, template
            assert "积分管理" not in html


def test_the_road_light_and_water_category_reads_properly():
    with translation.override("zh-hans"):
        assert str(Need.Category.INFRASTRUCTURE.label) == "道路、路灯、供水"


def test_timelines_show_statuses_in_words_and_people_by_name(named):
    w = named
    need = needs_services.record_need(
        user=w.worker1.user,
        resident=w.resident1,
        category=Need.Category.INFRASTRUCTURE,
        title="路灯坏了",
        text="村口路灯不亮",
        source=Need.Source.PATROL,
    )
    needs_services.accept_need(user=w.worker1.user, need=need)
    su = f.UserFactory(username="root-su", is_superuser=True, is_staff=True)
    page = chinese(su).get(reverse("admin:residents_need_change", args=[need.pk]))
    html = page.content.decode()
    assert "待受理" in html and "已受理" in html
    assert '<td class="field-from_label"><p>new</p></td>' not in html
    assert "李网格" in html
    api = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    api.force_authenticate(w.worker1.user)
    events = api.get(f"/api/v1/needs/{need.pk}/events/").json()["results"]
    accepted = [e for e in events if e["to_status"] == "accepted"][0]
    assert (accepted["from_status_label"], accepted["to_status_label"]) == ("待受理", "已受理")


def test_admin_lists_show_names_not_logins(named, rule):
    w = named
    claims_services.submit_claim(user=w.worker1.user, resident=w.resident1, rule=rule)
    html = chinese(w.committee1).get(reverse("admin:points_claim_changelist")).content.decode()
    assert "李网格" in html and ">worker1<" not in html


@pytest.fixture
def shop(world, rule):
    """An open window for community1, a catalog, and 5 points on resident1's account."""
    with time_machine.travel(dt.datetime(2026, 10, 2, 9, tzinfo=SHANGHAI), tick=False):
        claim = claims_services.submit_claim(
            user=world.worker1.user, resident=world.resident1, rule=rule
        )
        claims_services.approve_claim(claim=claim, approver=world.committee1)
        redemption_services.open_redemption(
            period=ledger_services.period_for(dt.date(2026, 10, 2)),
            community=world.community1,
            opens_on=dt.date(2026, 10, 1),
            closes_on=dt.date(2026, 10, 31),
            user=world.admin1,
        )
    soap = CatalogItem.objects.create(community=world.community1, name="香皂", points=2)
    towel = CatalogItem.objects.create(community=world.community1, name="毛巾", points=4)
    return {"soap": soap, "towel": towel}


def test_a_grid_worker_orders_for_a_resident_in_the_admin(world, shop):
    client = chinese(world.worker1)
    add = reverse("admin:points_order_add")
    with time_machine.travel(dt.datetime(2026, 10, 3, 9, tzinfo=SHANGHAI), tick=False):
        assert client.get(add).status_code == 200
        # Past the balance (5 points): refused in Chinese on the form, nothing written.
        r = client.post(
            add,
            {"resident": world.resident1.pk, "item1": shop["towel"].pk, "quantity1": 2},
        )
        assert r.status_code == 200 and not Order.objects.exists()
        assert "积分" in r.content.decode() and "errorlist" in r.content.decode()
        r = client.post(
            add,
            {
                "resident": world.resident1.pk,
                "item1": shop["soap"].pk,
                "quantity1": 1,
                "item2": shop["soap"].pk,
                "quantity2": 1,
            },
        )
    assert r.status_code == 302, r.content[:600]
    order = Order.objects.get()
    assert (order.resident, order.total_points) == (world.resident1, 4)
    assert ledger_services.verify_ledger().ok


def test_a_role_that_does_not_order_gets_a_chinese_message_not_a_bare_403(world, shop):
    client = chinese(world.admin1)  # the street admin runs the window, not the orders
    r = client.get(reverse("admin:points_order_add"), follow=True)
    assert r.status_code == 200
    assert "网格员" in r.content.decode()
    assert not Order.objects.exists()
