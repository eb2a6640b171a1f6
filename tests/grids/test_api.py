"""The grids API (streets, communities, grids, grid workers, partner units) for each persona:
the owner of a scope, a colleague with another scope, and an outsider."""

from __future__ import annotations

import datetime as dt

import pytest

from grids.models import Community, Grid, GridAssignment, GridWorker, PartnerUnit, Street
from tests import factories as f
from tests.api_helpers import body_for, client, ids, url

# ---------------------------------------------------------------------------- lists by persona


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["street1"]),
        ("committee1", ["street1"]),
        ("committee3", ["street2"]),
        ("admin1", ["street1"]),
        ("admin2", ["street2"]),
        ("superuser", ["street1", "street2"]),
    ],
)
def test_each_persona_lists_only_the_streets_of_their_scope(world, persona, expected):
    r = client(getattr(world, persona)).get(url("streets"))
    assert ids(r) == sorted(getattr(world, name).id for name in expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["community1"]),
        ("worker3", ["community2"]),
        ("committee1", ["community1"]),
        ("committee3", ["community3"]),
        ("admin1", ["community1", "community2"]),
        ("admin2", ["community3"]),
    ],
)
def test_each_persona_lists_only_the_communities_of_their_scope(world, persona, expected):
    r = client(getattr(world, persona)).get(url("communities"))
    assert ids(r) == sorted(getattr(world, name).id for name in expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["grid1"]),
        ("worker2", ["grid2"]),
        ("committee1", ["grid1", "grid2"]),
        ("committee3", ["grid4"]),
        ("admin1", ["grid1", "grid2", "grid3"]),
        ("admin2", ["grid4"]),
    ],
)
def test_each_persona_lists_only_the_grids_of_their_scope(world, persona, expected):
    r = client(getattr(world, persona)).get(url("grids"))
    assert ids(r) == sorted(getattr(world, name).id for name in expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("worker1", ["worker1"]),
        ("worker2", ["worker2"]),
        ("committee1", ["worker1", "worker2"]),
        ("committee3", ["worker4"]),
        ("admin1", ["worker1", "worker2", "worker3"]),
        ("admin2", ["worker4"]),
    ],
)
def test_each_persona_lists_only_the_grid_workers_of_their_scope(world, persona, expected):
    r = client(getattr(world, persona)).get(url("grid-workers"))
    assert ids(r) == sorted(getattr(world, name).id for name in expected)


@pytest.mark.parametrize(
    ("persona", "sees_partner"),
    [
        ("admin1", True),  # the partner signed with community 2, in street 1
        ("worker3", True),  # grid 3 is in community 2
        ("partner_user", True),  # the unit's own contact
        ("admin2", False),
        ("committee1", False),
        ("worker1", False),
    ],
)
def test_partner_units_are_listed_where_they_signed_an_agreement(world, persona, sees_partner):
    r = client(getattr(world, persona)).get(url("partner-units"))
    assert ids(r) == ([world.partner.id] if sees_partner else [])


@pytest.mark.parametrize(
    "endpoint", ["streets", "communities", "grids", "grid-workers", "partner-units"]
)
def test_a_user_with_no_role_cannot_list_grids_endpoints(world, endpoint):
    r = client(world.stranger).get(url(endpoint))
    assert r.status_code == 403
    assert "detail" in r.json()


@pytest.mark.parametrize("endpoint", ["streets", "grids", "grid-workers"])
def test_a_resident_cannot_list_the_territory(world, endpoint):
    assert client(world.resident_user).get(url(endpoint)).status_code == 403


def test_a_team_leader_with_no_post_sees_no_community(world):
    leader = f.UserFactory(username="leader", groups=["team_leader"])
    assert ids(client(leader).get(url("communities"))) == []


# ---------------------------------------------------------------------------- retrieve


@pytest.mark.parametrize(
    ("persona", "endpoint", "obj"),
    [
        ("worker1", "streets", "street2"),
        ("admin1", "streets", "street2"),
        ("worker1", "communities", "community2"),
        ("committee1", "communities", "community3"),
        ("admin2", "communities", "community1"),
        ("worker1", "grids", "grid2"),
        ("committee3", "grids", "grid1"),
        ("admin1", "grids", "grid4"),
        ("worker1", "grid-workers", "worker2"),
        ("committee1", "grid-workers", "worker3"),
        ("admin2", "grid-workers", "worker1"),
        ("admin2", "partner-units", "partner"),
        ("worker1", "partner-units", "partner"),
    ],
)
def test_an_object_outside_the_scope_answers_404(world, persona, endpoint, obj):
    r = client(getattr(world, persona)).get(url(endpoint, getattr(world, obj).id))
    assert r.status_code == 404
    assert "detail" in r.json()


@pytest.mark.parametrize(
    ("persona", "endpoint", "obj"),
    [
        ("worker1", "streets", "street1"),
        ("admin2", "communities", "community3"),
        ("committee1", "grids", "grid2"),
        ("worker1", "grid-workers", "worker1"),
        ("partner_user", "partner-units", "partner"),
    ],
)
def test_an_object_inside_the_scope_is_retrieved(world, persona, endpoint, obj):
    r = client(getattr(world, persona)).get(url(endpoint, getattr(world, obj).id))
    assert r.status_code == 200, r.content
    assert r.json()["id"] == getattr(world, obj).id


# ---------------------------------------------------------------------------- streets


def test_only_a_superuser_creates_a_street(world):
    body = body_for("streets", world)
    assert client(world.admin1).post(url("streets"), body).status_code == 403
    r = client(world.superuser).post(url("streets"), body)
    assert r.status_code == 201, r.content
    assert Street.objects.filter(code=body["code"]).exists()


def test_street_admin_renames_their_own_street_but_not_another(world):
    c = client(world.admin1)
    assert c.patch(url("streets", world.street1.id), {"name": "沙北新区"}).status_code == 200
    assert c.patch(url("streets", world.street2.id), {"name": "改名"}).status_code == 404
    world.street2.refresh_from_db()
    assert world.street2.name == "万金镇"


def test_streets_filter_by_code_and_order_by_name(world):
    c = client(world.superuser)
    assert ids(c.get(url("streets"), {"code": "wanjin"})) == [world.street2.id]
    rows = c.get(url("streets"), {"ordering": "-code"}).json()["results"]
    assert [s["code"] for s in rows] == ["wanjin", "shabei"]


def test_a_street_code_with_spaces_is_refused_with_a_field_message(world):
    r = client(world.superuser).post(url("streets"), {"name": "新街道", "code": "a b"})
    assert r.status_code == 400
    assert "code" in r.json()


# ---------------------------------------------------------------------------- communities


def test_street_admin_creates_a_community_in_their_street(world):
    body = body_for("communities", world)
    r = client(world.admin1).post(url("communities"), body)
    assert r.status_code == 201, r.content
    assert Community.objects.get(pk=r.json()["id"]).street == world.street1


def test_street_admin_cannot_create_a_community_in_another_street(world):
    body = {**body_for("communities", world), "street": world.street2.id}
    r = client(world.admin1).post(url("communities"), body)
    assert r.status_code == 403
    assert not Community.objects.filter(code=body["code"]).exists()


@pytest.mark.parametrize("persona", ["committee1", "worker1", "resident_user", "stranger"])
def test_roles_without_the_permission_cannot_create_a_community(world, persona):
    r = client(getattr(world, persona)).post(url("communities"), body_for("communities", world))
    assert r.status_code == 403


def test_street_admin_cannot_move_a_community_to_another_street(world):
    r = client(world.admin1).patch(
        url("communities", world.community1.id), {"street": world.street2.id}
    )
    assert r.status_code == 403
    world.community1.refresh_from_db()
    assert world.community1.street == world.street1


def test_street_admin_cannot_update_a_community_of_another_street(world):
    r = client(world.admin1).patch(url("communities", world.community3.id), {"name": "x"})
    assert r.status_code == 404


def test_a_community_name_is_unique_within_its_street(world):
    body = {**body_for("communities", world), "name": world.community1.name}
    r = client(world.admin1).post(url("communities"), body)
    assert r.status_code == 400
    assert "non_field_errors" in r.json()


def test_a_community_with_grids_cannot_be_deleted_and_answers_409_json(world):
    r = client(world.admin1).delete(url("communities", world.community1.id))
    assert r.status_code == 409
    assert "detail" in r.json()
    assert Community.objects.filter(pk=world.community1.id).exists()


def test_communities_filter_by_kind(world):
    r = client(world.admin1).get(url("communities"), {"kind": "village"})
    assert ids(r) == [world.community1.id]


# ---------------------------------------------------------------------------- grids


def test_street_admin_creates_a_grid_in_a_community_of_their_street(world):
    r = client(world.admin1).post(url("grids"), body_for("grids", world))
    assert r.status_code == 201, r.content
    assert Grid.objects.get(pk=r.json()["id"]).community == world.community1


def test_street_admin_cannot_create_a_grid_in_another_street(world):
    body = {**body_for("grids", world), "community": world.community3.id}
    assert client(world.admin1).post(url("grids"), body).status_code == 403
    assert not Grid.objects.filter(code=body["code"]).exists()


def test_committee_cannot_create_a_grid(world):
    assert client(world.committee1).post(url("grids"), body_for("grids", world)).status_code == 403


def test_committee_names_the_leader_of_a_grid_of_their_community(world):
    r = client(world.committee1).patch(url("grids", world.grid1.id), {"leader": world.worker2.id})
    assert r.status_code == 200, r.content
    world.grid1.refresh_from_db()
    assert world.grid1.leader == world.worker2


def test_a_grid_leader_from_another_community_is_refused_with_a_field_message(world):
    r = client(world.admin1).patch(url("grids", world.grid1.id), {"leader": world.worker3.id})
    assert r.status_code == 400
    assert "leader" in r.json()


def test_a_grid_cannot_move_to_another_community_keeping_its_leader(world):
    world.grid2.leader = world.worker2
    world.grid2.save()
    r = client(world.superuser).patch(
        url("grids", world.grid2.id), {"community": world.community2.id}
    )
    assert r.status_code == 400
    assert "leader" in r.json()
    r = client(world.superuser).patch(
        url("grids", world.grid2.id), {"community": world.community2.id, "leader": None}
    )
    assert r.status_code == 200, r.content


def test_committee_cannot_move_a_grid_to_another_community(world):
    r = client(world.committee1).patch(
        url("grids", world.grid2.id), {"community": world.community3.id}
    )
    assert r.status_code == 403
    world.grid2.refresh_from_db()
    assert world.grid2.community == world.community1


def test_committee_cannot_update_a_grid_of_another_community(world):
    r = client(world.committee3).patch(url("grids", world.grid1.id), {"name": "x"})
    assert r.status_code == 404


def test_worker_cannot_rename_their_grid(world):
    r = client(world.worker1).patch(url("grids", world.grid1.id), {"name": "改名"})
    assert r.status_code == 403


def test_grids_filter_by_street_and_community(world):
    c = client(world.superuser)
    assert ids(c.get(url("grids"), {"street": world.street2.id})) == [world.grid4.id]
    assert ids(c.get(url("grids"), {"community": world.community1.id})) == sorted(
        [world.grid1.id, world.grid2.id]
    )


def test_grids_search_by_name(world):
    r = client(world.superuser).get(url("grids"), {"search": "黄山"})
    assert ids(r) == [world.grid3.id]


# ---------------------------------------------------------------------------- grid workers


def test_committee_registers_a_grid_worker_in_their_community(world):
    r = client(world.committee1).post(url("grid-workers"), body_for("grid-workers", world))
    assert r.status_code == 201, r.content
    assert GridWorker.objects.get(pk=r.json()["id"]).community == world.community1


def test_committee_cannot_register_a_grid_worker_in_another_community(world):
    body = {**body_for("grid-workers", world), "community": world.community3.id}
    assert client(world.committee1).post(url("grid-workers"), body).status_code == 403
    assert not GridWorker.objects.filter(name=body["name"]).exists()


def test_worker_cannot_register_another_worker(world):
    r = client(world.worker1).post(url("grid-workers"), body_for("grid-workers", world))
    assert r.status_code == 403


def test_committee_cannot_update_a_worker_of_another_community(world):
    r = client(world.committee1).patch(url("grid-workers", world.worker4.id), {"name": "x"})
    assert r.status_code == 404


def test_a_bad_worker_phone_is_refused_with_a_field_message(world):
    body = {**body_for("grid-workers", world), "phone": "12345"}
    r = client(world.committee1).post(url("grid-workers"), body)
    assert r.status_code == 400
    assert "phone" in r.json()


def test_grid_worker_shows_only_the_grids_assigned_today(world):
    past = f.GridFactory(community=world.community1, code="OLD")
    GridAssignment.objects.create(
        worker=world.worker1,
        grid=past,
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2021, 1, 1),
    )
    r = client(world.committee1).get(url("grid-workers", world.worker1.id))
    assert r.json()["grids"] == [world.grid1.id]
    assert r.json()["username"] == "worker"


def test_grid_workers_filter_by_grid(world):
    r = client(world.committee1).get(url("grid-workers"), {"grid": world.grid2.id})
    assert ids(r) == [world.worker2.id]


def test_a_worker_whose_assignment_ended_no_longer_sees_the_grid(world):
    GridAssignment.objects.filter(worker=world.worker1).update(end_date=dt.date(2024, 6, 30))
    c = client(world.worker1)
    assert ids(c.get(url("grids"))) == []
    assert c.get(url("grids", world.grid1.id)).status_code == 404


# ---------------------------------------------------------------------------- partner units


def test_street_admin_creates_a_partner_unit_with_an_agreement_in_their_street(world):
    r = client(world.admin1).post(url("partner-units"), body_for("partner-units", world))
    assert r.status_code == 201, r.content
    unit = PartnerUnit.objects.get(pk=r.json()["id"])
    assert list(unit.communities.all()) == [world.community1]
    assert r.json()["agreements"] == [{"community": world.community1.id, "signed_on": "2025-06-01"}]


def test_street_admin_cannot_sign_a_partner_unit_with_a_community_of_another_street(world):
    body = body_for("partner-units", world)
    body["agreements"].append({"community": world.community3.id, "signed_on": "2025-06-01"})
    assert client(world.admin1).post(url("partner-units"), body).status_code == 403
    assert not PartnerUnit.objects.filter(name=body["name"]).exists()


def test_committee_cannot_create_a_partner_unit(world):
    r = client(world.committee1).post(url("partner-units"), body_for("partner-units", world))
    assert r.status_code == 403


def test_street_admin_cannot_update_a_partner_unit_outside_their_street(world):
    r = client(world.admin2).patch(url("partner-units", world.partner.id), {"name": "x"})
    assert r.status_code == 404


def test_street_admin_cannot_drop_another_streets_agreement_by_replacing_the_list(world):
    world.partner.agreements.create(community=world.community3, signed_on=dt.date(2025, 4, 1))
    r = client(world.admin1).patch(
        url("partner-units", world.partner.id),
        {"agreements": [{"community": world.community2.id, "signed_on": "2025-03-01"}]},
    )
    assert r.status_code == 403
    assert set(world.partner.agreements.values_list("community", flat=True)) == {
        world.community2.id,
        world.community3.id,
    }


def test_street_admin_replaces_the_agreements_inside_their_street(world):
    r = client(world.admin1).patch(
        url("partner-units", world.partner.id),
        {"agreements": [{"community": world.community1.id, "signed_on": "2025-05-01"}]},
    )
    assert r.status_code == 200, r.content
    assert list(world.partner.agreements.values_list("community", flat=True)) == [
        world.community1.id
    ]


def test_a_partner_unit_signed_twice_with_one_community_is_refused(world):
    body = body_for("partner-units", world)
    body["agreements"] *= 2
    r = client(world.admin1).post(url("partner-units"), body)
    assert r.status_code == 400
    assert "agreements" in r.json()


def test_a_partner_unit_with_two_agreements_in_scope_is_listed_once(world):
    world.partner.agreements.create(community=world.community1, signed_on=dt.date(2025, 4, 1))
    assert ids(client(world.admin1).get(url("partner-units"))) == [world.partner.id]


def test_partner_units_filter_by_community(world):
    c = client(world.superuser)
    assert ids(c.get(url("partner-units"), {"community": world.community2.id})) == [
        world.partner.id
    ]
    assert ids(c.get(url("partner-units"), {"community": world.community1.id})) == []
