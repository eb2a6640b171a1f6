"""Partner organisations (公益合伙人) appear in the community's resources list (资源清单), and
their row there follows the organisation."""

from __future__ import annotations

import pytest

from grids.models import Resource
from tests.api_helpers import client, ids, url
from volunteers.models import PartnerOrganisation

BODY = {"name": "孙东晓律师事务所", "service": "免费法律咨询", "contact_name": "孙东晓"}


def create(world, vol, **extra):
    body = {"community": world.community2.id, **BODY, "contact_phone": "13912345678", **extra}
    r = client(vol.committee2).post(url("partner-organisations"), body, format="json")
    assert r.status_code == 201, r.content
    return PartnerOrganisation.objects.get(pk=r.json()["id"])


def test_a_new_partner_organisation_is_listed_among_the_resources(world, vol):
    organisation = create(world, vol)
    r = client(vol.committee2).get(url("resources"), {"community": world.community2.id})
    assert r.status_code == 200
    [row] = [row for row in r.json()["results"] if row["partner_organisation"]]
    assert row["partner_organisation"] == organisation.id
    assert row["provider"] == "孙东晓律师事务所"
    assert row["name"] == "免费法律咨询"
    assert row["contact"] == "孙东晓 13912345678"
    assert row["active"] is True


@pytest.mark.parametrize(("who", "sees"), [("worker3", True), ("admin1", True), ("admin2", False)])
def test_the_organisations_resource_is_scoped_like_the_community(world, vol, who, sees):
    organisation = create(world, vol)
    user = {"worker3": world.worker3.user, "admin1": world.admin1, "admin2": world.admin2}[who]
    r = client(user).get(url("resources"))
    assert (organisation.resource.id in ids(r)) is sees


def test_changing_the_organisation_changes_its_resource_row(world, vol):
    organisation = create(world, vol)
    r = client(vol.committee2).patch(
        url("partner-organisations", organisation.id),
        {"service": "免费法律咨询、法律援助", "active": False},
        format="json",
    )
    assert r.status_code == 200, r.content
    row = Resource.objects.get(partner_organisation=organisation)
    assert (row.name, row.active) == ("免费法律咨询、法律援助", False)
    assert Resource.objects.filter(partner_organisation=organisation).count() == 1


def test_the_organisations_row_cannot_be_edited_or_deleted_in_the_resources_list(world, vol):
    organisation = create(world, vol)
    row = organisation.resource
    c = client(vol.committee2)
    r = c.patch(url("resources", row.id), {"name": "别的"}, format="json")
    assert r.status_code == 400 and "partner_organisation" in r.json()
    r = c.delete(url("resources", row.id))
    assert r.status_code == 400 and "partner_organisation" in r.json()
    row.refresh_from_db()
    assert row.name == "免费法律咨询"


def test_deleting_the_organisation_takes_its_row_off_the_list(world, vol):
    organisation = create(world, vol)
    r = client(vol.committee2).delete(url("partner-organisations", organisation.id))
    assert r.status_code == 204
    assert not Resource.objects.filter(provider="孙东晓律师事务所").exists()
