"""`/healthz` and `/readyz` for load balancers and monitoring, answered by a middleware placed
first: before the host check (a probe asks by IP address, not by ALLOWED_HOSTS' name) and the
HTTPS redirect (a probe speaks plain HTTP to gunicorn).

- `/healthz`: the process answers. No database, nothing else: 200 while the process runs.
- `/readyz`: the database answers, every migration is applied, and, with a broker configured,
  the broker answers within HEALTH_BROKER_TIMEOUT seconds and the last Celery heartbeat
  (`core.tasks.heartbeat`, every minute from beat) is younger than HEALTH_HEARTBEAT_MAX_AGE.
  200 when all hold, else 503; the body says which check failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

HEARTBEAT = "celery"


def broker_configured() -> bool:
    """A real broker, not the embedded set-up's eager, in-process tasks."""
    return not settings.CELERY_TASK_ALWAYS_EAGER


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_migrations() -> dict[str, Any]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = sorted({f"{m.app_label}.{m.name}" for m, _backwards in plan})
    return {"ok": not pending, "pending": pending}


def check_broker() -> dict[str, Any]:
    from kombu import Connection

    timeout = settings.HEALTH_BROKER_TIMEOUT
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=timeout,
        transport_options={"socket_timeout": timeout, "socket_connect_timeout": timeout},
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    return {"ok": True}


def heartbeat_age() -> float | None:
    """Seconds since the last Celery heartbeat, None when there never was one."""
    from core.models import Heartbeat

    at = Heartbeat.objects.filter(name=HEARTBEAT).values_list("at", flat=True).first()
    return None if at is None else max(0.0, (timezone.now() - at).total_seconds())


def check_heartbeat() -> dict[str, Any]:
    age = heartbeat_age()
    limit = settings.HEALTH_HEARTBEAT_MAX_AGE
    result: dict[str, Any] = {"age_seconds": None if age is None else round(age, 1)}
    # Without a broker, tasks run in the web process and beat is not needed: reported only.
    result["ok"] = (not broker_configured()) or (age is not None and age <= limit)
    result["max_age_seconds"] = limit
    return result


def _run(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return check()
    except Exception as exc:  # any failure of a dependency is "not ready", with its reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def readiness() -> dict[str, Any]:
    checks: dict[str, dict[str, Any]] = {"database": _run(check_database)}
    if checks["database"]["ok"]:
        checks["migrations"] = _run(check_migrations)
        checks["heartbeat"] = _run(check_heartbeat)
    if broker_configured():
        checks["broker"] = _run(check_broker)
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "fail", "checks": checks}


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    body = readiness()
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


PROBES: dict[str, Callable[[HttpRequest], JsonResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
}


class HealthCheckMiddleware:
    """Answers the probes before any other middleware (host check, HTTPS redirect, session)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is not None and request.method in ("GET", "HEAD"):
            response = probe(request)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
