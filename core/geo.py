"""Map geometry, checked in one place: a grid's boundary (a GeoJSON Polygon) and a point
(a household's location, a phone's position).

Coordinates are in GeoJSON order, [longitude, latitude], in degrees. Two coordinate systems
are recorded with a boundary: WGS-84 (GPS, OpenStreetMap tiles) and GCJ-02 (the offset system
Chinese map providers such as AMap and Tencent use). Nothing here converts between them: the
map draws the boundaries on a tile layer of the same system (settings.MAP_TILE_URL).

A boundary is accepted as a GeoJSON Polygon, or a Feature / FeatureCollection holding exactly
one Polygon (what drawing tools such as geojson.io export). It is stored as the bare Polygon,
with each ring closed (first position == last position), at least 4 positions per ring, every
longitude in [-180, 180] and latitude in [-90, 90], and, for GCJ-02, every position inside a
box around China (GCJ-02 is only defined there).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

WGS84 = "WGS-84"
GCJ02 = "GCJ-02"
CRS_CHOICES = ((WGS84, _("WGS-84 (GPS)")), (GCJ02, _("GCJ-02 (Chinese map providers)")))

# A generous box around the People's Republic of China (lng 73.5–135.1, lat 18.1–53.6),
# widened a little: GCJ-02 positions outside it are certainly a mistake (swapped coordinates,
# a point in WGS-84 from another continent).
CHINA_LNG = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)  # down to the South China Sea islands
MAX_RINGS = 20
MAX_POSITIONS = 5000
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # an uploaded .geojson file of one grid's boundary


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None  # no NaN/inf


def check_position(position: Any, *, crs: str = WGS84) -> tuple[float, float]:
    """One [lng, lat] position (an optional altitude is dropped); ValidationError otherwise."""
    if not isinstance(position, list | tuple) or len(position) not in (2, 3):
        raise ValidationError(
            _("A position is a list of two numbers: [longitude, latitude]."), code="position"
        )
    lng, lat = _number(position[0]), _number(position[1])
    if lng is None or lat is None:
        raise ValidationError(
            _("A position is a list of two numbers: [longitude, latitude]."), code="position"
        )
    if not -180 <= lng <= 180:
        raise ValidationError(
            _("Longitude %(lng)s is outside -180 to 180."), code="longitude", params={"lng": lng}
        )
    if not -90 <= lat <= 90:
        raise ValidationError(
            _("Latitude %(lat)s is outside -90 to 90 (are longitude and latitude swapped?)."),
            code="latitude",
            params={"lat": lat},
        )
    if crs == GCJ02 and not (
        CHINA_LNG[0] <= lng <= CHINA_LNG[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]
    ):
        raise ValidationError(
            _(
                "Position [%(lng)s, %(lat)s] is not in China, where GCJ-02 applies; check the "
                "coordinate system and the order [longitude, latitude]."
            ),
            code="outside_china",
            params={"lng": lng, "lat": lat},
        )
    return lng, lat


def _unwrap(value: Any) -> Any:
    """The Polygon inside a Feature or a FeatureCollection of one feature."""
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise ValidationError(
                _("The file holds %(n)s features; give exactly one polygon per grid."),
                code="features",
                params={"n": len(features) if isinstance(features, list) else 0},
            )
        value = features[0]
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    return value


def parse_geojson(text: str | bytes) -> Any:
    """JSON text (pasted or uploaded) to a value; ValidationError when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(_("This is not valid GeoJSON (JSON) text."), code="json") from None


def clean_polygon(value: Any, *, crs: str = WGS84) -> dict[str, Any]:
    """The boundary as a bare, checked GeoJSON Polygon (see the module's docstring)."""
    if isinstance(value, str | bytes):
        value = parse_geojson(value)
    value = _unwrap(value)
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise ValidationError(
            _("A boundary is a GeoJSON Polygon (one closed ring of positions)."), code="type"
        )
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings or len(rings) > MAX_RINGS:
        raise ValidationError(
            _("A Polygon's coordinates are a list of rings, the first being the outline."),
            code="rings",
        )
    clean: list[list[list[float]]] = []
    total = 0
    for index, ring in enumerate(rings, start=1):
        if not isinstance(ring, list) or len(ring) < 4:
            raise ValidationError(
                _("Ring %(n)s has fewer than 4 positions; a closed polygon needs at least 4."),
                code="too_few",
                params={"n": index},
            )
        total += len(ring)
        if total > MAX_POSITIONS:
            raise ValidationError(
                _("The boundary has more than %(max)s positions; simplify it."),
                code="too_many",
                params={"max": MAX_POSITIONS},
            )
        positions = [list(check_position(p, crs=crs)) for p in ring]
        if positions[0] != positions[-1]:
            raise ValidationError(
                _("Ring %(n)s is not closed: its first and last positions must be the same."),
                code="not_closed",
                params={"n": index},
            )
        if len({tuple(p) for p in positions}) < 3:
            raise ValidationError(
                _("Ring %(n)s has fewer than 3 distinct positions."),
                code="degenerate",
                params={"n": index},
            )
        clean.append(positions)
    return {"type": "Polygon", "coordinates": clean}


def clean_point(
    latitude: Any, longitude: Any, *, crs: str = WGS84
) -> tuple[Decimal, Decimal] | None:
    """A latitude and longitude given together (or neither, giving None), as 6-place decimals
    (about 0.1 m)."""
    if latitude in (None, "") and longitude in (None, ""):
        return None
    if latitude in (None, "") or longitude in (None, ""):
        raise ValidationError(
            _("Give both latitude and longitude, or neither."), code="half_a_point"
        )
    try:
        lat, lng = Decimal(str(latitude)), Decimal(str(longitude))
    except InvalidOperation:
        raise ValidationError(
            _("Latitude and longitude are numbers in degrees."), code="position"
        ) from None
    check_position([lng, lat], crs=crs)
    places = Decimal("0.000001")
    return lat.quantize(places), lng.quantize(places)
