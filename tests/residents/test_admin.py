"""The residents admin: scoped lists and forms, masked ID numbers, bulk tag actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.masking import mask_id_number
from core.validators import make_id_number
from residents.models import Household, Resident
from residents.resources import ResidentResource
from residents.services import visits as visits_services
from tests import factories as f

MODELS = ["tag", "household", "resident", "visit"]


def url(model: str, action: str = "changelist", *args: Any) -> str:
    from django.urls import reverse

    return reverse(f"admin:residents_{model}_{action}", args=args)


@pytest.fixture
def full_id_viewer(world):
    """A committee member of community 1 who also holds the full-ID permission."""
    member = f.committee_member(world.community1, "officer")
    member.user.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    return member.user


def add_rows(world: Any, n: int) -> None:
    """More of everything in community 1 (the committee's) and community 2 (not theirs)."""
    for _ in range(n):
        tag = f.TagFactory()
        for grid in (world.grid1, world.grid3):
            household = f.HouseholdFactory(grid=grid)
            for _ in range(2):
                resident = f.ResidentFactory(household=household)
                resident.tags.add(tag)
            household.head = resident
            household.save(update_fields=["head"])
        visits_services.record_visit(user=world.worker1.user, household=world.household1)
        visits_services.record_visit(user=world.worker3.user, household=household)


# ---------------------------------------------------------------------------- the lists


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["superuser", "committee1"])
def test_changelist_loads_with_the_same_number_of_queries_for_more_rows(
    world, staff_client, model, who
):
    client = staff_client(getattr(world, who))
    add_rows(world, 1)  # at least one row everywhere, so that every per-page query runs
    assert client.get(url(model)).status_code == 200  # warm the caches (content types)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(model))
        assert response.status_code == 200
        return len(queries)

    before = count()
    add_rows(world, 3)
    assert count() == before


@pytest.mark.parametrize("model", MODELS)
def test_add_and_change_pages_load_for_the_superuser(world, staff_client, model):
    client = staff_client(world.superuser)
    obj = {
        "tag": f.TagFactory(name="独居老人"),
        "household": world.household1,
        "resident": world.resident1,
        "visit": visits_services.record_visit(user=world.worker1.user, household=world.household1),
    }[model]
    assert client.get(url(model, "add")).status_code == 200
    assert client.get(url(model, "change", obj.pk)).status_code == 200


def test_committee_member_lists_only_residents_of_their_community(world, staff_client):
    page = staff_client(world.committee1).get(url("resident")).content.decode()
    assert "赵爱国" in page and "赵秀英" in page
    assert "陈建国" not in page and "李明" not in page


def test_community_filter_of_a_committee_member_offers_only_their_community(world, staff_client):
    page = staff_client(world.committee1).get(url("resident")).content.decode()
    assert "新庄赵村" in page
    assert "泰山社区" not in page and "外村" not in page


def test_committee_member_is_turned_away_from_another_communitys_resident(world, staff_client):
    client = staff_client(world.committee1)
    response = client.get(url("resident", "change", world.resident3.pk))
    assert response.status_code == 302
    assert response.url == "/admin/"  # the admin's "does not exist", not the login page
    assert "陈建国" not in client.get(response.url).content.decode()


def test_grid_worker_lists_only_households_of_their_grid(world, staff_client):
    page = staff_client(world.worker1.user).get(url("household")).content.decode()
    assert world.household1.address in page
    assert world.household2.address not in page


def test_committee_member_cannot_put_a_household_in_another_communitys_grid(world, staff_client):
    client = staff_client(world.committee1)
    data = {"grid": world.grid3.pk, "complex": "", "village_group": "五组", "house_number": "9"}
    data |= {"residents-TOTAL_FORMS": "0", "residents-INITIAL_FORMS": "0"}
    response = client.post(url("household", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["grid"]
    assert not Household.objects.filter(house_number="9").exists()

    data["grid"] = world.grid1.pk
    assert client.post(url("household", "add"), data).status_code == 302
    assert Household.objects.get(house_number="9").grid == world.grid1


def test_committee_member_cannot_move_a_resident_to_another_communitys_household(
    world, staff_client
):
    resident = world.resident1
    data = {
        "household": world.household3.pk,
        "name": resident.name,
        "gender": resident.gender,
        "birth_date": resident.birth_date.isoformat(),
        "phone": resident.phone,
    }
    response = staff_client(world.committee1).post(url("resident", "change", resident.pk), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["household"]
    resident.refresh_from_db()
    assert resident.household == world.household1


def test_head_of_household_is_chosen_among_its_own_residents(world, staff_client):
    response = staff_client(world.committee1).get(url("household", "change", world.household1.pk))
    choices = response.context["adminform"].form.fields["head"].queryset
    assert list(choices) == [world.resident1]


# ---------------------------------------------------------------------------- ID numbers


def test_id_number_is_masked_in_the_list_for_a_committee_member(world, staff_client):
    page = staff_client(world.committee1).get(url("resident")).content.decode()
    assert mask_id_number(world.resident1.id_number) in page
    assert world.resident1.id_number not in page


def test_id_number_is_masked_and_read_only_on_the_change_form_for_a_committee_member(
    world, staff_client
):
    page = (
        staff_client(world.committee1)
        .get(url("resident", "change", world.resident1.pk))
        .content.decode()
    )
    assert mask_id_number(world.resident1.id_number) in page
    assert world.resident1.id_number not in page
    assert 'name="id_number"' not in page


def test_saving_the_change_form_with_a_masked_id_number_keeps_the_number(world, staff_client):
    resident = world.resident1
    data = {
        "household": resident.household_id,
        "name": "赵爱民",
        "phone": resident.phone,
        "id_number": "11010119900101001X",  # not on the form: ignored
    }
    response = staff_client(world.committee1).post(url("resident", "change", resident.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    old_number = resident.id_number
    resident.refresh_from_db()
    assert (resident.name, resident.id_number) == ("赵爱民", old_number)


def test_id_number_is_shown_in_full_to_a_user_with_the_permission(
    world, staff_client, full_id_viewer
):
    client = staff_client(full_id_viewer)
    number = world.resident1.id_number
    assert number in client.get(url("resident")).content.decode()
    form_page = client.get(url("resident", "change", world.resident1.pk)).content.decode()
    assert f'name="id_number" value="{number}"' in form_page


def test_id_numbers_are_masked_in_the_residents_table_of_a_household(world, staff_client):
    page = (
        staff_client(world.committee1)
        .get(url("household", "change", world.household1.pk))
        .content.decode()
    )
    assert mask_id_number(world.resident1.id_number) in page
    assert world.resident1.id_number not in page


def test_committee_member_types_the_id_number_when_adding_a_resident(world, staff_client):
    client = staff_client(world.committee1)
    assert 'name="id_number"' in client.get(url("resident", "add")).content.decode()
    number = make_id_number("411102", dt.date(1990, 5, 6), 124)
    data = {"household": world.household1.pk, "name": "赵小红", "id_number": number.lower()}
    response = client.post(url("resident", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    resident = Resident.objects.get(name="赵小红")
    # Birth date and gender were left empty: they come from the ID number.
    assert (resident.id_number, resident.birth_date, resident.gender) == (
        number,
        dt.date(1990, 5, 6),
        "F",
    )


def test_a_birth_date_disagreeing_with_the_id_number_is_refused(world, staff_client):
    number = make_id_number("411102", dt.date(1990, 5, 6), 124)
    data = {
        "household": world.household1.pk,
        "name": "赵小红",
        "id_number": number,
        "birth_date": "1991-05-06",
    }
    response = staff_client(world.committee1).post(url("resident", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["birth_date"]


def test_a_whole_id_number_finds_its_resident_but_a_part_of_one_does_not(world, staff_client):
    client = staff_client(world.committee1)
    number = world.resident1.id_number
    found = client.get(url("resident"), {"q": number}).content.decode()
    assert "赵爱国" in found
    partial = client.get(url("resident"), {"q": number[:10]}).content.decode()
    assert "赵爱国" not in partial


def test_searching_another_communitys_id_number_finds_nothing(world, staff_client):
    page = (
        staff_client(world.committee1)
        .get(url("resident"), {"q": world.resident3.id_number})
        .content.decode()
    )
    assert "陈建国" not in page


def test_export_masks_id_numbers_for_a_committee_member(world, staff_client):
    csv_index = "1"  # ResidentAdmin.export_formats: XLSX, CSV
    fields = {f"residentresource_{name}": "on" for name in ResidentResource._meta.fields}
    response = staff_client(world.committee1).post(
        url("resident", "export"), {"format": csv_index, "resource": "0", **fields}
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "赵爱国" in text and "陈建国" not in text
    assert mask_id_number(world.resident1.id_number) in text
    assert world.resident1.id_number not in text


# ---------------------------------------------------------------------------- bulk tag actions


def tag_action(client: Client, action: str, tag: Any, residents: list[Any]) -> Any:
    return client.post(
        url("resident"),
        {"action": action, "tag": tag.pk, "_selected_action": [r.pk for r in residents]},
        follow=True,
    )


def test_committee_member_adds_a_tag_to_selected_residents_of_their_community_only(
    world, staff_client
):
    tag = f.TagFactory(name="独居老人")
    world.resident2.tags.add(tag)  # already tagged: no duplicate, not counted
    residents = [world.resident1, world.resident2, world.resident3]
    response = tag_action(staff_client(world.committee1), "add_tag_action", tag, residents)
    assert "added to 1 resident" in response.content.decode()
    assert set(tag.residents.all()) == {world.resident1, world.resident2}


def test_committee_member_removes_a_tag_from_selected_residents(world, staff_client):
    tag = f.TagFactory(name="独居老人")
    for resident in (world.resident1, world.resident2, world.resident3):
        resident.tags.add(tag)
    residents = [world.resident1, world.resident3]
    response = tag_action(staff_client(world.committee1), "remove_tag_action", tag, residents)
    assert "removed from 1 resident" in response.content.decode()
    assert set(tag.residents.all()) == {world.resident2, world.resident3}


def test_tag_action_without_a_chosen_tag_changes_nothing(world, staff_client):
    tag = f.TagFactory(name="独居老人")
    response = staff_client(world.committee1).post(
        url("resident"),
        {"action": "add_tag_action", "tag": "", "_selected_action": [world.resident1.pk]},
        follow=True,
    )
    assert "Choose a tag" in response.content.decode()
    assert not tag.residents.exists()


def test_tag_action_costs_the_same_number_of_queries_for_many_residents(world, staff_client):
    tag = f.TagFactory(name="独居老人")
    client = staff_client(world.committee1)

    def count(residents: list[Any]) -> int:
        with CaptureQueriesContext(connection) as queries:
            tag_action(client, "add_tag_action", tag, residents)
        return len(queries)

    few = count([f.ResidentFactory(household=world.household1) for _ in range(2)])
    many = count([f.ResidentFactory(household=world.household1) for _ in range(30)])
    assert many == few


# ---------------------------------------------------------------------------- households, visits


def test_the_household_page_links_to_adding_a_resident_to_it(world, staff_client):
    client = staff_client(world.committee1)
    page = client.get(url("household", "change", world.household1.pk)).content.decode()
    link = f"{url('resident', 'add')}?household={world.household1.pk}"
    assert link in page
    form = client.get(link).context["adminform"].form
    assert form.initial["household"] == str(world.household1.pk)


def test_grid_worker_logs_visits_as_themselves_only(world, staff_client):
    client = staff_client(world.worker1.user)
    data = {
        "household": world.household1.pk,
        "visited_at_0": "2026-01-05",
        "visited_at_1": "10:00:00",
        "method": "in_person",
        "notes": "入户走访",
    }
    response = client.post(url("visit", "add"), data | {"worker": world.worker2.pk})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["worker"]
    response = client.post(url("visit", "add"), data | {"worker": world.worker1.pk})
    assert response.status_code == 302
    assert world.household1.visits.get().worker == world.worker1


def test_grid_worker_cannot_log_a_visit_to_a_household_of_another_grid(world, staff_client):
    data = {
        "household": world.household2.pk,
        "worker": world.worker1.pk,
        "visited_at_0": "2026-01-05",
        "visited_at_1": "10:00:00",
        "method": "in_person",
    }
    response = staff_client(world.worker1.user).post(url("visit", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["household"]
    assert not world.household2.visits.exists()
