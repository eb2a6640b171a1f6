"""Idempotent creates: a phone that retries after a dropped connection never creates twice.

The client sends `Idempotency-Key: <any unique string>` with a create. The first request with a
key runs and its answer is stored with the key in the same transaction. The same key and body
again returns that answer (same status, same id) and creates nothing; the same key with another
body answers 409. Keys are per user and forgotten after IDEMPOTENCY_KEY_TTL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core.models import IdempotencyRecord
from core.types import User, acting_user

if TYPE_CHECKING:
    from rest_framework.mixins import CreateModelMixin as _CreateBase
else:
    _CreateBase = object

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_conflict"


def _to_json(data: object) -> object:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def request_fingerprint(request: Request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict from a form post
        data = {k: v for k, v in data.lists()}
    body = json.dumps(data, sort_keys=True, cls=JSONEncoder, default=str)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(
            _("This Idempotency-Key was already used with a different request.")
        )
    return Response(
        record.response_body, status=record.status_code, headers={REPLAY_HEADER: "true"}
    )


def reserve_key(
    *, user: User, key: str, method: str, path: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Store the user's key in the caller's transaction; None when the key is already taken.

    The one mechanism behind every "at most once" write (the API's Idempotency-Key, a page's
    one-time form token): the caller makes the write in the same transaction, then
    remember_answer(); a refused write rolls the key back with it. A concurrent request with
    the same key waits on the unique index until the first commits, then gets None."""
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user, key=key, method=method, path=path[:500], fingerprint=fingerprint
            )
    except IntegrityError:
        return None


def remember_answer(record: IdempotencyRecord, status_code: int, body: object) -> None:
    """Store the answer of the write made under `record`'s key, for replays."""
    record.status_code = status_code
    record.response_body = body
    record.save(update_fields=["status_code", "response_body"])


def run_idempotent(request: Request, handler: Callable[[], Response]) -> Response:
    """Run `handler` at most once per (user, Idempotency-Key); replay its answer afterwards."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    # Printable only: PostgreSQL refuses a NUL in a text column (a 500 otherwise).
    if not key or len(key) > 255 or not key.isprintable():
        raise ValidationError({HEADER: [_("Send 1 to 255 printable characters.")]})
    fingerprint = request_fingerprint(request)
    user = acting_user(request)
    existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    with transaction.atomic():
        # On PostgreSQL a concurrent request with the same key blocks here until the first
        # commits, then fails the unique index and replays the committed answer below.
        record = reserve_key(
            user=user,
            key=key,
            method=request.method or "",
            path=request.path,
            fingerprint=fingerprint,
        )
        if record is not None:
            response = handler()
            if response.status_code >= 400:
                # A refused request is not remembered: the client may fix it and retry.
                transaction.set_rollback(True)
                return response
            remember_answer(record, response.status_code, _to_json(response.data))
            return response
    return _replay(IdempotencyRecord.objects.get(user=user, key=key), fingerprint)


class IdempotentCreateMixin(_CreateBase):
    """For a ModelViewSet: `create` honours the Idempotency-Key header."""

    # Documented in the OpenAPI schema, so client generators send it.
    @extend_schema(
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description=(
                    "Any unique string (1-255 characters). The same key and body again returns "
                    "the first response and creates nothing; the same key with another body "
                    "answers 409."
                ),
            )
        ]
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        return run_idempotent(
            request, lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs)
        )
