"""Idempotent creates: the same Idempotency-Key and body replays the first answer and creates
nothing; the same key with another body answers 409."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.test import override_settings
from django.utils import timezone

from core.models import IdempotencyRecord
from core.services import purge_idempotency_records
from tests.api_helpers import CREATE_ENDPOINTS, body_for, client, token_client, url

MODELS = {
    "streets": "grids.Street",
    "communities": "grids.Community",
    "grids": "grids.Grid",
    "grid-workers": "grids.GridWorker",
    "partner-units": "grids.PartnerUnit",
    "households": "residents.Household",
    "residents": "residents.Resident",
    "tags": "residents.Tag",
    "visits": "residents.Visit",
}


def count(endpoint: str) -> int:
    return apps.get_model(MODELS[endpoint]).objects.count()


def post(c, endpoint: str, body: dict, key: str | None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return c.post(url(endpoint), body, format="json", **headers)


@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS)
def test_the_same_key_and_body_replays_the_first_answer_and_creates_nothing(world, endpoint):
    c = client(world.superuser)
    body = body_for(endpoint, world)
    before = count(endpoint)
    first = post(c, endpoint, body, "key-1")
    assert first.status_code == 201, first.content
    again = post(c, endpoint, body, "key-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(endpoint) == before + 1


@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS)
def test_the_same_key_with_another_body_answers_409(world, endpoint):
    c = client(world.superuser)
    assert post(c, endpoint, body_for(endpoint, world), "key-1").status_code == 201
    before = count(endpoint)
    r = post(c, endpoint, body_for(endpoint, world), "key-1")
    assert r.status_code == 409
    assert "detail" in r.json()
    assert count(endpoint) == before


def test_a_worker_retrying_a_household_create_over_token_auth_gets_the_same_id(world):
    body = body_for("households", world)
    first = post(token_client(world.worker1.user), "households", body, "phone-retry-1")
    again = post(token_client(world.worker1.user), "households", body, "phone-retry-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert IdempotencyRecord.objects.filter(key="phone-retry-1").count() == 1


def test_the_body_is_compared_as_data_not_as_text(world):
    c = client(world.worker1)
    body = body_for("households", world)
    reordered = {k: body[k] for k in reversed(list(body))}
    texts = [json.dumps(body), json.dumps(reordered, indent=2, ensure_ascii=False)]
    assert texts[0] != texts[1]
    first, again = (
        c.post(url("households"), t, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
        for t in texts
    )
    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]


def test_without_a_key_every_post_creates(world):
    c = client(world.superuser)
    body = body_for("tags", world)
    assert post(c, "tags", body, None).status_code == 201
    assert post(c, "tags", body, None).status_code == 400  # the name is taken: a second try ran


def test_keys_belong_to_one_user(world):
    body_1 = body_for("households", world)
    body_2 = {**body_for("households", world), "grid": world.grid2.id}
    r1 = post(client(world.worker1), "households", body_1, "shared-key")
    r2 = post(client(world.worker2), "households", body_2, "shared-key")
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert r1.json()["id"] != r2.json()["id"]


def test_a_key_used_on_another_endpoint_answers_409(world):
    c = client(world.superuser)
    assert post(c, "tags", body_for("tags", world), "k").status_code == 201
    assert post(c, "households", body_for("households", world), "k").status_code == 409


def test_a_refused_request_is_not_remembered_so_the_fixed_retry_runs(world):
    c = client(world.worker1)
    bad = {"grid": world.grid1.id}  # no address
    assert post(c, "households", bad, "k").status_code == 400
    good = body_for("households", world)
    r = post(c, "households", good, "k")
    assert r.status_code == 201, r.content
    assert IdempotencyRecord.objects.get(key="k").response_body["id"] == r.json()["id"]


def test_a_forbidden_request_is_not_remembered(world):
    c = client(world.worker1)
    body = {**body_for("households", world), "grid": world.grid2.id}
    assert post(c, "households", body, "k").status_code == 403
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "a\x00b", "a\x07b"])
def test_an_empty_overlong_or_unprintable_key_is_a_field_error(world, key):
    r = post(client(world.worker1), "households", body_for("households", world), key)
    assert r.status_code == 400
    assert "Idempotency-Key" in r.json()


@pytest.mark.parametrize("key", ["x" * 255, "6f1c2d0e-2b4a-4c1e-9d7a-3f5b8e9c0a12", "手机重试-1"])
def test_printable_keys_up_to_255_characters_are_accepted(world, key):
    r = post(client(world.worker1), "households", body_for("households", world), key)
    assert r.status_code == 201


def test_the_replay_keeps_the_masked_id_number_of_the_first_answer(world):
    c = client(world.worker1)
    body = body_for("residents", world)
    first = post(c, "residents", body, "k")
    again = post(c, "residents", body, "k")
    assert again.json()["id_number"] == first.json()["id_number"] != body["id_number"]


def test_a_replay_works_after_the_object_was_changed(world):
    c = client(world.worker1)
    body = body_for("households", world)
    first = post(c, "households", body, "k")
    c.patch(url("households", first.json()["id"]), {"room": "101"})
    again = post(c, "households", body, "k")
    assert again.json() == first.json()


@override_settings(IDEMPOTENCY_KEY_TTL=dt.timedelta(days=7))
def test_purge_forgets_keys_older_than_the_ttl(world):
    c = client(world.worker1)
    post(c, "households", body_for("households", world), "old")
    post(c, "households", body_for("households", world), "new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(days=8)
    )
    assert purge_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
