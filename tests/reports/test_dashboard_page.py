"""The /dashboard/ page (issue 12): who gets it, what the shell hands the front end, the quarter
picker, the Chinese 403 page, the "not built" page, and the admin home's card. The charts
themselves are drawn by the browser (tests/browser/test_dashboard.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from reports.pages import quarter_choices, quarter_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(tmp_path: Path, settings: Any) -> Path:
    """A stand-in build of frontend/dashboard (the page only needs the files to exist)."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "dashboard.js").write_text("export {};\n")
    (dist / "dashboard.css").write_text("")
    settings.STATICFILES_DIRS = [("dashboard", dist)]
    return dist


def page_client(user: Any) -> Client:
    client = Client()  # the default language: 简体中文
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["committee1", "admin1", "superuser"])
def test_committee_street_admin_and_superuser_get_the_page(
    world: SimpleNamespace, built: Path, who: str
) -> None:
    response = page_client(getattr(world, who)).get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-api="/api/v1/reports/dashboard/"' in html
    assert 'data-map-api="/api/v1/reports/dashboard/map/"' in html
    assert "/static/dashboard/dashboard.js" in html
    assert "/static/dashboard/dashboard.css" in html
    assert "一图看懂" in html
    # Nothing from a CDN: every script and stylesheet is ours.
    assert "https://" not in html.split("<body", 1)[0]


@pytest.mark.parametrize("who", ["worker1", "resident_user", "partner_user", "stranger"])
def test_workers_residents_partners_and_strangers_get_a_chinese_403(
    world: SimpleNamespace, built: Path, who: str
) -> None:
    user = getattr(world, who)
    response = page_client(getattr(user, "user", user)).get("/dashboard/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "数据看板仅供街道管理员和社区（村）两委成员使用" in html
    assert "dashboard.js" not in html


def test_anonymous_goes_to_the_login(world: SimpleNamespace, built: Path) -> None:
    response = page_client(None).get("/dashboard/?community=1")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/")


def test_the_quarter_picker_keeps_the_drill_down_and_the_quarter_asked(
    world: SimpleNamespace, built: Path
) -> None:
    response = page_client(world.admin1).get(
        f"/dashboard/?community={world.community1.pk}&quarter=2025Q2"
    )
    html = response.content.decode()
    assert f'<input type="hidden" name="community" value="{world.community1.pk}">' in html
    assert 'name="grid"' not in html
    # A quarter older than the picker's eight is added, and chosen.
    assert '<option value="2025Q2" selected>2025年第2季度</option>' in html


def test_a_quarter_that_is_not_one_falls_back_to_this_quarter(
    world: SimpleNamespace, built: Path
) -> None:
    response = page_client(world.committee1).get("/dashboard/?quarter=<script>")
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()
    assert response.context["current_quarter"] == response.context["quarters"][0][0]


def test_without_a_build_the_page_says_so(
    world: SimpleNamespace, settings: Any, tmp_path: Path
) -> None:
    settings.STATICFILES_DIRS = [("dashboard", tmp_path)]  # empty: nothing built
    response = page_client(world.committee1).get("/dashboard/")
    assert response.status_code == 503
    assert "数据看板尚未构建" in response.content.decode()


def test_quarter_choices_go_back_eight_quarters_across_a_year() -> None:
    assert quarter_choices(dt.date(2026, 2, 14)) == [
        "2026Q1",
        "2025Q4",
        "2025Q3",
        "2025Q2",
        "2025Q1",
        "2024Q4",
        "2024Q3",
        "2024Q2",
    ]
    assert quarter_label("2026Q4") == "2026年第4季度"


@pytest.mark.parametrize(
    ("who", "shown"), [("committee1", True), ("admin1", True), ("worker1", False)]
)
def test_the_admin_home_shows_the_dashboard_card_to_those_who_may_see_it(
    world: SimpleNamespace, staff_client: Any, who: str, shown: bool
) -> None:
    response = staff_client(getattr(world, who)).get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert ('data-test="admin-dashboard-card"' in html) is shown
    assert ('href="/dashboard/"' in html) is shown
    # The rest of the admin home is still there.
    assert 'id="content-main"' in html
