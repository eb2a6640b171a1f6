"""Failed-login limits (django-axes) as the product wants them.

- Counted per username and per IP address, each with its own limit: many residents of a
  village share the office's address, so the address gets more tries than one username
  (`AXES_FAILURE_LIMIT`, `AXES_IP_FAILURE_LIMIT`), within the cool-off time.
- The answer to a locked-out login says, in Chinese, how many minutes are left: JSON 429 with
  `Retry-After` under /api/ (the field app shows `detail`), a page for the login forms.
- A committee member unlocks the users of their community, a street admin those of their
  street (the admin's 登录锁定), never anyone outside their area or a superuser.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scope import scope_for, scoped
from core.types import AnyUser


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies, the address the outermost trusted
    proxy saw (it appends it to X-Forwarded-For). Entries a client wrote itself sit further left
    and are never read, so they cannot dodge the per-address limit."""
    count: int = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [a.strip() for a in header.split(",") if a.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    remote: str | None = request.META.get("REMOTE_ADDR")
    return remote


def _window_start(request: HttpRequest | None) -> Any:
    cool_off = get_cool_off(request)
    return None if cool_off is None else timezone.now() - cool_off


def _recent(request: HttpRequest | None) -> QuerySet[Any]:
    qs: QuerySet[Any] = AccessAttempt.objects.all()
    start = _window_start(request)
    return qs if start is None else qs.filter(attempt_time__gte=start)


def _ip_of(request: HttpRequest) -> str | None:
    ip = getattr(request, "axes_ip_address", None)
    return ip if ip is not None else client_ip(request)


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes has no types
    """Axes' database handler with one limit per username and another per IP address."""

    def failure_counts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> tuple[int, int]:
        """(failures of the username, failures from the address) within the cool-off time."""
        recent = _recent(request)
        username = get_client_username(request, credentials)
        by_user = recent.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"]
        by_ip = recent.filter(ip_address=_ip_of(request)).aggregate(n=Sum("failures_since_start"))[
            "n"
        ]
        return by_user or 0, by_ip or 0

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """Axes locks when this reaches AXES_FAILURE_LIMIT (the username's limit): the address's
        count is scaled so that it reaches that number exactly at AXES_IP_FAILURE_LIMIT."""
        limit = get_failure_limit(request, credentials)
        by_user, by_ip = self.failure_counts(request, credentials)
        ip_part = limit if by_ip >= settings.AXES_IP_FAILURE_LIMIT else min(by_ip, limit - 1)
        return int(max(by_user, ip_part))

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """After a good password only that username's failures go: a guesser with one valid
        account must not wipe the address's count by logging in between guesses."""
        username = get_client_username(request, credentials)
        count: int = AccessAttempt.objects.filter(username=username).delete()[0]
        return count


def seconds_left(request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
    """Until the lockout ends: the cool-off counted from the last failure of the username or
    the address (tries during a lockout are not counted, so this does not move)."""
    cool_off: timedelta | None = get_cool_off(request)
    if cool_off is None:
        return 0
    username = get_client_username(request, credentials)
    last = (
        _recent(request)
        .filter(Q(username=username) | Q(ip_address=_ip_of(request)))
        .aggregate(last=Max("attempt_time"))["last"]
    )
    if last is None:
        return int(cool_off.total_seconds())
    return max(0, math.ceil((last + cool_off - timezone.now()).total_seconds()))  # type: ignore[no-any-return]


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return _(
        "Too many failed logins: logging in is locked. Try again in %(minutes)d minutes, "
        "or ask your community's staff to unlock it."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: JSON under /api/, the lockout page for the login forms."""
    seconds = seconds_left(request, credentials)
    message = lockout_message(seconds)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": message, "retry_after": seconds},
            status=settings.AXES_HTTP_RESPONSE_CODE,
        )
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {"message": message, "minutes": max(1, math.ceil(seconds / 60))},
            status=settings.AXES_HTTP_RESPONSE_CODE,
        )
    response["Retry-After"] = str(seconds)
    return response


# ---------------------------------------------------------------------------- unlocking


def may_unlock(user: AnyUser) -> bool:
    """Committee members and street admins (and superusers) unlock logins of their area."""
    scope = scope_for(user)
    return bool(scope.everything or scope.street_ids or scope.community_ids)


def usernames_in_area(user: AnyUser) -> QuerySet[Any]:
    """The usernames of the people whose posts lie in the user's area: residents, grid workers,
    committee members, street admins, volunteers and partner contacts. Superusers are left out
    for everyone but a superuser."""
    User = get_user_model()
    if scope_for(user).everything:
        return User.objects.values("username")
    owners = Q()
    for app_label, model_name, column in (
        ("residents", "Resident", "user_id"),
        ("grids", "GridWorker", "user_id"),
        ("grids", "CommitteeMember", "user_id"),
        ("grids", "StreetAdmin", "user_id"),
        ("volunteers", "Membership", "user_id"),
        ("grids", "PartnerUnit", "contacts"),
    ):
        model = apps.get_model(app_label, model_name)
        owners |= Q(pk__in=scoped(model._default_manager.all()).for_user(user).values(column))
    return User.objects.filter(owners, is_superuser=False).values("username")


def lockouts_for(user: AnyUser) -> QuerySet[Any]:
    """The failed-login records the user may see and clear."""
    qs: QuerySet[Any] = AccessAttempt.objects.all()
    if not may_unlock(user):
        return qs.none()
    if scope_for(user).everything:
        return qs
    return qs.filter(username__in=usernames_in_area(user))


def unlock(*, user: AnyUser, attempts: QuerySet[Any]) -> int:
    """Clear failed logins (a lockout ends at once). Only those of the user's area count."""
    if not may_unlock(user):
        raise PermissionDenied(_("Only committee members and street admins may unlock logins."))
    ids = list(lockouts_for(user).filter(pk__in=attempts.values("pk")).values_list("pk", flat=True))
    AccessAttempt.objects.filter(pk__in=ids).delete()
    return len(ids)


def locked_until(attempt: AccessAttempt) -> Any:
    """When the failures of this record stop counting (None: already expired, or no cool-off)."""
    cool_off: timedelta | None = get_cool_off(None)
    if cool_off is None:
        return None
    until = attempt.attempt_time + cool_off
    return until if until > timezone.now() else None


class RequestOptionalAxesBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """For the test settings only: Django's test `Client.login()` authenticates with no
    request, which axes' backend refuses. A call without a request is no web login, so there
    is nothing to count; every login view passes its request, so the limits still apply to
    them in the tests. Production keeps axes' own backend, which refuses such a call."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is not None:
            super().authenticate(request, *args, **kwargs)
