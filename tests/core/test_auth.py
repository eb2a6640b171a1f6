"""Token and session authentication; anonymous callers get a JSON 401."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api_helpers import LIST_ENDPOINTS, body_for, ids, in_savepoint, url

TOKEN_URL = "/api/v1/auth/token/"


def test_good_credentials_get_a_token(world):
    r = APIClient().post(TOKEN_URL, {"username": "worker", "password": "pw"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json() == {"token": Token.objects.get(user=world.worker1.user).key}


def test_asking_twice_returns_the_same_token(world):
    c = APIClient()
    first = c.post(TOKEN_URL, {"username": "worker", "password": "pw"}, format="json").json()
    again = c.post(TOKEN_URL, {"username": "worker", "password": "pw"}, format="json").json()
    assert first == again


@pytest.mark.parametrize(
    "body",
    [
        {"username": "worker", "password": "wrong"},
        {"username": "nobody", "password": "pw"},
        {"username": "worker"},
        {},
    ],
)
def test_bad_credentials_get_400_json_and_no_token(world, body):
    r = APIClient().post(TOKEN_URL, body, format="json")
    assert r.status_code == 400
    assert isinstance(r.json(), dict) and r.json()
    assert "token" not in r.json()
    assert not Token.objects.exists()


def test_an_inactive_user_gets_no_token(world):
    world.worker1.user.is_active = False
    world.worker1.user.save()
    r = APIClient().post(TOKEN_URL, {"username": "worker", "password": "pw"}, format="json")
    assert r.status_code == 400


def test_the_token_header_authenticates_the_api(world):
    token = APIClient().post(TOKEN_URL, {"username": "worker", "password": "pw"}).json()["token"]
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert ids(c.get(url("households"))) == [world.household1.id]
    r = c.post(url("households"), body_for("households", world), format="json")
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("header", ["Token nonsense", "Token ", "Bearer abc", "Token a b"])
def test_a_bad_token_header_is_refused_with_401_json(world, header):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=header)
    r = c.get(url("households"))
    assert r.status_code == 401
    assert "detail" in r.json()


def test_a_deleted_token_no_longer_works(world):
    token = Token.objects.create(user=world.worker1.user)
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert c.get(url("households")).status_code == 200
    token.delete()
    assert c.get(url("households")).status_code == 401


def test_session_login_authenticates_the_api(world):
    c = APIClient()
    assert c.login(username="committee", password="pw")
    assert ids(c.get(url("households"))) == sorted([world.household1.id, world.household2.id])


def test_a_session_write_needs_the_csrf_token(world):
    c = APIClient(enforce_csrf_checks=True)
    assert c.login(username="worker", password="pw")
    r = c.post(url("households"), body_for("households", world), format="json")
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]


@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS)
def test_anonymous_callers_get_401_json_on_every_list(db, endpoint):
    r = APIClient().get(url(endpoint))
    assert r.status_code == 401
    assert r["Content-Type"].startswith("application/json")
    assert "detail" in r.json()
    assert r["WWW-Authenticate"] == "Token"


def test_anonymous_callers_cannot_create(world):
    r = APIClient().post(url("households"), body_for("households", world), format="json")
    assert r.status_code == 401


def test_the_api_root_needs_a_login_too(db):
    assert APIClient().get("/api/v1/").status_code == 401


def test_a_nul_byte_in_the_token_is_refused_as_json_not_a_500(world):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token abc\x00def")
    r = in_savepoint(lambda: c.get(url("households")))
    assert r.status_code in (400, 401)  # PostgreSQL refuses the lookup itself: a 400
    assert "detail" in r.json() or "non_field_errors" in r.json()


def test_a_nul_byte_in_the_session_cookie_is_refused_as_json_not_a_500(world):
    c = APIClient()
    c.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    r = in_savepoint(lambda: c.get(url("households")))
    assert r.status_code in (400, 401)
    assert "detail" in r.json() or "non_field_errors" in r.json()
