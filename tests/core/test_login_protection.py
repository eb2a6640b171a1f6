"""Failed logins are limited per username and per IP address on the three logins (the API
token, the residents' form, the admin's), with a Chinese message and a cool-off; a committee
member or street admin unlocks their area's users; API tokens expire; logout deletes them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.login_protection import client_ip, lockouts_for, unlock
from core.models import LoginLockout
from tests.api_helpers import url

TOKEN_URL = "/api/v1/auth/token/"
LOGOUT_URL = "/api/v1/auth/logout/"
LIMIT = settings.AXES_FAILURE_LIMIT
IP_LIMIT = settings.AXES_IP_FAILURE_LIMIT


def token_login(username: str, password: str, ip: str = "203.0.113.7"):
    return APIClient(REMOTE_ADDR=ip).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


def test_the_limits_are_sane_and_the_address_gets_more_tries_than_a_username():
    assert 3 <= LIMIT < IP_LIMIT
    assert dt.timedelta(minutes=5) <= settings.AXES_COOLOFF_TIME


# ---------------------------------------------------------------------------- the API token


def test_200_wrong_passwords_for_one_username_lock_it_after_the_limit(world):
    statuses = [token_login("worker", f"guess-{i}").status_code for i in range(200)]
    assert statuses[: LIMIT - 1] == [400] * (LIMIT - 1)
    assert statuses[LIMIT - 1 :] == [429] * (200 - LIMIT + 1)
    # Tries during the lockout are not counted: its end does not move.
    failures = sum(a.failures_since_start for a in AccessAttempt.objects.filter(username="worker"))
    assert failures == LIMIT
    assert not Token.objects.exists()


def test_the_right_password_is_refused_too_while_locked_and_the_message_is_chinese(world):
    for i in range(LIMIT):
        token_login("worker", f"guess-{i}")
    r = token_login("worker", "pw")
    assert r.status_code == 429
    assert r["Content-Type"].startswith("application/json")
    body = r.json()
    assert "登录失败次数过多" in body["detail"]
    assert "15 分钟" in body["detail"]
    assert 14 * 60 < body["retry_after"] <= 15 * 60
    assert r["Retry-After"] == str(body["retry_after"])
    assert "token" not in body
    assert not Token.objects.exists()


def test_a_locked_username_is_locked_from_every_address(world):
    for i in range(LIMIT):
        token_login("worker", f"guess-{i}", ip="203.0.113.7")
    assert token_login("worker", "pw", ip="198.51.100.20").status_code == 429
    # Another username from the guesser's address still logs in (under the address's limit).
    assert token_login("worker2", "pw", ip="203.0.113.7").status_code == 200


def test_the_lockout_ends_after_the_cool_off_time(world):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for i in range(LIMIT):
            token_login("worker", f"guess-{i}")
        assert token_login("worker", "pw").status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=30))
        r = token_login("worker", "pw")
        assert r.status_code == 429
        assert r.json()["retry_after"] == 30
        traveller.shift(dt.timedelta(seconds=31))
        r = token_login("worker", "pw")
        assert r.status_code == 200, r.content
        assert r.json()["token"] == Token.objects.get(user=world.worker1.user).key


def test_200_wrong_logins_from_one_address_with_many_usernames_lock_the_address(world):
    statuses = [token_login(f"nobody{i}", "pw", ip="192.0.2.50").status_code for i in range(200)]
    assert statuses[: IP_LIMIT - 1] == [400] * (IP_LIMIT - 1)
    assert statuses[IP_LIMIT - 1 :] == [429] * (200 - IP_LIMIT + 1)
    # A real user behind that address is refused too, one elsewhere is not.
    assert token_login("worker", "pw", ip="192.0.2.50").status_code == 429
    assert token_login("worker", "pw", ip="192.0.2.51").status_code == 200


def test_a_good_password_clears_the_username_failures_but_not_the_address(world):
    for i in range(LIMIT - 1):
        token_login("worker", f"guess-{i}")
    assert token_login("worker", "pw").status_code == 200
    for i in range(LIMIT - 1):
        assert token_login("worker", f"again-{i}").status_code == 400
    # The address keeps its count: 2 × (LIMIT - 1) failures from it.
    assert AccessAttempt.objects.filter(ip_address="203.0.113.7").exists()


def test_a_client_cannot_dodge_the_address_limit_with_x_forwarded_for(world):
    statuses = [
        APIClient(REMOTE_ADDR="192.0.2.60", HTTP_X_FORWARDED_FOR=f"10.0.{i}.1")
        .post(TOKEN_URL, {"username": f"nobody{i}", "password": "x"}, format="json")
        .status_code
        for i in range(IP_LIMIT + 2)
    ]
    assert statuses[-1] == 429


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_appended(settings):
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"
    assert client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"


# ---------------------------------------------------------------------------- the forms


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_200_wrong_passwords_on_a_login_form_give_the_chinese_lockout_page(world, path):
    c = Client(REMOTE_ADDR="203.0.113.8")
    statuses = []
    for i in range(200):
        r = c.post(path, {"username": "committee", "password": f"guess-{i}"})
        statuses.append(r.status_code)
    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, with its error
    assert statuses[LIMIT - 1 :] == [429] * (200 - LIMIT + 1)
    page = r.content.decode()
    assert r["Content-Type"].startswith("text/html")
    assert "登录失败次数过多" in page and "分钟" in page
    assert "<html" in page
    r = c.post(path, {"username": "committee", "password": "pw"})
    assert r.status_code == 429
    assert "_auth_user_id" not in c.session


def test_the_residents_form_still_logs_in_below_the_limit(world):
    c = Client(REMOTE_ADDR="203.0.113.8")
    for i in range(LIMIT - 1):
        assert (
            c.post("/accounts/login/", {"username": "resident", "password": f"x{i}"}).status_code
            == 200
        )
    r = c.post("/accounts/login/", {"username": "resident", "password": "pw"})
    assert r.status_code == 302
    assert c.session["_auth_user_id"] == str(world.resident_user.pk)


# ---------------------------------------------------------------------------- unlocking


def lock(username: str, ip: str = "203.0.113.7") -> None:
    for i in range(LIMIT):
        token_login(username, f"guess-{i}", ip=ip)
    assert token_login(username, "pw", ip=ip).status_code == 429


def test_a_committee_member_unlocks_a_user_of_their_community_in_the_admin(world, staff_client):
    lock("worker")
    c = staff_client(world.committee1)
    changelist = "/admin/core/loginlockout/"
    r = c.get(changelist)
    assert r.status_code == 200
    assert "worker" in r.content.decode()
    ids = list(LoginLockout.objects.filter(username="worker").values_list("pk", flat=True))
    r = c.post(changelist, {"action": "unlock_selected", "_selected_action": ids})
    assert r.status_code == 302
    assert not AccessAttempt.objects.filter(username="worker").exists()
    assert token_login("worker", "pw").status_code == 200


def test_unlocking_is_limited_to_the_unlockers_area(world):
    lock("worker", ip="203.0.113.1")  # community 1, street 1
    lock("worker3", ip="203.0.113.3")  # community 2, street 1
    lock("worker4", ip="203.0.113.4")  # community 3, street 2
    lock("root", ip="203.0.113.5")  # the superuser
    lock("resident", ip="203.0.113.6")  # a resident of community 1

    def names(user) -> set[str]:
        return set(lockouts_for(user).values_list("username", flat=True))

    assert names(world.committee1) == {"worker", "resident"}
    assert names(world.admin1) == {"worker", "worker3", "resident"}
    assert names(world.admin2) == {"worker4"}
    assert names(world.superuser) == {"worker", "worker3", "worker4", "root", "resident"}
    assert names(world.worker1.user) == set()
    assert names(world.resident_user) == set()

    # An unlock of everything by the committee clears only its community's.
    assert unlock(user=world.committee1, attempts=AccessAttempt.objects.all()) == 2
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {
        "worker3",
        "worker4",
        "root",
    }


def test_a_grid_worker_neither_sees_nor_unlocks_lockouts(world, staff_client):
    lock("worker2")
    c = staff_client(world.worker1)
    assert c.get("/admin/core/loginlockout/").status_code == 403
    with pytest.raises(Exception, match="committee"):
        unlock(user=world.worker1.user, attempts=AccessAttempt.objects.all())
    assert AccessAttempt.objects.filter(username="worker2").exists()


def test_the_admin_index_shows_login_lockouts_in_chinese_to_a_committee_member(world):
    world.committee1.is_staff = True
    world.committee1.save(update_fields=["is_staff"])
    c = Client()
    c.force_login(world.committee1)
    assert "登录锁定" in c.get("/admin/").content.decode()


# ---------------------------------------------------------------------------- tokens


def test_a_token_older_than_its_lifetime_is_refused_with_a_chinese_message(world, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    with time_machine.travel(timezone.now() - dt.timedelta(hours=25)):
        old = Token.objects.create(user=world.worker1.user)
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {old.key}")
    r = c.get(url("households"))
    assert r.status_code == 401
    assert "过期" in r.json()["detail"]
    # Logging in again gives a new token, which works.
    r = token_login("worker", "pw")
    assert r.status_code == 200
    assert r.json()["token"] != old.key
    c.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
    assert c.get(url("households")).status_code == 200


def test_a_token_within_its_lifetime_works_and_a_lifetime_of_zero_never_expires(world, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    with time_machine.travel(timezone.now() - dt.timedelta(hours=23)):
        token = Token.objects.create(user=world.worker1.user)
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert c.get(url("households")).status_code == 200
    settings.API_TOKEN_TTL_HOURS = 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=3650)):
        assert c.get(url("households")).status_code == 200


def test_logout_deletes_the_token(world):
    token = token_login("worker", "pw").json()["token"]
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert c.post(LOGOUT_URL).status_code == 204
    assert not Token.objects.filter(key=token).exists()
    assert c.get(url("households")).status_code == 401
    # Logging in again gives a fresh token.
    assert token_login("worker", "pw").json()["token"] != token


def test_logout_ends_a_session_too_and_needs_a_login(world):
    assert APIClient().post(LOGOUT_URL).status_code == 401
    c = APIClient()
    assert c.login(username="worker", password="pw")
    assert c.post(LOGOUT_URL).status_code == 204
    assert c.get(url("households")).status_code == 401


def test_a_token_login_records_the_last_login(world):
    assert world.worker1.user.last_login is None
    token_login("worker", "pw")
    assert get_user_model().objects.get(username="worker").last_login is not None
