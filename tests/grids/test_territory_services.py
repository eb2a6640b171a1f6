"""The writes of grids.services that views, serializers and the admin used to do themselves:
a new community with its rule book (through grids.signals, so grids imports no points), a
partner unit with its agreements (the service checks its user, per persona), and the admin's
delete of a council (through the service's rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.exceptions import PermissionDenied

from grids import services
from grids.models import Community, Council, PartnerUnit
from grids.signals import community_created
from points.models import Rule
from tests import factories as f
from tests.api_helpers import client, fresh

# ---------------------------------------------------------------------------- communities


def test_a_community_created_through_the_api_gets_its_streets_default_rule_book(world):
    Rule.objects.create(
        street=world.street1, code="R01", name="卫生清扫", category="reward", points=1
    )
    Rule.objects.create(
        street=world.street2, code="R02", name="别处细则", category="reward", points=1
    )
    body = {"street": world.street1.pk, "name": "新村", "code": "xincun", "kind": "village"}
    r = client(world.superuser).post("/api/v1/communities/", body)
    assert r.status_code == 201, r.content
    rules = Rule.objects.filter(community_id=r.json()["id"])
    assert list(rules.values_list("code", flat=True)) == ["R01"]


def test_create_community_announces_the_new_community_once(world):
    heard: list[Any] = []

    def listen(sender: Any, *, community: Community, **kwargs: Any) -> None:
        heard.append((sender, community.pk))

    community_created.connect(listen)
    try:
        community = services.create_community(
            Community(street=world.street1, name="新村", code="xincun", kind="village")
        )
    finally:
        community_created.disconnect(listen)
    assert heard == [(Community, community.pk)]


def test_grids_imports_no_points_module():
    """grids sits below points (points imports grids.models): the rule book reaches a new
    community through the signal, not through an import."""
    import ast
    from pathlib import Path

    import grids

    for path in Path(grids.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("points"), (path, node.module)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("points") for a in node.names), path


# ---------------------------------------------------------------------------- partner units


def agreement(community: Community) -> dict[str, Any]:
    return {"community": community, "signed_on": dt.date(2025, 6, 1)}


@pytest.mark.parametrize(
    ("who", "allowed"),
    # owner: the street admin of community 1, the superuser; colleague with another scope:
    # the other street's admin, another community's committee; outsider: a stranger.
    [("admin1", True), ("superuser", True), ("admin2", False), ("committee3", False),
     ("stranger", False)],
)  # fmt: skip
def test_a_partner_unit_signs_only_with_communities_in_the_users_area(world, who, allowed):
    user = fresh(getattr(world, who))
    fields = {"name": "市财政局", "agreements": [agreement(world.community1)]}
    if allowed:
        unit = services.create_partner_unit(user=user, **fields)
        assert list(unit.communities.all()) == [world.community1]
    else:
        with pytest.raises(PermissionDenied):
            services.create_partner_unit(user=user, **fields)
        assert not PartnerUnit.objects.filter(name="市财政局").exists()


@pytest.mark.parametrize(("who", "allowed"), [("admin1", False), ("admin2", True)])
def test_replacing_the_agreements_may_not_end_one_outside_the_users_area(world, who, allowed):
    unit = world.partner
    unit.agreements.all().delete()
    unit.agreements.create(community=world.community3, signed_on=dt.date(2025, 4, 1))
    user = fresh(getattr(world, who))
    if allowed:
        services.update_partner_unit(user=user, unit=unit, agreements=[], name="市委办公室")
        assert (unit.name, unit.agreements.count()) == ("市委办公室", 0)
    else:
        with pytest.raises(PermissionDenied):
            services.update_partner_unit(user=user, unit=unit, agreements=[], name="x")
        unit.refresh_from_db()
        assert (unit.name, unit.agreements.count()) == ("市委办", 1)


def test_changing_a_partner_units_name_keeps_its_agreements(world):
    unit = world.partner
    before = list(unit.agreements.values_list("community", "signed_on"))
    services.update_partner_unit(user=world.admin1, unit=unit, contact_name="王主任")
    assert list(unit.agreements.values_list("community", "signed_on")) == before
    assert PartnerUnit.objects.get(pk=unit.pk).contact_name == "王主任"


# ---------------------------------------------------------------------------- councils


def test_the_admin_deletes_a_planned_council_through_the_service(world, staff_client):
    council = services.plan_council(community=world.community1, month=dt.date(2027, 2, 1))
    admin = staff_client(world.committee1, "view_council", "delete_council")
    response = admin.post(reverse("admin:grids_council_delete", args=[council.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert response.url == reverse("admin:grids_council_changelist")
    assert not Council.objects.filter(pk=council.pk).exists()


def test_the_admin_keeps_a_council_whose_agenda_is_fixed(world, staff_client):
    council = services.plan_council(community=world.community1, month=dt.date(2027, 2, 1))
    Council.objects.filter(pk=council.pk).update(status=Council.Status.AGENDA_FIXED)
    admin = staff_client(world.committee1, "view_council", "delete_council")
    path = reverse("admin:grids_council_delete", args=[council.pk])
    response = admin.post(path, {"post": "yes"})
    assert response.status_code == 302
    assert response.url == path  # back to the confirmation, with the service's reason
    assert Council.objects.filter(pk=council.pk).exists()


def test_another_communitys_committee_cannot_delete_the_council_in_the_admin(world, staff_client):
    council = services.plan_council(community=world.community1, month=dt.date(2027, 2, 1))
    admin = staff_client(world.committee3, "view_council", "delete_council")
    response = admin.post(reverse("admin:grids_council_delete", args=[council.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert response.url == "/admin/"  # not in their queryset: the admin's "does not exist"
    assert Council.objects.filter(pk=council.pk).exists()


def test_a_community_factory_sends_nothing(world):
    """Only the service announces a community: fixtures and factories make bare rows."""
    community = f.CommunityFactory(street=world.street1, name="空村", code="kong")
    assert not Rule.objects.filter(community=community).exists()
