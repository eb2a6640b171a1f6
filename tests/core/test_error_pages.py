"""Error pages speak Chinese for people (400, 403, 404, 500) and JSON under /api/; `/` shows a
visitor the way to the residents' login and the admin."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.urls("tests.core.error_urls")

PAGES = [
    ("/no-such-page/", 404, "页面不存在"),
    ("/denied/", 403, "无权访问"),
    ("/suspicious/", 400, "请求有误"),
    ("/boom/", 500, "服务器出错"),
]


@pytest.mark.parametrize(("path", "status", "heading"), PAGES)
def test_an_error_page_for_a_person_is_chinese_html(db, path, status, heading):
    r = Client(raise_request_exception=False).get(path)
    assert r.status_code == status
    assert r["Content-Type"].startswith("text/html")
    page = r.content.decode()
    assert heading in page
    assert "Not Found" not in page and "Server Error" not in page  # not Django's defaults
    assert 'href="/"' in page  # a way back


@pytest.mark.parametrize(("path", "status", "heading"), PAGES[:3])
def test_the_4xx_pages_are_phone_pages_built_on_the_base(db, path, status, heading):
    page = Client(raise_request_exception=False).get(path).content.decode()
    assert '<header class="bar">' in page
    assert 'name="viewport"' in page


def test_the_500_page_stands_alone(db):
    """It must render when the database or a template tag is what failed: no base, no tags."""
    from django.template.loader import get_template

    source = get_template("500.html").template.source
    assert "{% extends" not in source and "{% load" not in source and "{% url" not in source


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/api/v1/no-such-endpoint/", 404, "未找到。"),
        ("/api/v1/test/denied/", 403, "没有权限。"),
        ("/api/v1/test/suspicious/", 400, "请求有误。"),
        ("/api/v1/test/boom/", 500, "服务器错误。"),
    ],
)
def test_under_api_every_error_is_json(db, path, status, detail):
    r = Client(raise_request_exception=False).get(path)
    assert r.status_code == status
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": detail}


def test_english_browsers_get_the_error_page_in_english(db):
    r = Client(HTTP_ACCEPT_LANGUAGE="en").get("/no-such-page/")
    assert r.status_code == 404
    assert "Page not found" in r.content.decode()


# ---------------------------------------------------------------------------- the home page


def test_the_home_page_shows_a_visitor_the_resident_login_and_the_admin(db):
    r = Client().get("/")
    assert r.status_code == 200
    page = r.content.decode()
    assert 'href="/accounts/login/?next=/me/"' in page and "居民登录" in page
    assert 'href="/admin/"' in page and "工作人员登录" in page
    assert 'href="/m/"' in page


def test_the_resident_login_from_the_home_page_leads_to_the_residents_page(world):
    c = Client()
    r = c.post(
        "/accounts/login/?next=/me/", {"username": "resident", "password": "pw", "next": "/me/"}
    )
    assert r.status_code == 302 and r["Location"] == "/me/"


def test_a_logged_in_resident_goes_to_their_page_and_staff_to_the_admin(world):
    c = Client()
    c.force_login(world.resident_user)
    assert c.get("/")["Location"] == "/me/"
    c.force_login(world.committee1)
    assert c.get("/")["Location"] == "/admin/"
