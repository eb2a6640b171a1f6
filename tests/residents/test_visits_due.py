"""GET /api/v1/visits/due/: residents whose tags make a visit due or overdue, in the caller's
scope. The clock is fixed at 2026-03-11 10:00 in Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from residents.models import Tag, Visit
from residents.services import visits as visits_services
from tests import factories as f
from tests.api_helpers import client, url

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def weekly():
    return f.TagFactory(name="独居老人", visit_every_days=7)


def visit(world, household, *, days_ago: float = 0, at: dt.datetime | None = None) -> Visit:
    """A visit by the household's grid worker, through the service."""
    worker = {
        world.household1.pk: world.worker1,
        world.household2.pk: world.worker2,
        world.household3.pk: world.worker3,
        world.household4.pk: world.worker4,
    }[household.pk]
    return visits_services.record_visit(
        user=worker.user,
        household=household,
        visited_at=at or NOW - dt.timedelta(days=days_ago),
    )


def due(user, **params) -> dict[int, dict]:
    r = client(user).get(url("visits/due"), params)
    assert r.status_code == 200, r.content
    return {row["resident"]: row for row in r.json()["results"]}


def test_a_tagged_resident_never_visited_is_listed_as_never_visited(world, weekly):
    world.resident1.tags.add(weekly)
    row = due(world.worker1)[world.resident1.id]
    assert row["status"] == "never_visited"
    assert row["last_visited_at"] is None
    assert row["due_on"] is None
    assert (row["visit_every_days"], row["household"], row["grid"]) == (
        7,
        world.household1.id,
        world.grid1.id,
    )
    assert row["address"] == world.household1.address


def test_a_resident_visited_eight_days_ago_on_a_weekly_schedule_is_overdue(world, weekly):
    world.resident1.tags.add(weekly)
    visit(world, world.household1, days_ago=8)
    row = due(world.worker1)[world.resident1.id]
    assert row["status"] == "overdue"
    assert row["due_on"] == "2026-03-10"
    assert row["days_overdue"] == 1


def test_a_resident_visited_seven_days_ago_on_a_weekly_schedule_is_due_today(world, weekly):
    world.resident1.tags.add(weekly)
    visit(world, world.household1, days_ago=7)
    row = due(world.worker1)[world.resident1.id]
    assert row["status"] == "due"
    assert row["due_on"] == TODAY.isoformat()
    assert row["days_overdue"] == 0


def test_a_resident_visited_two_days_ago_is_not_listed(world, weekly):
    world.resident1.tags.add(weekly)
    visit(world, world.household1, days_ago=2)
    assert due(world.worker1) == {}


def test_within_days_lists_visits_falling_due_soon(world, weekly):
    world.resident1.tags.add(weekly)
    visit(world, world.household1, days_ago=2)
    assert world.resident1.id not in due(world.worker1, within_days=4)
    row = due(world.worker1, within_days=5)[world.resident1.id]
    assert row["due_on"] == "2026-03-16"
    assert row["status"] == "due"


def test_the_day_counts_in_shanghai_time_not_utc(world, weekly):
    world.resident1.tags.add(weekly)
    # 2026-03-03 20:00 UTC is already 2026-03-04 04:00 in Shanghai: due on the 11th, not overdue.
    visit(world, world.household1, at=dt.datetime(2026, 3, 3, 20, 0, tzinfo=dt.UTC))
    row = due(world.worker1)[world.resident1.id]
    assert (row["status"], row["due_on"]) == ("due", "2026-03-11")


def test_a_visit_late_in_the_evening_eight_days_ago_is_still_overdue(world, weekly):
    world.resident1.tags.add(weekly)
    visit(world, world.household1, at=dt.datetime(2026, 3, 3, 23, 59, tzinfo=SHANGHAI))
    assert due(world.worker1)[world.resident1.id]["status"] == "overdue"


def test_tags_without_a_frequency_are_not_listed(world):
    world.resident1.tags.add(f.TagFactory(name="党员"))
    assert due(world.worker1) == {}


def test_untagged_residents_are_not_listed(world, weekly):
    assert due(world.superuser) == {}


def test_the_most_frequent_tag_sets_the_schedule(world, weekly):
    monthly = f.TagFactory(name="困难家庭", visit_every_days=30)
    world.resident1.tags.add(weekly, monthly)
    visit(world, world.household1, days_ago=10)
    row = due(world.worker1)[world.resident1.id]
    assert (row["visit_every_days"], row["status"]) == (7, "overdue")


def test_a_visit_to_the_household_counts_for_every_resident_in_it(world, weekly):
    housemate = f.ResidentFactory(household=world.household1)
    world.resident1.tags.add(weekly)
    housemate.tags.add(weekly)
    visit(world, world.household1, days_ago=1)
    assert due(world.worker1) == {}


def test_only_the_latest_visit_counts(world, weekly):
    world.resident1.tags.add(weekly)
    visit(world, world.household1, days_ago=30)
    visit(world, world.household1, days_ago=1)
    assert due(world.worker1) == {}


def test_a_visit_logged_through_the_api_takes_a_resident_off_the_list(world, weekly):
    world.resident1.tags.add(weekly)
    assert world.resident1.id in due(world.worker1)
    r = client(world.worker1).post(url("visits"), {"household": world.household1.id})
    assert r.status_code == 201
    assert due(world.worker1) == {}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["resident1"]),
        ("worker2", ["resident2"]),
        ("committee1", ["resident1", "resident2"]),
        ("admin1", ["resident1", "resident2", "resident3"]),
        ("admin2", ["resident4"]),
        ("committee3", ["resident4"]),
    ],
)
def test_only_residents_in_the_callers_scope_are_listed(world, weekly, persona, expected):
    for r in (world.resident1, world.resident2, world.resident3, world.resident4):
        r.tags.add(weekly)
    assert sorted(due(getattr(world, persona))) == sorted(
        getattr(world, name).id for name in expected
    )


@pytest.mark.parametrize("persona", ["stranger", "partner_user"])
def test_users_without_the_permission_cannot_list_visits_due(world, weekly, persona):
    r = client(getattr(world, persona)).get(url("visits/due"))
    assert r.status_code == 403


def test_never_visited_come_first_then_the_longest_waiting(world, weekly):
    housemate = f.ResidentFactory(household=world.household2)
    for r in (world.resident1, world.resident2, world.resident3, housemate):
        r.tags.add(weekly)
    visit(world, world.household1, days_ago=8)
    visit(world, world.household3, days_ago=20)
    r = client(world.admin1).get(url("visits/due"))
    order = [row["resident"] for row in r.json()["results"]]
    assert order == [world.resident2.id, housemate.id, world.resident3.id, world.resident1.id]


def test_visits_due_filter_by_grid_and_tag(world, weekly):
    lonely = f.TagFactory(name="残疾人", visit_every_days=14)
    world.resident1.tags.add(weekly)
    world.resident2.tags.add(lonely)
    assert sorted(due(world.committee1, grid=world.grid2.id)) == [world.resident2.id]
    assert sorted(due(world.committee1, tag=weekly.id)) == [world.resident1.id]


@pytest.mark.parametrize("within_days", ["abc", "-1", "61", "1.5", "9" * 30])
def test_a_bad_within_days_is_a_field_error(world, weekly, within_days):
    r = client(world.worker1).get(url("visits/due"), {"within_days": within_days})
    assert r.status_code == 400
    assert "within_days" in r.json()


def test_a_tag_frequency_longer_than_the_calendar_does_not_break_the_list(world, on_postgres):
    # The API refuses such a frequency, but SQLite and the admin let a tag hold one.
    longest = 32767 if on_postgres else 10**6
    ages = f.TagFactory(name="百岁老人", visit_every_days=7)
    world.resident1.tags.add(ages)
    world.resident2.tags.add(ages)
    visit(world, world.household2, days_ago=1)
    Tag.objects.filter(pk=ages.pk).update(visit_every_days=longest)
    r = client(world.committee1).get(url("visits/due"), {"within_days": 60})
    assert r.status_code == 200, r.content
    assert [row["resident"] for row in r.json()["results"]] == [world.resident1.id]


def test_the_due_filter_has_one_condition_per_frequency_not_per_tag(world, weekly):
    from residents.selectors import residents_due_for_visit

    def sql() -> str:
        return str(residents_due_for_visit(world.superuser).query)

    one_tag = sql()
    for name in ("残疾人", "困难家庭", "孤寡老人"):
        f.TagFactory(name=name, visit_every_days=7)
    assert sql() == one_tag
    f.TagFactory(name="退役军人", visit_every_days=30)
    assert sql() != one_tag


def test_a_user_without_the_permission_gets_403_even_with_a_bad_within_days(world):
    r = client(world.stranger).get(url("visits/due"), {"within_days": "abc"})
    assert r.status_code == 403
