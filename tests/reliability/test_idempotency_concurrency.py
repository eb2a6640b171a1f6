"""A phone on a bad line retries a create many times at once: with one Idempotency-Key, exactly
one row is made and every answer carries its id. Needs PostgreSQL (real concurrent writers)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.models import IdempotencyRecord
from residents.models import Household, Visit
from tests.api_helpers import body_for, token_client, url

THREADS = 10

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def send_all_at_once(send) -> tuple[list, list[str]]:
    """Run `send()` in THREADS threads released together; (responses, errors)."""
    barrier = threading.Barrier(THREADS)
    responses, errors = [], []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            responses.append(send())
        except Exception as exc:  # surfaced by the assertions below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return responses, errors


@pytest.mark.parametrize("endpoint", ["households", "visits"])
def test_ten_concurrent_retries_with_one_key_create_exactly_one_row(world, endpoint):
    body = body_for(endpoint, world)
    model = {"households": Household, "visits": Visit}[endpoint]
    before = model.objects.count()
    token_client(world.worker1.user)  # make the token before the threads race for it

    def send():
        # Each thread is its own phone connection, authenticating with the worker's token.
        c = token_client(world.worker1.user)
        return c.post(url(endpoint), body, format="json", HTTP_IDEMPOTENCY_KEY="retry-storm")

    responses, errors = send_all_at_once(send)
    assert errors == []
    assert len(responses) == THREADS
    assert [r.status_code for r in responses] == [201] * THREADS, [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert model.objects.count() == before + 1
    assert IdempotencyRecord.objects.filter(key="retry-storm").count() == 1
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == THREADS - 1


def test_concurrent_requests_with_one_key_and_different_bodies_create_one_row(world):
    bodies = [body_for("households", world) for _ in range(THREADS)]
    lock = threading.Lock()

    def send():
        with lock:
            body = bodies.pop()
        c = token_client(world.worker1.user)
        return c.post(url("households"), body, format="json", HTTP_IDEMPOTENCY_KEY="mixed")

    before = Household.objects.count()
    token_client(world.worker1.user)
    responses, errors = send_all_at_once(send)
    assert errors == []
    assert sorted(r.status_code for r in responses) == [201] + [409] * (THREADS - 1)
    assert Household.objects.count() == before + 1
