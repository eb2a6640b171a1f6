"""The street admin's quarter in the admin (issue 16, point 4): the purchase and distribution
lists are linked from the quarter's page once the close built them, and a redemption window
can be corrected while it is open, through the same service, and not after."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from points.models import Period, RedemptionWindow
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


@pytest.fixture
def window(world):
    with at(dt.date(2026, 9, 30)):
        period = ledger_services.period_for(dt.date(2026, 9, 1))
        return redemption_services.open_redemption(
            period=period,
            community=world.community1,
            opens_on=dt.date(2026, 10, 1),
            closes_on=dt.date(2026, 10, 7),
            user=world.admin1,
            pickup_place="村委会",
        )


def change_url(window: RedemptionWindow) -> str:
    return reverse("admin:points_redemptionwindow_change", args=[window.pk])


def test_a_window_is_corrected_while_it_is_open(world, window, staff_client):
    client = staff_client(world.admin1)
    with at(dt.date(2026, 10, 3)):
        page = client.get(change_url(window))
        assert page.status_code == 200
        assert 'name="closes_on"' in page.content.decode()
        assert 'name="community"' not in page.content.decode()  # fixed once it exists
        r = client.post(
            change_url(window),
            {
                "opens_on": "2026-10-01",
                "closes_on": "2026-10-10",
                "pickup_place": "村委会一楼",
                "pickup_time": "10月12日上午",
            },
        )
    assert r.status_code == 302, r.content[:800]
    window.refresh_from_db()
    assert (window.closes_on, window.pickup_place, window.pickup_time) == (
        dt.date(2026, 10, 10),
        "村委会一楼",
        "10月12日上午",
    )
    assert RedemptionWindow.objects.count() == 1


def test_a_bad_correction_is_refused_and_changes_nothing(world, window, staff_client):
    client = staff_client(world.admin1)
    with at(dt.date(2026, 10, 3)):
        r = client.post(
            change_url(window),
            {"opens_on": "2026-10-05", "closes_on": "2026-10-02", "pickup_place": "别处"},
            follow=True,
        )
    assert r.status_code == 200
    assert "The window cannot close before it opens." in r.content.decode()
    window.refresh_from_db()
    assert (window.opens_on, window.closes_on, window.pickup_place) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 7),
        "村委会",
    )


def test_a_window_is_read_only_once_over_or_for_others(world, window, staff_client):
    data = {"opens_on": "2026-10-01", "closes_on": "2026-10-20"}
    with at(dt.date(2026, 10, 8)):  # the day after its last day
        client = staff_client(world.admin1)
        page = client.get(change_url(window))
        assert page.status_code == 200 and 'name="closes_on"' not in page.content.decode()
        assert client.post(change_url(window), data).status_code == 403
    with at(dt.date(2026, 10, 3)):
        assert staff_client(world.committee1).post(change_url(window), data).status_code == 403
        # The quarter being closed freezes it too.
        Period.objects.filter(pk=window.period_id).update(status=Period.Status.CLOSING)
        assert staff_client(world.admin1).post(change_url(window), data).status_code == 403
    window.refresh_from_db()
    assert window.closes_on == dt.date(2026, 10, 7)


def test_the_lists_are_linked_from_the_quarter_once_closed(world, window, staff_client):
    client = staff_client(world.admin1)
    page_url = reverse("admin:points_period_change", args=[window.period_id])
    before = client.get(page_url).content.decode()
    assert "The purchase and distribution lists are built by the close" in before
    assert 'data-test="purchase-list"' not in before
    Period.objects.filter(pk=window.period_id).update(status=Period.Status.CLOSED)
    page = client.get(page_url).content.decode()
    code = window.period.code
    purchase = (
        f"/api/v1/periods/{code}/purchase-list/?community={world.community1.pk}&amp;format=html"
    )
    distribution = (
        f"/api/v1/periods/{code}/distribution-list/?grid={world.grid1.pk}&amp;format=html"
    )
    assert purchase in page and distribution in page
    # Only the communities the user runs: the other street's are not listed.
    assert f"community={world.community3.pk}&amp;" not in page
    # The links open the printed lists with the admin's session.
    for link in (purchase, distribution):
        r = client.get(link.replace("&amp;", "&"))
        assert r.status_code == 200, r.content[:400]
        assert r["Content-Type"].startswith("text/html")
