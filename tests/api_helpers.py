"""Helpers shared by the API tests: the endpoint table, clients that authenticate like a real
request, and valid create bodies for every endpoint."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.test import APIClient

from core.validators import make_id_number
from tests import factories as f

API = "/api/v1/"

# Every list endpoint named in the issue.
LIST_ENDPOINTS = [
    "streets",
    "communities",
    "grids",
    "grid-workers",
    "partner-units",
    "households",
    "residents",
    "tags",
    "visits",
    "visits/due",
]
# Every endpoint that creates (all but the read-only visits/due).
CREATE_ENDPOINTS = [e for e in LIST_ENDPOINTS if e != "visits/due"]

_seq = itertools.count(1)


def url(endpoint: str, pk: int | None = None) -> str:
    return f"{API}{endpoint}/" if pk is None else f"{API}{endpoint}/{pk}/"


def fresh(user: Any) -> Any:
    """The user as a new request sees it: the scope and permission caches live on the user
    object, so a test that changes posts between requests must read the user again.
    A GridWorker stands for its login."""
    User = get_user_model()
    if not isinstance(user, User):
        user = user.user
    return User.objects.get(pk=user.pk)


def client(user: Any | None) -> APIClient:
    """An APIClient authenticated as a freshly loaded `user` (None: anonymous)."""
    c = APIClient()
    if user is not None:
        c.force_authenticate(user=fresh(user))
    return c


def token_client(user: Any) -> APIClient:
    """An APIClient that sends `Authorization: Token …`, as a phone does."""
    token, _ = Token.objects.get_or_create(user=user)
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return c


def in_savepoint(request: Callable[[], Response]) -> Response:
    """Run one request and undo its writes, so that each junk request meets the same data (and
    on PostgreSQL a failed statement cannot poison the test's transaction)."""
    sid = transaction.savepoint()
    try:
        return request()
    finally:
        transaction.savepoint_rollback(sid)


def ids(response: Response) -> list[int]:
    """The sorted ids of a list answer (a 200 is required)."""
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def grant(user: Any, codename: str) -> None:
    app_label, name = codename.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=name)
    )


def new_id_number(born: dt.date | None = None) -> str:
    n = next(_seq)
    born = born or dt.date(1960, 1, 1) + dt.timedelta(days=97 * (n % 200))  # up to 2013
    return make_id_number("411103", born, 2 * (n % 499) + 1)


def body_for(endpoint: str, w: SimpleNamespace) -> dict[str, Any]:
    """A valid create body for `endpoint`, inside street 1 / community 1 / grid 1 of `world`."""
    n = next(_seq)
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "streets": lambda: {"name": f"新街道{n}", "code": f"new-street-{n}"},
        "communities": lambda: {
            "street": w.street1.id,
            "name": f"新社区{n}",
            "code": f"new-c-{n}",
            "kind": "urban",
        },
        "grids": lambda: {"community": w.community1.id, "code": f"N{n}", "name": f"新网格{n}"},
        "grid-workers": lambda: {
            "user": f.UserFactory(username=f"new-worker-{n}").id,
            "community": w.community1.id,
            "name": f"新网格员{n}",
            "kind": "part_time",
            "phone": "13912345678",
        },
        "partner-units": lambda: {
            "name": f"共建单位新{n}",
            "contact_name": "王主任",
            "agreements": [{"community": w.community1.id, "signed_on": "2025-06-01"}],
        },
        "households": lambda: {
            "grid": w.grid1.id,
            "village_group": "三组",
            "house_number": f"{n}",
        },
        "residents": lambda: {
            "household": w.household1.id,
            "name": f"新居民{n}",
            "id_number": new_id_number(),
            "phone": "13712345678",
        },
        "tags": lambda: {"name": f"新标签{n}", "visit_every_days": 30},
        "visits": lambda: {
            "household": w.household1.id,
            "worker": w.worker1.id,
            "method": "phone",
            "notes": f"第{n}次电话走访",
        },
    }
    return builders[endpoint]()


# ---------------------------------------------------------------------------- points

# The points lists. Kept apart from LIST_ENDPOINTS: the foundation's tables (row makers, create
# bodies, item routes with PUT and DELETE) do not fit claims, the ledger and quarters, which
# are written through their actions; tests/points covers these the same ways.
POINTS_LIST_ENDPOINTS = [
    "point-rules",
    "point-claims",
    "point-accounts",
    "point-entries",
    "periods",
    "objections",
]
POINTS_CREATE_ENDPOINTS = ["point-rules", "point-claims", "objections"]


def points_rules(w: SimpleNamespace) -> dict[str, Any]:
    """Community 1's rule book (a few lines of the seed village's), and one rule elsewhere."""
    from points.models import Rule

    def rule(code: str, category: str, points: int, community: Any = None, **kw: Any) -> Any:
        return Rule.objects.create(
            community=community or w.community1,
            code=code,
            name=kw.pop("name", code),
            category=category,
            points=points,
            **kw,
        )

    return {
        "clean": rule("clean", "reward", 1, name="清扫责任区", cap_per_quarter=3),
        "hazard": rule("hazard", "reward", 2, name="报告安全隐患"),
        "idea": rule("idea", "reward", 10, name="合理化建议被采纳", up_to=True),
        "fine": rule("fine", "deduction", 5, name="违反村规民约"),
        "wai": rule("wai", "reward", 3, community=w.community3, name="外村清扫"),
    }
