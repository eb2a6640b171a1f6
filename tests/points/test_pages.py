"""The residents' pages (/me/, the login), the public notice and the points cards.

Personas from tests/conftest.py: `resident` is 赵爱国 of grid 1 (community 1, 新庄赵村);
worker1 works grid 1, worker2 grid 2 of the same community; committee1 sits in community 1.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from points import pages
from points.models import Account, CatalogItem, Claim, Order, Period, Policy, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services
from tests import factories as f


@pytest.fixture
def rules(world: Any) -> dict[str, Rule]:
    def rule(code: str, category: str, points: int, **kw: Any) -> Rule:
        return Rule.objects.create(
            community=world.community1, code=code, name=code, category=category, points=points,
            **kw,
        )  # fmt: skip

    return {
        "clean": rule("clean", "reward", 1),
        "idea": rule("idea", "reward", 10, up_to=True),
        "rules": rule("rules", "deduction", 5),
    }


def award(world: Any, rule: Rule, resident: Any, points: int | None = None, **kw: Any) -> Claim:
    """A claim by the grid's worker, approved by the committee: the road the points take."""
    worker = world.worker1 if resident.household.grid_id == world.grid1.pk else world.worker2
    claim = claims_services.submit_claim(
        user=worker.user, resident=resident, rule=rule, points=points, **kw
    )
    return claims_services.approve_claim(claim=claim, approver=world.committee1)


@pytest.fixture
def ledger(world: Any, rules: dict[str, Rule]) -> Period:
    """赵爱国 (grid 1): +1, +7, −5 this quarter, balance 3. 赵秀英 (grid 2): +4."""
    award(world, rules["clean"], world.resident1, note="扫门前")
    award(world, rules["idea"], world.resident1, points=7)
    award(world, rules["rules"], world.resident1)
    award(world, rules["idea"], world.resident2, points=4)
    return ledger_services.current_period()


def client_for(user: Any | None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def card_of(resident: Any) -> str:
    return Account.objects.get(resident=resident).card_number


def login_redirect(next_url: str) -> str:
    return f"{reverse('login')}?next={next_url}"


# ---------------------------------------------------------------------------- /me/


def test_resident_sees_their_balance_earned_points_card_number_and_history(world, ledger):
    response = client_for(world.resident_user).get("/me/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'id="balance">3<', page)
    assert re.search(r'id="earned">3<', page)  # 1 + 7 − 5, all in this quarter
    assert card_of(world.resident1) in page
    assert [line.entry.amount for line in response.context["lines"]] == [-5, 7, 1]
    assert [line.entry.balance_after for line in response.context["lines"]] == [3, 8, 1]
    assert "+7" in page and "-5" in page
    assert "clean · 扫门前" in page  # the rule behind the entry, and the claim's note
    assert timezone.localdate().isoformat() in page
    assert "赵秀英" not in page


def test_me_page_is_made_for_a_360_px_phone(world, ledger):
    page = client_for(world.resident_user).get("/me/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    css = "\n".join(re.findall(r"<style>(.*?)</style>", page, flags=re.S))
    assert css, "the page carries its own small stylesheet"
    fixed = re.findall(r"(?<![-\w])(?:min-)?width\s*:\s*([\d.]+)(px|mm|cm|in)", css)
    assert all(unit == "px" and float(n) <= 360 for n, unit in fixed), fixed
    assert "<script" not in page  # no framework, nothing to download
    assert "//" not in re.sub(r"/\*.*?\*/", "", css, flags=re.S)  # no CDN, no remote font


def test_history_shows_twenty_entries_a_page(world, rules):
    for _ in range(25):
        claims_services.submit_claim(
            user=world.worker1.user, resident=world.resident1, rule=rules["idea"], points=1
        )
    claims_services.bulk_approve_claims(claims=Claim.objects.all(), approver=world.committee1)
    client = client_for(world.resident_user)

    first = client.get("/me/")
    assert [line.entry.seq for line in first.context["lines"]] == list(range(25, 5, -1))
    assert "Page 1 of 2" in first.content.decode()
    second = client.get("/me/?page=2")
    assert [line.entry.seq for line in second.context["lines"]] == [5, 4, 3, 2, 1]
    assert client.get("/me/?page=junk").status_code == 200  # the first page, not an error


def test_resident_with_no_account_yet_gets_one_on_their_first_visit(world):
    response = client_for(world.resident_user).get("/me/")
    assert response.status_code == 200
    account = Account.objects.get(resident=world.resident1)
    assert account.balance == 0
    assert account.card_number in response.content.decode()
    assert "No points yet." in response.content.decode()


def test_anonymous_visitor_of_me_is_sent_to_the_login_page(db):
    response = client_for(None).get("/me/")
    assert response.status_code == 302
    assert response.url == login_redirect("/me/")


def test_user_who_is_not_a_resident_is_told_the_page_is_for_residents(world):
    world.worker1.user.is_staff = True
    world.worker1.user.save(update_fields=["is_staff"])
    response = client_for(world.worker1.user).get("/me/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This page is for residents" in page
    assert 'href="/admin/"' in page

    page = client_for(world.stranger).get("/me/").content.decode()
    assert "This page is for residents" in page
    assert 'href="/admin/"' not in page  # not staff: no way in there


# ---------------------------------------------------------------------------- logging in


def test_resident_logs_in_on_the_login_page_and_lands_on_me(world, ledger):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    login_page = client.get(reverse("login"))
    assert login_page.status_code == 200
    assert 'name="viewport"' in login_page.content.decode()

    response = client.post(
        reverse("login"), {"username": "resident", "password": "pw"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/me/"
    assert re.search(r'id="balance">3<', response.content.decode())


def test_login_sends_the_resident_back_to_the_page_they_asked_for(world, ledger):
    card = reverse("points:card", args=[card_of(world.resident1)])
    response = Client().post(
        reverse("login"), {"username": "resident", "password": "pw", "next": card}
    )
    assert response.status_code == 302
    assert response.url == card


def test_a_wrong_password_shows_the_login_page_again(world):
    response = client_for(None).post(reverse("login"), {"username": "resident", "password": "x"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_logout_is_a_post_and_ends_the_session(world):
    client = client_for(world.resident_user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/me/").status_code == 302


def test_the_front_door_sends_a_resident_to_me_and_staff_to_the_admin(world):
    assert client_for(world.resident_user).get("/").url == "/me/"
    assert client_for(world.superuser).get("/").url == "/admin/"
    # A visitor not logged in chooses (issue 13): the residents' login, or the admin's.
    page = client_for(None).get("/").content.decode()
    assert 'href="/accounts/login/?next=/me/"' in page and 'href="/admin/"' in page


# ---------------------------------------------------------------------------- public notice


def notice_url(period: Period, grid: Any) -> str:
    return reverse("points:notice", args=[period.code, grid.pk])


def test_notice_shows_masked_names_addresses_and_the_quarters_numbers(world, rules, ledger):
    neighbour = f.ResidentFactory(household=world.household1, name="赵国强")
    Policy.objects.create(community=world.community1, objection_days=10)

    response = client_for(world.committee1).get(notice_url(ledger, world.grid1))
    assert response.status_code == 200
    rows = [(r.name, r.address, r.earned, r.balance) for r in response.context["rows"]]
    address = world.household1.address
    assert rows == [("赵*国", address, 3, 3), ("赵*强", address, 0, 0)]
    page = response.content.decode()
    assert "赵*国" in page and "赵*强" in page
    assert "赵爱国" not in page and neighbour.name not in page
    assert "赵秀英" not in page and "赵*英" not in page  # grid 2 has its own notice
    assert "新庄赵村" in page and world.grid1.name in page and ledger.code in page
    deadline = ledger.ends_on + dt.timedelta(days=10)
    assert deadline.isoformat() in page
    assert "@page { size: A4" in page


def test_notice_counts_only_the_points_earned_in_that_quarter(world, rules, ledger):
    previous_day = ledger.starts_on - dt.timedelta(days=1)
    earlier = ledger_services.period_for(previous_day)
    response = client_for(world.committee1).get(notice_url(earlier, world.grid1))
    assert [(r.earned, r.balance) for r in response.context["rows"]] == [(0, 3)]


@pytest.mark.parametrize(
    ("who", "grid", "status"),
    [
        ("worker1", "grid1", 200),
        ("committee1", "grid2", 200),
        ("admin1", "grid1", 200),
        ("resident_user", "grid1", 200),  # the resident's own grid
        ("worker2", "grid1", 404),
        ("committee3", "grid1", 404),
        ("admin2", "grid1", 404),
        ("resident_user", "grid2", 404),
        ("stranger", "grid1", 404),
    ],
)
def test_notice_is_shown_inside_the_scope_and_not_found_outside(world, ledger, who, grid, status):
    user = getattr(world, who)
    user = getattr(user, "user", user)  # a GridWorker carries its login
    response = client_for(user).get(notice_url(ledger, getattr(world, grid)))
    assert response.status_code == status


def test_notice_asks_an_anonymous_visitor_to_log_in(world, ledger):
    url = notice_url(ledger, world.grid1)
    assert client_for(None).get(url).url == login_redirect(url)


def test_notice_of_an_unknown_quarter_is_not_found(world):
    response = client_for(world.committee1).get(f"/notice/1999Q1/{world.grid1.pk}/")
    assert response.status_code == 404


# ---------------------------------------------------------------------------- cards


def test_card_sheet_has_one_qr_code_per_resident_encoding_the_card_url(world, monkeypatch):
    extra = [f.ResidentFactory(household=world.household1) for _ in range(2)]
    encoded: list[str] = []
    make = pages.segno.make

    def spy(data: str, **kwargs: Any) -> Any:
        encoded.append(data)
        return make(data, **kwargs)

    monkeypatch.setattr(pages.segno, "make", spy)
    response = client_for(world.worker1.user).get(
        reverse("points:card_sheet", args=[world.grid1.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()

    residents = [world.resident1, *extra]
    numbers = [card_of(r) for r in residents]  # the sheet opened the missing accounts
    assert page.count("<svg") == len(residents)
    assert sorted(encoded) == sorted(f"http://testserver/cards/{n}/" for n in numbers)
    for resident, number in zip(residents, numbers, strict=True):
        assert number in page
        assert resident.name in page  # the card belongs to the resident: full name
    assert world.resident2.name not in page
    assert "@page { size: A4" in page


@pytest.mark.parametrize("who", ["worker2", "committee3", "resident_user", "stranger"])
def test_card_sheet_of_a_grid_outside_the_scope_is_not_found(world, who):
    user = getattr(world, who)
    user = getattr(user, "user", user)
    response = client_for(user).get(reverse("points:card_sheet", args=[world.grid1.pk]))
    assert response.status_code == 404
    assert not Account.objects.exists()  # and opened no account on the way


def test_grid_worker_scanning_a_card_sees_the_balance_and_the_last_five_entries(world, rules):
    for points in range(1, 8):
        award(world, rules["idea"], world.resident1, points=points)
    number = card_of(world.resident1)
    response = client_for(world.worker1.user).get(reverse("points:card", args=[number]))
    assert response.status_code == 200
    page = response.content.decode()
    assert world.resident1.name in page and number in page
    assert re.search(r'id="balance">28<', page)
    assert re.search(r'id="earned">28<', page)
    assert [line.entry.amount for line in response.context["lines"]] == [7, 6, 5, 4, 3]


def test_scanning_a_card_while_logged_out_leads_to_the_login_page(world, ledger):
    url = reverse("points:card", args=[card_of(world.resident1)])
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response.url == login_redirect(url)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("worker1", 200),
        ("committee1", 200),
        ("admin1", 200),
        ("resident_user", 200),  # their own card
        ("worker2", 404),  # the same community, another grid
        ("committee3", 404),
        ("stranger", 404),
    ],
)
def test_a_card_is_shown_inside_the_scope_and_not_found_outside(world, ledger, who, status):
    user = getattr(world, who)
    user = getattr(user, "user", user)
    url = reverse("points:card", args=[card_of(world.resident1)])
    assert client_for(user).get(url).status_code == status


def test_a_resident_cannot_open_a_neighbours_card_or_an_unknown_number(world, ledger):
    client = client_for(world.resident_user)
    assert client.get(reverse("points:card", args=[card_of(world.resident2)])).status_code == 404
    assert client.get(reverse("points:card", args=["0000000000"])).status_code == 404


def test_card_page_offers_a_claim_to_a_worker_who_may_claim(world, ledger):
    from django.contrib.auth.models import Permission

    user = world.worker1.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(codename="add_claim"))
    url = reverse("points:card", args=[card_of(world.resident1)])
    page = client_for(user).get(url).content.decode()
    assert f"/admin/points/claim/add/?resident={world.resident1.pk}" in page
    page = client_for(world.resident_user).get(url).content.decode()
    assert "/admin/points/claim/add/" not in page


# ---------------------------------------------------------------------------- ordering on /me/

Q3 = dt.date(2026, 7, 1)
OPENS, CLOSES = dt.date(2026, 10, 1), dt.date(2026, 10, 7)
INSIDE = dt.date(2026, 10, 3)


def at(day: dt.date) -> time_machine.travel:
    moment = dt.datetime.combine(day, dt.time(10), ZoneInfo("Asia/Shanghai"))
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def shop(world: Any) -> dict[str, Any]:
    """Community 1's catalog, its window of 2026Q3 (10-01 to 10-07), 50 points for each of
    赵爱国 (grid 1) and 赵秀英 (grid 2)."""
    q3 = ledger_services.period_for(Q3)
    with at(dt.date(2026, 9, 30)):
        redemption_services.open_redemption(
            period=q3, community=world.community1, opens_on=OPENS, closes_on=CLOSES,
            user=world.admin1,
        )  # fmt: skip
    for resident in (world.resident1, world.resident2):
        ledger_services.post_entry(
            account=ledger_services.account_for(resident), amount=50, kind="award", key="seed",
            period=q3,
        )  # fmt: skip

    def item(name: str, points: int, **kw: Any) -> CatalogItem:
        return CatalogItem.objects.create(
            community=world.community1, name=name, points=points, unit="个", **kw
        )

    return {
        "soap": item("香皂", 10, limit_per_quarter=2),
        "towel": item("毛巾", 20),
        "old": item("旧货", 10, active=False),
        "other": CatalogItem.objects.create(community=world.community2, name="外村香皂", points=5),
    }


def order_form(shop: dict[str, Any], token: str = "t-1", **quantities: int) -> dict[str, Any]:
    form: dict[str, Any] = {"token": token}
    for name, quantity in quantities.items():
        form[f"qty-{shop[name].pk}"] = str(quantity)
    return form


def balance_of(resident: Any) -> int:
    return Account.objects.get(resident=resident).balance


def test_the_order_section_appears_only_while_the_window_is_open(world, shop):
    client = client_for(world.resident_user)
    with at(dt.date(2026, 9, 20)):
        before = client.get("/me/").content.decode()
    assert 'id="redeem"' not in before and "毛巾" not in before
    assert 'id="next-window"' in before and "2026-10-01" in before  # when it opens
    with at(INSIDE):
        page = client.get("/me/").content.decode()
    assert 'id="redeem"' in page and "Redeem points" in page
    assert f'action="{reverse("points:me_order")}"' in page and "csrfmiddlewaretoken" in page
    assert re.search(r'name="token" value="[0-9a-f]{32}"', page)
    for name in ("香皂", "毛巾"):
        assert name in page
    assert "旧货" not in page and "外村香皂" not in page  # inactive, another community's
    assert f'name="qty-{shop["soap"].pk}" min="0" max="2"' in page  # the limit, all left
    assert "2 more this quarter" in page and "20 points" in page
    assert "<script" not in page
    with at(CLOSES + dt.timedelta(days=1)):
        after = client.get("/me/").content.decode()
    assert 'id="redeem"' not in after and 'name="token"' not in after


def test_ordering_debits_the_balance_and_shows_the_order(world, shop):
    client = client_for(world.resident_user)
    with at(INSIDE):
        response = client.post("/me/orders/", order_form(shop, soap=1, towel=2))
        assert response.status_code == 302 and response.url == "/me/#orders"
        page = client.get("/me/")
    order = Order.objects.get()
    assert (order.resident, order.placed_by, order.total_points) == (
        world.resident1, world.resident_user, 50
    )  # fmt: skip
    assert sorted((line.item.name, line.quantity) for line in order.lines.all()) == [
        ("毛巾", 2), ("香皂", 1)
    ]  # fmt: skip
    assert balance_of(world.resident1) == 0
    html = page.content.decode()
    assert "Order placed: 50 points were debited." in html  # the message, once
    assert re.search(r'id="balance">0<', html)
    assert f'id="order-{order.pk}"' in html and "毛巾 × 2" in html and "Total 50 points" in html
    assert "Placed" in html
    assert f'name="qty-{shop["soap"].pk}" min="0" max="1"' in html  # one soap left
    assert reverse("points:me_cancel_order", args=[order.pk]) in html


def test_an_overdraw_shows_the_message_keeps_the_quantities_and_creates_nothing(world, shop):
    with at(INSIDE):
        response = client_for(world.resident_user).post("/me/orders/", order_form(shop, towel=3))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="order-errors"' in html
    assert "Not enough points: the balance is 50, this needs 60." in html
    assert html.index('id="order-errors"') < html.index('name="token"')  # atop the form
    typed = re.search(rf'<input [^>]*name="qty-{shop["towel"].pk}"[^>]*>', html).group()
    assert 'value="3"' in typed  # the quantity as typed
    assert 'name="token" value="t-1"' in html  # nothing stored: the same form may be resent
    assert not Order.objects.exists()
    assert balance_of(world.resident1) == 50


def test_a_passed_limit_and_an_empty_form_are_refused_with_a_message(world, shop):
    client = client_for(world.resident_user)
    with at(INSIDE):
        limit = client.post("/me/orders/", order_form(shop, soap=3))
        empty = client.post("/me/orders/", order_form(shop, token="t-2", soap=0))
        junk = client.post("/me/orders/", order_form(shop, token="t-3") | {
            f"qty-{shop['towel'].pk}": "-1"
        })  # fmt: skip
    assert limit.status_code == empty.status_code == junk.status_code == 400
    assert "limited to 2 per resident" in limit.content.decode()
    assert "Order at least one item." in empty.content.decode()
    assert "Enter a whole number of 0 or more for 毛巾." in junk.content.decode()
    assert not Order.objects.exists()


def test_cancelling_on_me_refunds_the_points(world, shop):
    client = client_for(world.resident_user)
    with at(INSIDE):
        client.post("/me/orders/", order_form(shop, towel=1))
        order = Order.objects.get()
        assert balance_of(world.resident1) == 30
        response = client.post(reverse("points:me_cancel_order", args=[order.pk]))
        assert response.status_code == 302
        html = client.get("/me/").content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert balance_of(world.resident1) == 50
    assert "Order cancelled: 20 points were refunded." in html
    assert reverse("points:me_cancel_order", args=[order.pk]) not in html  # no second cancel
    assert ledger_services.verify_ledger().ok


def test_a_repeated_form_token_creates_one_order(world, shop):
    client = client_for(world.resident_user)
    form = order_form(shop, token="double-tap", towel=1)
    with at(INSIDE):
        first = client.post("/me/orders/", form)
        second = client.post("/me/orders/", form)
        html = client.get("/me/").content.decode()
    assert first.status_code == second.status_code == 302
    assert Order.objects.count() == 1
    assert balance_of(world.resident1) == 30
    assert "This order was already sent; nothing more was ordered." in html
    # Another resident's form with the same token is their own: tokens are per user.
    other = f.UserFactory(username="xiuying", groups=["resident"])
    world.resident2.user = other
    world.resident2.save(update_fields=["user"])
    with at(INSIDE):
        assert client_for(other).post("/me/orders/", form).status_code == 302
    assert Order.objects.count() == 2


def test_the_order_form_wants_a_token_and_csrf(world, shop):
    with at(INSIDE):
        no_token = client_for(world.resident_user).post("/me/orders/", order_form(shop, token=""))
        assert no_token.status_code == 302
        strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
        strict.force_login(world.resident_user)
        assert strict.post("/me/orders/", order_form(shop, towel=1)).status_code == 403
        assert client_for(world.resident_user).get("/me/orders/").status_code == 405
    assert not Order.objects.exists()


def test_ordering_outside_the_window_is_refused_on_me(world, shop):
    with at(CLOSES + dt.timedelta(days=1)):
        response = client_for(world.resident_user).post("/me/orders/", order_form(shop, towel=1))
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_anonymous_order_and_cancel_go_to_the_login_page(world, shop):
    with at(INSIDE):
        order = redemption_services.place_order(
            user=world.resident_user, resident=world.resident1, lines=[(shop["towel"], 1)]
        )
        anonymous = client_for(None)
        placed = anonymous.post("/me/orders/", order_form(shop, towel=1))
        cancel_url = reverse("points:me_cancel_order", args=[order.pk])
        cancelled = anonymous.post(cancel_url)
    assert placed.status_code == cancelled.status_code == 302
    assert placed.url == login_redirect("/me/orders/")
    assert cancelled.url == login_redirect(cancel_url)
    assert Order.objects.get().status == Order.Status.PLACED


def test_another_residents_order_cannot_be_cancelled(world, shop):
    with at(INSIDE):
        theirs = redemption_services.place_order(
            user=world.worker2.user, resident=world.resident2, lines=[(shop["towel"], 1)]
        )
        url = reverse("points:me_cancel_order", args=[theirs.pk])
        assert client_for(world.resident_user).post(url).status_code == 404
        assert client_for(world.resident_user).post(
            reverse("points:me_cancel_order", args=[theirs.pk + 999])
        ).status_code == 404  # fmt: skip
        html = client_for(world.resident_user).get("/me/").content.decode()
    assert Order.objects.get().status == Order.Status.PLACED
    assert balance_of(world.resident2) == 30
    assert f'id="order-{theirs.pk}"' not in html  # nor shown
