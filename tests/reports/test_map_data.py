"""The grid map's data (issue 12): boundaries checked by core.geo, edited in the admin by
pasting or uploading GeoJSON; household locations set by a visit's phone position; the demo's
boundaries."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from core import geo
from grids.models import Grid
from residents.models import Household, Visit

RING = [[114.0, 33.5], [114.01, 33.5], [114.01, 33.51], [114.0, 33.51], [114.0, 33.5]]
SQUARE = {"type": "Polygon", "coordinates": [RING]}


# ---------------------------------------------------------------------------- core.geo


def test_a_closed_polygon_is_accepted_and_a_feature_is_unwrapped() -> None:
    assert geo.clean_polygon(SQUARE) == SQUARE
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    assert geo.clean_polygon({"type": "FeatureCollection", "features": [feature]}) == SQUARE
    assert geo.clean_polygon(json.dumps(feature), crs=geo.GCJ02) == SQUARE


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({"type": "Polygon", "coordinates": [[*RING[:2], RING[0]]]}, "too_few"),
        ({"type": "Polygon", "coordinates": [[*RING[:-1], [114.0, 33.52]]]}, "not_closed"),
        ({"type": "Polygon", "coordinates": [[[200, 33.5], *RING[1:]]]}, "longitude"),
        ({"type": "Polygon", "coordinates": [[[114.0, 95], *RING[1:]]]}, "latitude"),
        ({"type": "Point", "coordinates": [114.0, 33.5]}, "type"),
        ({"type": "Polygon", "coordinates": [[["a", 1], *RING[1:]]]}, "position"),
        ({"type": "Polygon", "coordinates": []}, "rings"),
        ("not json", "json"),
        ({"type": "FeatureCollection", "features": []}, "features"),
    ],
)
def test_a_bad_boundary_is_refused_with_its_reason(value: Any, code: str) -> None:
    with pytest.raises(ValidationError) as e:
        geo.clean_polygon(value)
    assert e.value.code == code


def test_gcj02_positions_must_be_in_china() -> None:
    paris = [[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.86], [2.35, 48.85]]
    polygon = {"type": "Polygon", "coordinates": [paris]}
    assert geo.clean_polygon(polygon, crs=geo.WGS84) == polygon
    with pytest.raises(ValidationError) as e:
        geo.clean_polygon(polygon, crs=geo.GCJ02)
    assert e.value.code == "outside_china"
    # Swapped coordinates (latitude first) of a place in China are caught too.
    swapped = [[p[1], p[0]] for p in RING]
    with pytest.raises(ValidationError):
        geo.clean_polygon({"type": "Polygon", "coordinates": [swapped]}, crs=geo.GCJ02)


def test_the_errors_are_in_chinese() -> None:
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as e:
        geo.clean_polygon({"type": "Polygon", "coordinates": [[*RING[:-1], [114.0, 33.52]]]})
    assert "闭合" in e.value.messages[0]


def test_a_point_needs_both_coordinates() -> None:
    assert geo.clean_point(None, None) is None
    assert geo.clean_point("33.5", 114) == (Decimal("33.500000"), Decimal("114.000000"))
    with pytest.raises(ValidationError):
        geo.clean_point("33.5", None)
    with pytest.raises(ValidationError):
        geo.clean_point(95, 114)


@pytest.mark.django_db
def test_the_database_refuses_half_a_location(world: SimpleNamespace) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.filter(pk=world.household1.pk).update(latitude=Decimal("33.5"))


# ---------------------------------------------------------------------------- the admin


def grid_form(grid: Grid, **changes: Any) -> dict[str, Any]:
    data = {
        "community": grid.community_id,
        "code": grid.code,
        "name": grid.name,
        "kind": grid.kind,
        "leader": "",
        "boundary_crs": "WGS-84",
        "boundary": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_street_admin_pastes_a_boundary_in_the_admin(world: Any, staff_client: Any) -> None:
    client = staff_client(world.admin1, "change_grid", "view_grid")
    url = f"/admin/grids/grid/{world.grid1.pk}/change/"
    feature = json.dumps({"type": "Feature", "geometry": SQUARE, "properties": {}})
    r = client.post(url, grid_form(world.grid1, boundary=feature, boundary_crs="GCJ-02"))
    assert r.status_code == 302, r.content.decode()[:3000]
    world.grid1.refresh_from_db()
    assert (world.grid1.boundary, world.grid1.boundary_crs) == (SQUARE, "GCJ-02")
    # The form shows it again as GeoJSON text.
    assert "114.01" in client.get(url).content.decode()


@pytest.mark.django_db
def test_an_open_ring_is_refused_in_the_admin(world: Any, staff_client: Any) -> None:
    client = staff_client(world.admin1, "change_grid", "view_grid")
    url = f"/admin/grids/grid/{world.grid1.pk}/change/"
    open_ring = json.dumps({"type": "Polygon", "coordinates": [RING[:-1] + [[114.0, 33.52]]]})
    r = client.post(url, grid_form(world.grid1, boundary=open_ring))
    assert r.status_code == 200
    assert "not closed" in r.content.decode()
    world.grid1.refresh_from_db()
    assert world.grid1.boundary is None


@pytest.mark.django_db
def test_a_geojson_file_is_uploaded_in_the_admin(world: Any, staff_client: Any) -> None:
    client = staff_client(world.admin1, "change_grid", "view_grid")
    url = f"/admin/grids/grid/{world.grid1.pk}/change/"
    upload = SimpleUploadedFile(
        "grid.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": SQUARE, "properties": {}}],
            }
        ).encode(),  # fmt: skip
        content_type="application/geo+json",
    )
    r = client.post(url, {**grid_form(world.grid1), "boundary_file": upload})
    assert r.status_code == 302
    world.grid1.refresh_from_db()
    assert world.grid1.boundary == SQUARE
    bad = SimpleUploadedFile("bad.geojson", b"{nope", content_type="application/geo+json")
    r = client.post(url, {**grid_form(world.grid1), "boundary_file": bad})
    assert r.status_code == 200
    assert "not valid GeoJSON" in r.content.decode()


# ---------------------------------------------------------------------------- visits


@pytest.mark.django_db
def test_a_visit_with_the_phone_s_position_places_a_household_once(
    world: Any, client_for: Any
) -> None:
    client = client_for(world.worker1.user)
    body = {"household": world.household1.pk, "latitude": 33.5051234, "longitude": 114.0049876}
    r = client.post("/api/v1/visits/", body, format="json")
    assert r.status_code == 201, r.content
    assert "latitude" not in r.json()
    world.household1.refresh_from_db()
    assert (world.household1.latitude, world.household1.longitude) == (
        Decimal("33.505123"),
        Decimal("114.004988"),
    )
    # A later visit elsewhere in the yard does not move it.
    body = {"household": world.household1.pk, "latitude": 33.6, "longitude": 114.1}
    assert client.post("/api/v1/visits/", body, format="json").status_code == 201
    world.household1.refresh_from_db()
    assert world.household1.latitude == Decimal("33.505123")
    assert Visit.objects.filter(household=world.household1).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "position",
    [{"latitude": 33.5}, {"latitude": 95, "longitude": 114}, {"latitude": 33, "longitude": "x"}],
)
def test_a_bad_position_is_refused_and_nothing_is_written(
    world: Any, client_for: Any, position: dict[str, Any]
) -> None:
    body = {"household": world.household1.pk, **position}
    r = client_for(world.worker1.user).post("/api/v1/visits/", body, format="json")
    assert r.status_code == 400, r.content
    assert not Visit.objects.exists()
    world.household1.refresh_from_db()
    assert world.household1.latitude is None


@pytest.mark.django_db
def test_a_visit_without_a_position_leaves_the_household_unplaced(
    world: Any, client_for: Any
) -> None:
    r = client_for(world.worker1.user).post(
        "/api/v1/visits/", {"household": world.household1.pk}, format="json"
    )
    assert r.status_code == 201
    world.household1.refresh_from_db()
    assert world.household1.latitude is None


# ---------------------------------------------------------------------------- the demo


@pytest.mark.django_db
def test_the_demo_grids_have_valid_boundaries_and_households_inside() -> None:
    from demo.seed import seed_demo
    from tests import demo_snapshot

    demo_snapshot.seed_demo()  # built once per test process, copied in after that
    grids = Grid.objects.filter(community__code__in=("xzz", "taishan")).select_related("community")
    assert grids.count() == 13
    for grid in grids:
        assert grid.boundary is not None, grid
        assert geo.clean_polygon(grid.boundary, crs=grid.boundary_crs) == grid.boundary
        (west, south), (east, north) = (
            grid.boundary["coordinates"][0][0],
            grid.boundary["coordinates"][0][2],
        )
        placed = Household.objects.filter(grid=grid, latitude__isnull=False)
        for h in placed:
            assert west < float(h.longitude) < east and south < float(h.latitude) < north
        if grid.households.exists():
            assert placed.exists(), grid
    # Adjacent, not overlapping: 新庄赵村's seven groups side by side.
    xzz = [g.boundary["coordinates"][0] for g in grids if g.community.code == "xzz"]
    xzz.sort(key=lambda ring: ring[0][0])
    for left, right in zip(xzz, xzz[1:], strict=False):
        assert left[1][0] == right[0][0]
    before = list(Household.objects.filter(latitude__isnull=False).values_list("id", "latitude"))
    report = seed_demo()
    assert not report.created_anything
    assert (
        list(Household.objects.filter(latitude__isnull=False).values_list("id", "latitude"))
        == before
    )
