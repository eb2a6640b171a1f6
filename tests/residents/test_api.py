"""The residents API (households, residents, tags, visits) for each persona: the owner of a scope,
a colleague with another scope, and an outsider. ID numbers are masked unless permitted.

Over 600 lines on purpose: one test module per API or service layer, long by nature (many
short, independent tests).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.validators import id_check_char, make_id_number
from residents.models import Household, Resident, Tag, Visit
from residents.services import visits as visits_services
from tests import factories as f
from tests.api_helpers import body_for, client, grant, ids, url

# ---------------------------------------------------------------------------- lists by persona


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["household1"]),
        ("worker2", ["household2"]),
        ("committee1", ["household1", "household2"]),
        ("committee3", ["household4"]),
        ("admin1", ["household1", "household2", "household3"]),
        ("admin2", ["household4"]),
        ("resident_user", ["household1"]),
        ("superuser", ["household1", "household2", "household3", "household4"]),
    ],
)
def test_each_persona_lists_only_the_households_of_their_scope(world, persona, expected):
    r = client(getattr(world, persona)).get(url("households"))
    assert ids(r) == sorted(getattr(world, name).id for name in expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["resident1"]),
        ("worker2", ["resident2"]),
        ("committee1", ["resident1", "resident2"]),
        ("committee3", ["resident4"]),
        ("admin1", ["resident1", "resident2", "resident3"]),
        ("admin2", ["resident4"]),
        ("resident_user", ["resident1"]),
    ],
)
def test_each_persona_lists_only_the_residents_of_their_scope(world, persona, expected):
    r = client(getattr(world, persona)).get(url("residents"))
    assert ids(r) == sorted(getattr(world, name).id for name in expected)


def test_a_resident_sees_only_themselves_not_their_housemates(world):
    f.ResidentFactory(household=world.household1, name="赵小红")
    r = client(world.resident_user).get(url("residents"))
    assert ids(r) == [world.resident1.id]


@pytest.mark.parametrize("endpoint", ["households", "residents", "tags", "visits", "visits/due"])
def test_a_user_with_no_role_cannot_list_residents_endpoints(world, endpoint):
    r = client(world.stranger).get(url(endpoint))
    assert r.status_code == 403
    assert "detail" in r.json()


@pytest.mark.parametrize("persona", ["resident_user", "partner_user"])
def test_residents_and_partners_cannot_list_visits(world, persona):
    assert client(getattr(world, persona)).get(url("visits")).status_code == 403


def test_a_partner_cannot_list_households(world):
    assert client(world.partner_user).get(url("households")).status_code == 403


@pytest.mark.parametrize(
    "persona", ["worker1", "committee1", "committee3", "admin1", "admin2", "superuser"]
)
def test_every_staff_role_lists_every_tag(world, persona):
    tags = [f.TagFactory(name="独居老人", visit_every_days=7), f.TagFactory(name="党员")]
    assert ids(client(getattr(world, persona)).get(url("tags"))) == sorted(t.id for t in tags)


def test_a_worker_sees_the_households_of_a_grid_only_while_assigned(world):
    from grids.models import GridAssignment

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    GridAssignment.objects.filter(worker=world.worker1).update(start_date=tomorrow)
    assert ids(client(world.worker1).get(url("households"))) == []


# ---------------------------------------------------------------------------- retrieve / update


@pytest.mark.parametrize(
    ("persona", "endpoint", "obj"),
    [
        ("worker1", "households", "household2"),
        ("worker2", "households", "household1"),
        ("committee3", "households", "household1"),
        ("admin2", "households", "household3"),
        ("resident_user", "households", "household2"),
        ("worker1", "residents", "resident2"),
        ("committee1", "residents", "resident3"),
        ("admin1", "residents", "resident4"),
        ("resident_user", "residents", "resident2"),
    ],
)
def test_an_object_outside_the_scope_answers_404(world, persona, endpoint, obj):
    r = client(getattr(world, persona)).get(url(endpoint, getattr(world, obj).id))
    assert r.status_code == 404
    assert "detail" in r.json()


@pytest.mark.parametrize(
    ("persona", "endpoint", "obj", "change"),
    [
        ("worker1", "households", "household2", {"room": "9"}),
        ("committee3", "households", "household1", {"room": "9"}),
        ("worker1", "residents", "resident2", {"name": "改名"}),
        ("admin2", "residents", "resident1", {"name": "改名"}),
    ],
)
def test_updating_an_object_outside_the_scope_answers_404(world, persona, endpoint, obj, change):
    r = client(getattr(world, persona)).patch(url(endpoint, getattr(world, obj).id), change)
    assert r.status_code == 404


# ---------------------------------------------------------------------------- households


def test_worker_registers_a_household_in_their_grid(world):
    r = client(world.worker1).post(url("households"), body_for("households", world))
    assert r.status_code == 201, r.content
    household = Household.objects.get(pk=r.json()["id"])
    assert household.grid == world.grid1
    assert r.json()["address"] == household.address


def test_worker_cannot_create_household_in_another_grid(world):
    body = {**body_for("households", world), "grid": world.grid2.id}
    r = client(world.worker1).post(url("households"), body)
    assert r.status_code == 403
    assert "detail" in r.json()
    assert not Household.objects.filter(
        grid=world.grid2, house_number=body["house_number"]
    ).exists()


def test_committee_registers_a_household_in_any_grid_of_their_community(world):
    body = {**body_for("households", world), "grid": world.grid2.id}
    assert client(world.committee1).post(url("households"), body).status_code == 201


def test_committee_cannot_create_a_household_in_another_community(world):
    body = {**body_for("households", world), "grid": world.grid4.id}
    assert client(world.committee1).post(url("households"), body).status_code == 403


@pytest.mark.parametrize("persona", ["resident_user", "partner_user", "stranger"])
def test_roles_without_the_permission_cannot_create_a_household(world, persona):
    r = client(getattr(world, persona)).post(url("households"), body_for("households", world))
    assert r.status_code == 403
    assert Household.objects.count() == 4


def test_worker_cannot_move_a_household_to_another_grid(world):
    r = client(world.worker1).patch(
        url("households", world.household1.id), {"grid": world.grid2.id}
    )
    assert r.status_code == 403
    world.household1.refresh_from_db()
    assert world.household1.grid == world.grid1


def test_worker_corrects_the_address_of_a_household_in_their_grid(world):
    r = client(world.worker1).patch(url("households", world.household1.id), {"house_number": "18"})
    assert r.status_code == 200, r.content
    world.household1.refresh_from_db()
    assert world.household1.house_number == "18"


def test_a_household_without_an_address_is_refused_with_a_field_message(world):
    r = client(world.worker1).post(url("households"), {"grid": world.grid1.id})
    assert r.status_code == 400
    assert "complex" in r.json()


def test_a_second_household_at_the_same_address_is_refused(world):
    body = {"grid": world.grid1.id, "village_group": "五组", "house_number": "8"}
    c = client(world.worker1)
    assert c.post(url("households"), body).status_code == 201
    r = c.post(url("households"), body)
    assert r.status_code == 400
    assert "non_field_errors" in r.json()
    assert Household.objects.filter(grid=world.grid1, village_group="五组").count() == 1


def test_the_head_of_household_must_live_in_it(world):
    c = client(world.worker1)
    r = c.patch(url("households", world.household1.id), {"head": world.resident2.id})
    assert r.status_code == 400
    assert "head" in r.json()
    r = c.patch(url("households", world.household1.id), {"head": world.resident1.id})
    assert r.status_code == 200
    assert r.json()["head"] == world.resident1.id


def test_worker_cannot_delete_a_household(world):
    assert client(world.worker1).delete(url("households", world.household1.id)).status_code == 403


def test_a_household_with_residents_cannot_be_deleted_and_answers_409(world):
    r = client(world.committee1).delete(url("households", world.household1.id))
    assert r.status_code == 409
    assert Household.objects.filter(pk=world.household1.id).exists()


def test_households_filter_by_tag_without_duplicates(world):
    lonely, poor = f.TagFactory(name="独居老人"), f.TagFactory(name="困难家庭")
    world.resident1.tags.add(lonely, poor)
    f.ResidentFactory(household=world.household1).tags.add(lonely)
    r = client(world.committee1).get(url("households"), {"tag": lonely.id})
    assert ids(r) == [world.household1.id]


def test_households_filter_by_community_and_search_by_village_group(world):
    c = client(world.admin1)
    assert ids(c.get(url("households"), {"community": world.community2.id})) == [
        world.household3.id
    ]
    assert ids(c.get(url("households"), {"search": "二组"})) == [world.household2.id]


def test_households_order_by_house_number_descending(world):
    r = client(world.committee1).get(url("households"), {"ordering": "-house_number"})
    assert [h["id"] for h in r.json()["results"]] == [world.household1.id, world.household2.id]


# ---------------------------------------------------------------------------- residents


def with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


def test_worker_registers_a_resident_and_the_id_number_gives_birth_date_and_gender(world):
    number = make_id_number("411103", dt.date(1988, 2, 29), 124)  # even: a woman
    body = {"household": world.household1.id, "name": "赵小梅", "id_number": number}
    r = client(world.worker1).post(url("residents"), body)
    assert r.status_code == 201, r.content
    resident = Resident.objects.get(pk=r.json()["id"])
    assert (resident.birth_date, resident.gender) == (dt.date(1988, 2, 29), "F")
    assert resident.id_number == number
    assert r.json()["grid"] == world.grid1.id


def test_a_lowercase_x_in_an_id_number_is_stored_uppercase(world):
    number = "11010519491231002X"
    body = {"household": world.household1.id, "name": "赵一", "id_number": number.lower()}
    r = client(world.worker1).post(url("residents"), body)
    assert r.status_code == 201, r.content
    assert Resident.objects.get(pk=r.json()["id"]).id_number == number


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # check digit should be X
        with_check("11010519491331002"),  # month 13
        "1101051949123100",  # too short
        with_check("01010519491231002"),  # cannot start with 0
        with_check("11010521491231002"),  # born in the future
    ],
)
def test_a_bad_id_number_is_refused_with_a_field_message(world, number):
    body = {"household": world.household1.id, "name": "赵一", "id_number": number}
    r = client(world.worker1).post(url("residents"), body)
    assert r.status_code == 400
    assert "id_number" in r.json()
    assert not Resident.objects.filter(name="赵一").exists()


def test_a_birth_date_that_disagrees_with_the_id_number_is_refused(world):
    body = {
        "household": world.household1.id,
        "name": "赵一",
        "id_number": "11010519491231002X",
        "birth_date": "1950-01-01",
        "gender": "M",
    }
    r = client(world.worker1).post(url("residents"), body)
    assert r.status_code == 400
    assert set(r.json()) == {"birth_date", "gender"}


def test_an_id_number_registered_twice_is_refused(world):
    body = {
        "household": world.household1.id,
        "name": "赵一",
        "id_number": world.resident2.id_number,
    }
    r = client(world.worker1).post(url("residents"), body)
    assert r.status_code == 400
    assert "id_number" in r.json()


def test_worker_cannot_register_a_resident_in_a_household_of_another_grid(world):
    body = {**body_for("residents", world), "household": world.household2.id}
    r = client(world.worker1).post(url("residents"), body)
    assert r.status_code == 403
    assert not Resident.objects.filter(name=body["name"]).exists()


@pytest.mark.parametrize("persona", ["resident_user", "partner_user", "stranger"])
def test_roles_without_the_permission_cannot_register_a_resident(world, persona):
    r = client(getattr(world, persona)).post(url("residents"), body_for("residents", world))
    assert r.status_code == 403


def test_a_resident_cannot_edit_their_own_record(world):
    r = client(world.resident_user).patch(url("residents", world.resident1.id), {"name": "改名"})
    assert r.status_code == 403


def test_worker_cannot_move_a_resident_into_another_grid(world):
    r = client(world.worker1).patch(
        url("residents", world.resident1.id), {"household": world.household2.id}
    )
    assert r.status_code == 403
    world.resident1.refresh_from_db()
    assert world.resident1.household == world.household1


def test_worker_tags_a_resident_of_their_grid(world):
    tag = f.TagFactory(name="独居老人", visit_every_days=7)
    r = client(world.worker1).patch(url("residents", world.resident1.id), {"tags": [tag.id]})
    assert r.status_code == 200, r.content
    assert list(world.resident1.tags.all()) == [tag]


def test_changing_only_the_birth_date_must_still_agree_with_the_id_number(world):
    r = client(world.worker1).patch(
        url("residents", world.resident1.id), {"birth_date": "1999-09-09"}
    )
    assert r.status_code == 400
    assert "birth_date" in r.json()


def test_a_new_id_number_updates_birth_date_and_gender(world):
    number = make_id_number("411103", dt.date(1970, 5, 6), 222)
    r = client(world.worker1).patch(url("residents", world.resident1.id), {"id_number": number})
    assert r.status_code == 200, r.content
    world.resident1.refresh_from_db()
    assert (world.resident1.birth_date, world.resident1.gender) == (dt.date(1970, 5, 6), "F")


def test_residents_filter_by_exact_id_number_normalising_case(world):
    number = "11010519491231002X"
    f.ResidentFactory(
        household=world.household1, id_number=number, birth_date=dt.date(1949, 12, 31), gender="F"
    )
    r = client(world.committee1).get(url("residents"), {"id_number": number.lower()})
    assert [row["name"] for row in r.json()["results"]] == [
        Resident.objects.get(id_number=number).name
    ]


def test_residents_filter_by_tag_grid_and_birth_date(world):
    tag = f.TagFactory(name="退役军人")
    world.resident2.tags.add(tag)
    c = client(world.committee1)
    assert ids(c.get(url("residents"), {"tag": tag.id})) == [world.resident2.id]
    assert ids(c.get(url("residents"), {"grid": world.grid1.id})) == [world.resident1.id]
    # Factory birth dates wrap, so find the later-born of the committee's two residents.
    later = max(world.resident1, world.resident2, key=lambda r: r.birth_date)
    born = later.birth_date.isoformat()
    assert ids(c.get(url("residents"), {"born_after": born})) == [later.id]


def test_residents_search_by_name_but_not_by_id_number(world):
    c = client(world.committee1)
    assert ids(c.get(url("residents"), {"search": "秀英"})) == [world.resident2.id]
    assert ids(c.get(url("residents"), {"search": world.resident2.id_number[-6:]})) == []


# ---------------------------------------------------------------------------- masking


def masked(number: str) -> str:
    return number[:6] + "********" + number[-4:]


@pytest.mark.parametrize("persona", ["worker1", "committee1", "admin1", "resident_user"])
def test_id_numbers_are_masked_for_roles_without_the_permission(world, persona):
    c = client(getattr(world, persona))
    number = world.resident1.id_number
    listed = c.get(url("residents")).json()["results"]
    assert [row["id_number"] for row in listed if row["id"] == world.resident1.id] == [
        masked(number)
    ]
    assert c.get(url("residents", world.resident1.id)).json()["id_number"] == masked(number)


def test_the_answer_to_a_create_is_masked_too(world):
    body = body_for("residents", world)
    r = client(world.worker1).post(url("residents"), body)
    assert r.json()["id_number"] == masked(body["id_number"])


def test_a_user_granted_view_full_id_number_sees_the_whole_number(world):
    grant(world.committee1, "residents.view_full_id_number")
    r = client(world.committee1).get(url("residents", world.resident1.id))
    assert r.json()["id_number"] == world.resident1.id_number


def test_a_superuser_sees_the_whole_number(world):
    r = client(world.superuser).get(url("residents", world.resident4.id))
    assert r.json()["id_number"] == world.resident4.id_number


# ---------------------------------------------------------------------------- tags


def test_street_admin_creates_a_tag_with_a_visit_frequency(world):
    r = client(world.admin1).post(url("tags"), {"name": "独居老人", "visit_every_days": 7})
    assert r.status_code == 201, r.content
    assert Tag.objects.get(name="独居老人").visit_every_days == 7


@pytest.mark.parametrize("persona", ["worker1", "committee1", "resident_user", "stranger"])
def test_roles_without_the_permission_cannot_create_a_tag(world, persona):
    r = client(getattr(world, persona)).post(url("tags"), {"name": "残疾人"})
    assert r.status_code == 403
    assert not Tag.objects.filter(name="残疾人").exists()


@pytest.mark.parametrize("days", [0, -1, 40000, 10**12])
def test_a_visit_frequency_out_of_range_is_a_field_error(world, days):
    r = client(world.admin1).post(url("tags"), {"name": "残疾人", "visit_every_days": days})
    assert r.status_code == 400
    assert "visit_every_days" in r.json()


def test_a_tag_without_a_visit_frequency_is_allowed(world):
    r = client(world.admin1).post(url("tags"), {"name": "党员", "visit_every_days": None})
    assert r.status_code == 201
    assert r.json()["visit_every_days"] is None


def test_tags_filter_by_visit_frequency(world):
    weekly = f.TagFactory(name="独居老人", visit_every_days=7)
    f.TagFactory(name="困难家庭", visit_every_days=30)
    r = client(world.worker1).get(url("tags"), {"visit_every_days": 7})
    assert ids(r) == [weekly.id]


# ---------------------------------------------------------------------------- visits


def test_worker_logs_a_visit_to_a_household_of_their_grid(world):
    body = {"household": world.household1.id, "method": "phone", "notes": "身体好"}
    r = client(world.worker1).post(url("visits"), body)
    assert r.status_code == 201, r.content
    visit = Visit.objects.get(pk=r.json()["id"])
    assert (visit.worker, visit.household, visit.method) == (
        world.worker1,
        world.household1,
        "phone",
    )


def test_worker_cannot_log_a_visit_in_another_grid(world):
    r = client(world.worker1).post(url("visits"), {"household": world.household2.id})
    assert r.status_code == 403
    assert not Visit.objects.exists()


def test_worker_cannot_log_a_visit_for_another_worker(world):
    body = {"household": world.household1.id, "worker": world.worker2.id}
    r = client(world.worker1).post(url("visits"), body)
    assert r.status_code == 403
    assert not Visit.objects.exists()


@pytest.mark.parametrize("persona", ["committee1", "admin1", "resident_user", "stranger"])
def test_roles_without_the_permission_cannot_log_a_visit(world, persona):
    body = {"household": world.household1.id, "worker": world.worker1.id}
    assert client(getattr(world, persona)).post(url("visits"), body).status_code == 403
    assert not Visit.objects.exists()


def test_a_visit_in_the_future_is_refused_with_a_field_message(world):
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    r = client(world.worker1).post(
        url("visits"), {"household": world.household1.id, "visited_at": later}
    )
    assert r.status_code == 400
    assert "visited_at" in r.json()


def test_a_follow_up_before_the_visit_is_refused(world):
    body = {"household": world.household1.id, "follow_up_on": "2020-01-01"}
    r = client(world.worker1).post(url("visits"), body)
    assert r.status_code == 400
    assert "follow_up_on" in r.json()


def test_moving_a_visit_after_its_follow_up_is_refused(world):
    now = timezone.now()
    visit = visits_services.record_visit(
        user=world.worker1.user,
        household=world.household1,
        visited_at=now - dt.timedelta(days=10),
        follow_up_on=timezone.localdate() - dt.timedelta(days=5),
    )
    r = client(world.worker1).patch(url("visits", visit.id), {"visited_at": now.isoformat()})
    assert r.status_code == 400
    assert "follow_up_on" in r.json()


def test_a_superuser_logs_a_visit_only_naming_the_worker(world):
    c = client(world.superuser)
    r = c.post(url("visits"), {"household": world.household1.id})
    assert r.status_code == 400
    assert "worker" in r.json()
    r = c.post(url("visits"), {"household": world.household1.id, "worker": world.worker1.id})
    assert r.status_code == 201


@pytest.fixture
def visits(world):
    """One visit in grid 1 (by worker 1), one in grid 2 (by worker 2), one in street 2."""
    return [
        visits_services.record_visit(user=world.worker1.user, household=world.household1),
        visits_services.record_visit(user=world.worker2.user, household=world.household2),
        visits_services.record_visit(user=world.worker4.user, household=world.household4),
    ]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", [0]),
        ("worker2", [1]),
        ("committee1", [0, 1]),
        ("committee3", [2]),
        ("admin1", [0, 1]),
        ("admin2", [2]),
    ],
)
def test_each_persona_lists_only_the_visits_of_their_scope(world, visits, persona, expected):
    r = client(getattr(world, persona)).get(url("visits"))
    assert ids(r) == sorted(visits[i].id for i in expected)


def test_a_visit_of_another_grid_answers_404(world, visits):
    c = client(world.worker1)
    assert c.get(url("visits", visits[1].id)).status_code == 404
    assert c.patch(url("visits", visits[1].id), {"notes": "x"}).status_code == 404


def test_worker_corrects_the_notes_of_their_visit(world, visits):
    r = client(world.worker1).patch(url("visits", visits[0].id), {"notes": "需要轮椅"})
    assert r.status_code == 200, r.content
    visits[0].refresh_from_db()
    assert visits[0].notes == "需要轮椅"


def test_worker_cannot_move_a_visit_to_a_household_of_another_grid(world, visits):
    r = client(world.worker1).patch(url("visits", visits[0].id), {"household": world.household2.id})
    assert r.status_code == 403
    visits[0].refresh_from_db()
    assert visits[0].household == world.household1


def test_committee_cannot_change_a_visit(world, visits):
    r = client(world.committee1).patch(url("visits", visits[0].id), {"notes": "x"})
    assert r.status_code == 403


def test_visits_filter_by_time_window_and_method(world):
    now = timezone.now()
    old = visits_services.record_visit(
        user=world.worker1.user, household=world.household1, visited_at=now - dt.timedelta(days=30)
    )
    new = visits_services.record_visit(
        user=world.worker1.user, household=world.household1, method=Visit.Method.PHONE
    )
    c = client(world.worker1)
    after = (now - dt.timedelta(days=1)).isoformat()
    assert ids(c.get(url("visits"), {"visited_after": after})) == [new.id]
    assert ids(c.get(url("visits"), {"visited_before": after})) == [old.id]
    assert ids(c.get(url("visits"), {"method": "phone"})) == [new.id]


def test_visits_are_listed_newest_first(world):
    now = timezone.now()
    older = visits_services.record_visit(
        user=world.worker1.user, household=world.household1, visited_at=now - dt.timedelta(days=3)
    )
    newer = visits_services.record_visit(user=world.worker1.user, household=world.household1)
    rows = client(world.worker1).get(url("visits")).json()["results"]
    assert [v["id"] for v in rows] == [newer.id, older.id]


def test_record_visit_refuses_a_household_outside_the_users_area(world):
    from rest_framework.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        visits_services.record_visit(user=world.worker1.user, household=world.household3)
    assert not Visit.objects.exists()


def test_worker_cannot_hand_their_visit_to_a_colleague_of_the_same_grid(world, visits):
    from grids.models import GridAssignment

    colleague = f.GridWorkerFactory(community=world.community1)
    GridAssignment.objects.create(
        worker=colleague, grid=world.grid1, start_date=dt.date(2024, 1, 1)
    )
    r = client(world.worker1).patch(url("visits", visits[0].id), {"worker": colleague.id})
    assert r.status_code == 403
    visits[0].refresh_from_db()
    assert visits[0].worker == world.worker1


def test_a_superuser_may_name_another_worker_for_a_visit(world, visits):
    r = client(world.superuser).patch(url("visits", visits[0].id), {"worker": world.worker2.id})
    assert r.status_code == 200, r.content
    visits[0].refresh_from_db()
    assert visits[0].worker == world.worker2


def test_a_head_of_household_who_moves_out_no_longer_heads_the_old_household(world):
    household = world.household1
    household.head = world.resident1
    household.save(update_fields=["head"])
    other = f.HouseholdFactory(grid=world.grid1, village=True, house_number="99")
    r = client(world.worker1).patch(
        f"/api/v1/residents/{world.resident1.pk}/", {"household": other.pk}, format="json"
    )
    assert r.status_code == 200, r.content
    household.refresh_from_db()
    assert household.head is None
