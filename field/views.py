"""The field app (issue 11): its working set as one read, and the built app itself at /m/."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe
from django.views.static import serve
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from field.selectors import FieldBundle, field_user, parse_version
from field.serializers import FieldBundleSerializer

# Types Python's table may lack or get wrong on some systems.
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("font/woff2", ".woff2")


def _etag_matches(header: str | None, fingerprint: str) -> bool:
    """Does If-None-Match name a version with this content (whatever its cursor)?"""
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/").strip('"')
        parsed = parse_version(tag)
        if parsed is not None and parsed[2] == fingerprint:
            return True
    return False


# Gzipped for phones on a poor signal (a bundle of 1,000 households: ~1 MB, ~60 KB gzipped).
# GZipMiddleware makes the ETag weak (W/"…"); If-None-Match accepts either form.
@method_decorator(gzip_page, name="dispatch")
class FieldBundleView(APIView):
    """The field app's working set (网格员移动端): the user's grids, households, residents
    (ID numbers masked), what is due, the last visits, open needs, the points rules, what is
    left under each cap this quarter, and refused claims — in one read whose number of queries
    does not grow with the number of households.

    `ETag` is the bundle's version; `If-None-Match` with it answers 304 while nothing changed.
    `?since=<version>` sends only the households, residents, visits and needs changed since
    that version, with `current` listing the ids still in the working set (the app drops the
    others). For grid workers, grid leaders and committee members; anyone else gets 403.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="v1_field_bundle_retrieve",
        parameters=[
            OpenApiParameter(
                "since",
                str,
                description=(
                    "The `version` of a bundle the app holds: only what changed since then. "
                    "A version of another area or not ours gives a full bundle (`full: true`)."
                ),
            ),
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                description="The ETag of the bundle the app holds: 304 while nothing changed.",
            ),
        ],
        responses={
            200: FieldBundleSerializer,
            304: OpenApiResponse(description="Nothing changed since the version in If-None-Match."),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="Not a field user."),
        },
    )
    def get(self, request: Request) -> Response:
        who = field_user(request.user)
        if who is None:
            raise PermissionDenied(
                _("The field app is for grid workers, grid leaders and committee members.")
            )
        bundle = FieldBundle(request.user, who)
        version = bundle.version()
        headers = {"ETag": f'"{version}"', "Cache-Control": "private, no-cache"}
        if _etag_matches(request.headers.get("If-None-Match"), bundle.fingerprint_cached):
            response = Response(status=304, headers=headers)
        else:
            since = request.query_params.get("since")
            response = Response(bundle.build(since=since), headers=headers)
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response


# ---------------------------------------------------------------------------- the app at /m/

# Fetched again on every start: they name the hashed files of the current build.
NO_CACHE = {"index.html", "sw.js", "registerSW.js", "manifest.webmanifest"}
# Vite's output with a content hash in the name: never changes under that name.
HASHED_DIR = "assets/"


def _dist() -> Path:
    return Path(settings.FIELD_APP_DIST)


@require_safe
@gzip_page
def field_app(request: HttpRequest, path: str = "") -> HttpResponse:
    """The built app (`make field`): a file of frontend/field/dist, or index.html for the app's
    own routes. A missing file with an extension, or under assets/, is a 404, not the page.
    With no build, a short page says so."""
    dist = _dist()
    index = dist / "index.html"
    if not index.is_file():
        return render(request, "field/not_built.html", status=503)
    name = path.strip("/")
    if name:
        target = (dist / name).resolve()
        inside = target.is_relative_to(dist.resolve())
        if inside and target.is_file():
            return _file(request, name)
        last = name.rsplit("/", 1)[-1]
        if name.startswith(HASHED_DIR) or "." in last or not inside:
            raise Http404(name)
    return _file(request, "index.html")


def _file(request: HttpRequest, name: str) -> HttpResponse:
    response: Any = serve(request, name, document_root=str(_dist()))
    if name in NO_CACHE:
        response["Cache-Control"] = "no-cache"
    elif name.startswith(HASHED_DIR):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=3600"
    if name == "sw.js":
        response["Service-Worker-Allowed"] = "/m/"
    if name == "index.html":
        response["Content-Type"] = "text/html; charset=utf-8"
    return response
