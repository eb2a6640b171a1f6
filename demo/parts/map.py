"""The demo street on the grid map (网格地图, issue 12): boundaries for 泰山社区's and 新庄赵村's
grids, a few households placed inside them, and 新庄赵村's public figures page switched on.

The places are plausible, not surveyed: 泰山社区 as six blocks of a town district of 漯河
(郾城区, where the demo's ID numbers are registered), 新庄赵村 as a row of seven village
groups east of the city (召陵区). Coordinates are WGS-84, [longitude, latitude].

Idempotent: the boundaries are written again with the same values on every run (through
core.geo.clean_polygon, like the admin), and a household is placed only while it has no
location, so a location moved by hand or recorded by a visit is kept.
"""

from __future__ import annotations

from decimal import Decimal

from core import geo
from demo.context import DemoContext
from demo.tables import GRIDS
from grids.models import Community, Grid
from residents.models import Household

# (community code, grid code) → (west longitude, south latitude) of a rectangle of SIZE.
TAISHAN_ORIGIN = (114.0030, 33.5905)
XZZ_ORIGIN = (114.0950, 33.5480)
BLOCK = (0.0040, 0.0030)  # 泰山社区: about 370 m × 330 m
STRIP = (0.0036, 0.0055)  # 新庄赵村: a village group, about 330 m × 610 m
PLACED_PER_GRID = 3
PUBLIC_COMMUNITIES = ("xzz",)


def rectangle(west: float, south: float, width: float, height: float) -> dict[str, object]:
    east, north = round(west + width, 6), round(south + height, 6)
    west, south = round(west, 6), round(south, 6)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return geo.clean_polygon({"type": "Polygon", "coordinates": [ring]}, crs=geo.WGS84)


def boundaries() -> dict[tuple[str, str], dict[str, object]]:
    """The demo grids' boundaries: 泰山社区 in a 3 × 2 block, 新庄赵村 in a row of seven."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    taishan = [g for g in GRIDS if g.community == "taishan"]
    for i, g in enumerate(taishan):
        col, row = i % 3, i // 3
        out[(g.community, g.code)] = rectangle(
            TAISHAN_ORIGIN[0] + col * BLOCK[0], TAISHAN_ORIGIN[1] + row * BLOCK[1], *BLOCK
        )
    village = [g for g in GRIDS if g.community == "xzz"]
    for i, g in enumerate(village):
        out[(g.community, g.code)] = rectangle(XZZ_ORIGIN[0] + i * STRIP[0], XZZ_ORIGIN[1], *STRIP)
    return out


def seed_map(ctx: DemoContext) -> None:
    for key, polygon in boundaries().items():
        grid = ctx.grids[key]
        Grid.objects.filter(pk=grid.pk).update(boundary=polygon, boundary_crs=geo.WGS84)
        ring = polygon["coordinates"][0]  # type: ignore[index]
        (west, south), (east, north) = ring[0], ring[2]
        households = list(
            Household.objects.filter(grid=grid).order_by("id").values_list("id", "latitude")
        )[:PLACED_PER_GRID]
        for n, (pk, latitude) in enumerate(households, start=1):
            if latitude is not None:
                continue
            # Spread along the diagonal, well inside the rectangle.
            share = n / (PLACED_PER_GRID + 1)
            lng = Decimal(str(round(west + (east - west) * share, 6)))
            lat = Decimal(str(round(south + (north - south) * (1 - share), 6)))
            Household.objects.filter(pk=pk, latitude__isnull=True).update(
                latitude=lat, longitude=lng
            )
    Community.objects.filter(code__in=PUBLIC_COMMUNITIES).update(public_page=True)
