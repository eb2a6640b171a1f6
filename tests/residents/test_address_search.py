"""A household is found by its address as the lists display it (issue 16, rough edges):
"一组3号" is village_group 一组 + house_number 3, which field-by-field search cannot find."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from residents.models import Household, Resident, Visit
from residents.selectors import search_by_shown_address
from tests import factories as f


@pytest.fixture
def homes(world):
    w = world
    w.v3 = f.HouseholdFactory(grid=w.grid1, village=True, village_group="一组", house_number="3")
    w.v13 = f.HouseholdFactory(grid=w.grid1, village=True, village_group="一组", house_number="13")
    w.v3b = f.HouseholdFactory(grid=w.grid1, village=True, village_group="二组", house_number="3")
    w.flat = f.HouseholdFactory(
        grid=w.grid1, complex="幸福小区", building="3", unit="2", room="301"
    )
    return w


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一组3号", {"v3"}),
        ("一组 3号", {"v3"}),
        (" 一组3 ", {"v3"}),
        ("一组13号", {"v13"}),
        ("二组3号", {"v3b"}),
        ("3号楼2单元", {"flat"}),
        ("幸福小区 3号楼 2单元 301", {"flat"}),
        ("三组3号", set()),
    ],
)
def test_the_address_as_displayed_is_found(homes, text, expected):
    mine = Household.objects.filter(pk__in=[homes.v3.pk, homes.v13.pk, homes.v3b.pk, homes.flat.pk])
    found = set(search_by_shown_address(mine, text).values_list("pk", flat=True))
    assert found == {getattr(homes, name).pk for name in expected}
    # Exactly what the lists show: the expression and Household.address agree.
    for household in mine:
        assert search_by_shown_address(mine, household.address).filter(pk=household.pk).exists()


def test_the_admin_searches_finds_it(homes, staff_client):
    client = staff_client(homes.committee1, "view_household", "view_resident", "view_visit")
    resident = f.ResidentFactory(household=homes.v3, name="钱多多")
    page = client.get(reverse("admin:residents_household_changelist"), {"q": "一组 3号"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [homes.v3]
    page = client.get(reverse("admin:residents_resident_changelist"), {"q": "一组3号"})
    assert list(page.context["cl"].result_list) == [resident]
    # Still by name, as before.
    page = client.get(reverse("admin:residents_resident_changelist"), {"q": "钱多多"})
    assert list(page.context["cl"].result_list) == [resident]
    visit = Visit.objects.create(household=homes.v3, worker=homes.worker1, method="home")
    page = client.get(reverse("admin:residents_visit_changelist"), {"q": "一组3号"})
    assert list(page.context["cl"].result_list) == [visit]
    assert Resident.objects.filter(pk=resident.pk).exists()


def test_the_api_search_finds_it_in_scope_only(homes):
    api = APIClient()
    api.force_authenticate(homes.worker1.user)
    r = api.get("/api/v1/households/", {"search": "一组3号"})
    assert r.status_code == 200, r.content
    assert [row["id"] for row in r.json()["results"]] == [homes.v3.pk]
    # Another grid's worker does not find it.
    f.HouseholdFactory(grid=homes.grid4, village=True, village_group="一组", house_number="3")
    api.force_authenticate(homes.worker4.user)
    r = api.get("/api/v1/households/", {"search": "一组3号"})
    assert [row["id"] for row in r.json()["results"]] != [homes.v3.pk]
    assert len(r.json()["results"]) == 1
