"""The dashboard end to end (issue 12): Debian's chromium against /dashboard/ served by Django
with the built front end (`make dashboard`), reading the real reports API with the session
cookie. Every chart is drawn (a canvas in each chart, its figure in words beside it), with no
console error, for a committee member and a street admin, at 1280 px and on a 360-px phone;
the grid map draws a path for each grid with a boundary; grid workers and residents get the
403 page.

Screenshots (of the demo) go to a temporary folder, or to DASHBOARD_SCREENSHOTS when it is set:
the README's pictures are made with `DASHBOARD_SCREENSHOTS=docs/screenshots .venv/bin/pytest
tests/browser/test_dashboard.py -k demo`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, new_context

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
DEMO_PASSWORD = "demo-pass-2026"  # demo/: every demo login's
# Every figure of the contract (frontend/dashboard/src/figures.js), and which are charts.
CHARTS = [
    "needs_monthly",
    "needs_open_by_category",
    "needs_overdue_by_grid",
    "needs_satisfaction_by_grid",
    "visits_coverage_by_grid",
    "visits_key_overdue_by_grid",
    "points_monthly",
    "claims_waiting",
    "redemption_by_community",
    "council",
    "volunteer_hours",
]
NOT_CHARTS = ["points_liability", "ranking_top"]  # a big number, a table


@pytest.fixture(autouse=True)
def _dashboard_built() -> None:
    if not finders.find("dashboard/dashboard.js"):
        reason = f"the dashboard is not built ({settings.DASHBOARD_DIST}; run `make dashboard`)"
        if os.environ.get("FIELD_BROWSER_REQUIRED"):  # CI: a missing build is an error
            pytest.fail(reason)
        pytest.skip(reason)


def square(lng: float, lat: float, size: float = 0.004) -> dict[str, Any]:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat - size], [lng, lat - size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def area(village: SimpleNamespace) -> SimpleNamespace:
    """The browser harness's village (新庄赵村, grids G1 and G2) with boundaries and household
    positions, a second community of the street (泰山社区, one grid with a boundary), a
    street admin, and a resolved and rated need, so every chart has something to draw."""
    from grids.models import Grid, StreetAdmin
    from residents.models import Household
    from tests import factories as f

    v = village
    v.street_admin = f.UserFactory(
        username="streetadmin", password=PASSWORD, groups=["street_admin"], is_staff=True
    )
    StreetAdmin.objects.create(user=v.street_admin, street=v.street)
    v.other_community = f.CommunityFactory(street=v.street, name="泰山社区", code="taishan")
    v.far_grid = f.GridFactory(community=v.other_community, code="G1", name="黄山小区网格")
    for grid, (lng, lat) in [
        (v.grid, (117.100, 36.190)),
        (v.other_grid, (117.104, 36.190)),
        (v.far_grid, (117.112, 36.186)),
    ]:
        Grid.objects.filter(pk=grid.pk).update(boundary=square(lng, lat), boundary_crs="GCJ-02")
    for i, household in enumerate(v.households):
        Household.objects.filter(pk=household.pk).update(
            longitude=Decimal("117.1008") + Decimal(i) / 2000, latitude=Decimal("36.1885")
        )
    f.NeedFactory(
        grid=v.other_grid,
        title="楼道灯坏了",
        status="resolved",
        reported_by=v.committee,
        due_on=timezone.localdate() + dt.timedelta(days=3),
    )
    return v


def open_dashboard(
    browser: Any,
    server: str,
    username: str,
    viewport: dict[str, int],
    query: str = "",
    password: str = PASSWORD,
) -> tuple[Any, Any, list[str]]:
    """A fresh browser of that size, logged in through /accounts/login/, on /dashboard/ with the
    figures drawn. Returns (context, page, console errors seen on the dashboard)."""
    phone = viewport["width"] < 600
    context = new_context(
        browser,
        server,
        viewport=viewport,
        screen=viewport,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        service_workers="block",
    )
    page = context.new_page()
    # The suite runs 4 processes on 2 cores: a page with ECharts and Leaflet may take a while.
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(45_000)
    page.goto(f"/accounts/login/?next=/dashboard/{query}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not (m.location or {}).get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(f"{e}\n{e.stack}"))
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/**")
    expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready", timeout=30_000)
    return context, page, errors


def assert_every_figure_drawn(page: Any) -> None:
    for key in CHARTS:
        card = page.locator(f"[data-figure={key}]")
        expect(card).to_have_count(1)
        expect(card.locator("[data-test=chart] canvas").first).to_be_attached()
        box = card.locator("[data-test=chart]").bounding_box()
        assert box and box["width"] > 200 and box["height"] >= 180, (key, box)
        words = card.locator("[data-test=words] p").first.inner_text()
        assert len(words) > 10, (key, words)
    for key in NOT_CHARTS:
        card = page.locator(f"[data-figure={key}]")
        expect(card).to_have_count(1)
        assert len(card.locator("[data-test=words]").inner_text()) > 10, key
    # A canvas with something painted on it, not a blank one.
    painted = page.evaluate(
        """() => [...document.querySelectorAll('[data-test=chart] canvas')].filter((c) => {
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < data.length; i += 4) if (data[i]) return true;
            return false;
        }).length"""
    )
    assert painted == len(CHARTS)


def no_horizontal_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def shots_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def browser(playwright_browser: Any) -> Iterator[Any]:
    yield playwright_browser


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_committee_member_sees_every_chart_of_their_village(
    area: SimpleNamespace, browser: Any, server: str, viewport: dict[str, int]
) -> None:
    context, page, errors = open_dashboard(browser, server, "committee", viewport)
    try:
        expect(page.locator("[data-test=scope-title]")).to_contain_text("新庄赵村")
        assert_every_figure_drawn(page)
        # The drill-down offers the village's grids; the map draws its two boundaries (not
        # 泰山社区's) and the households as dots on a canvas.
        expect(page.locator("[data-test=children] a")).to_have_count(2)
        expect(page.locator(".leaflet-overlay-pane svg path[data-grid-id]")).to_have_count(2)
        expect(page.locator(".leaflet-overlay-pane canvas")).to_have_count(1)
        expect(page.locator("[data-test=map-words]")).to_contain_text("2 个网格的边界")
        expect(page.locator("[data-test=map-legend]")).to_contain_text("超期需求")
        # The 1 overdue need of 第一网格 (village fixture) in the chart's words.
        words = page.locator("[data-figure=needs_overdue_by_grid] [data-test=words]").inner_text()
        assert "超期 1 件" in words and "第一网格" in words
        no_horizontal_scroll(page)
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_street_admin_drills_down_from_the_street_to_a_community_and_a_grid(
    area: SimpleNamespace, browser: Any, server: str, viewport: dict[str, int]
) -> None:
    context, page, errors = open_dashboard(browser, server, "streetadmin", viewport)
    try:
        expect(page.locator("[data-test=scope-title]")).to_contain_text("沙北街道")
        assert_every_figure_drawn(page)
        expect(page.locator(".leaflet-overlay-pane svg path[data-grid-id]")).to_have_count(3)
        no_horizontal_scroll(page)

        page.locator("[data-test=children] a", has_text="新庄赵村").click()
        page.wait_for_url(f"**/dashboard/?community={area.community.pk}&quarter=*")
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready", timeout=30_000)
        expect(page.locator("[data-test=breadcrumbs]")).to_contain_text("沙北街道")
        expect(page.locator("[data-test=breadcrumbs] [aria-current=page]")).to_have_text("新庄赵村")
        expect(page.locator(".leaflet-overlay-pane svg path[data-grid-id]")).to_have_count(2)

        # A click on a grid of the map opens its numbers and a link to its figures.
        page.locator(f"path[data-grid-id='{area.other_grid.pk}']").click()
        link = page.locator("[data-test=map-grid-link]")
        expect(link).to_be_visible()
        expect(page.locator(".map-popup")).to_contain_text("第二网格")
        # The link itself is followed (not a click at its place: on a loaded machine the popup
        # may still be panning into view at 360 px, and a click there lands on the map).
        link.dispatch_event("click")
        page.wait_for_url(f"**/dashboard/?grid={area.other_grid.pk}&quarter=*")
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready", timeout=30_000)
        expect(page.locator("[data-test=scope-title]")).to_contain_text("第二网格")
        assert_every_figure_drawn(page)
        crumbs = page.locator("[data-test=breadcrumbs]").inner_text()
        assert "沙北街道" in crumbs and "新庄赵村" in crumbs and "第二网格" in crumbs

        # Back up to the street through the breadcrumbs.
        page.locator("[data-test=breadcrumbs] a", has_text="沙北街道").click()
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready", timeout=30_000)
        expect(page.locator("[data-test=scope-title]")).to_contain_text("沙北街道")
        assert errors == []
    finally:
        context.close()


def test_the_map_recolours_by_visit_coverage(
    area: SimpleNamespace, browser: Any, server: str
) -> None:
    context, page, errors = open_dashboard(browser, server, "committee", DESKTOP)
    try:
        path = page.locator(f"path[data-grid-id='{area.grid.pk}']")
        before = path.get_attribute("fill")
        page.locator("[data-test=map-mode-coverage]").check()
        expect(page.locator("[data-test=map-legend]")).to_contain_text("走访覆盖率")
        # 第一网格: one of five households visited this quarter at most (< 50%): red.
        expect(path).to_have_attribute("fill", "#b42318")
        assert before != "#b42318"
        assert errors == []
    finally:
        context.close()


def test_with_a_tile_url_the_map_draws_its_tiles_under_the_grids(
    area: SimpleNamespace, browser: Any, server: str, settings: Any
) -> None:
    """MAP_TILE_URL set: tiles from that template (answered here by the test, no network),
    the attribution shown, the grids drawn over them."""
    import base64

    settings.MAP_TILE_URL = "https://tiles.example.test/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "测试底图"
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    asked: list[str] = []
    context = new_context(browser, server, service_workers="block")
    context.route(
        "https://tiles.example.test/**",
        lambda route: (
            asked.append(route.request.url),
            route.fulfill(status=200, content_type="image/png", body=png),
        ),
    )
    try:
        page = context.new_page()
        page.goto("/accounts/login/?next=/dashboard/")
        page.fill("input[name=username]", "committee")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready", timeout=30_000)
        expect(page.locator(".leaflet-tile-pane img.leaflet-tile-loaded").first).to_be_attached()
        expect(page.locator(".leaflet-control-attribution")).to_contain_text("测试底图")
        expect(page.locator(".leaflet-overlay-pane svg path[data-grid-id]")).to_have_count(2)
        assert asked and all(u.endswith(".png") for u in asked)
        assert "plain" not in (page.locator("[data-test=map]").get_attribute("class") or "")
    finally:
        context.close()


def test_an_unknown_grid_in_the_address_says_so_in_chinese(
    area: SimpleNamespace, browser: Any, server: str
) -> None:
    context, page, _errors = open_dashboard(browser, server, "committee", PHONE)
    try:
        page.goto(f"/dashboard/?grid={area.far_grid.pk}")  # 泰山社区's grid: not the committee's
        expect(page.locator("#dashboard")).to_have_attribute("data-state", "error")
        expect(page.locator("[data-test=status]")).to_contain_text("不在您的管辖范围内")
    finally:
        context.close()


@pytest.mark.parametrize("username", ["worker", "resident"])
def test_a_worker_or_a_resident_gets_no_dashboard(
    area: SimpleNamespace, browser: Any, server: str, username: str
) -> None:
    context = new_context(browser, server, service_workers="block")
    try:
        page = context.new_page()
        page.goto("/accounts/login/?next=/dashboard/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard/")
        response = page.reload()
        assert response is not None and response.status == 403
        expect(page.locator("[data-test=forbidden]")).to_contain_text("数据看板仅供")
        expect(page.locator("canvas")).to_have_count(0)
    finally:
        context.close()


@pytest.fixture
def demo(transactional_db: None) -> SimpleNamespace:
    """The demo street (`manage.py seed_demo`), with its grids' boundaries on the map."""
    from django.core.management import call_command

    from grids.models import Grid

    call_command("seed_demo", stdout=io.StringIO())
    with_boundary = Grid.objects.exclude(boundary=None)
    return SimpleNamespace(
        xzz_grids=with_boundary.filter(community__code="xzz").count(),
        all_grids=with_boundary.count(),
    )


def test_the_map_draws_the_demo_boundaries_and_the_readme_pictures(
    demo: SimpleNamespace, browser: Any, server: str, tmp_path: Path
) -> None:
    """新庄赵村's committee sees its 7 grids on the map, the street admin the whole street's;
    the screenshots of the README are taken on the way (the village at 1280 and on a phone,
    and its map)."""
    assert demo.xzz_grids == 7
    target = shots_dir(tmp_path)
    for viewport, name in [(DESKTOP, "dashboard-1280.png"), (PHONE, "dashboard-360.png")]:
        context, page, errors = open_dashboard(
            browser, server, "committee", viewport, password=DEMO_PASSWORD
        )
        try:
            expect(page.locator(".leaflet-overlay-pane svg path[data-grid-id]")).to_have_count(7)
            assert_every_figure_drawn(page)
            page.screenshot(path=str(target / name), full_page=True)
            if viewport is DESKTOP:
                card = page.locator("[data-test=map-card]")
                card.screenshot(path=str(target / "dashboard-map.png"))
            assert errors == []
        finally:
            context.close()
    context, page, errors = open_dashboard(
        browser, server, "admin", DESKTOP, password=DEMO_PASSWORD
    )
    try:
        paths = page.locator(".leaflet-overlay-pane svg path[data-grid-id]")
        expect(paths).to_have_count(demo.all_grids)
        expect(page.locator(".community-label")).to_have_count(2)
        assert errors == []
    finally:
        context.close()
    for name in ("dashboard-1280.png", "dashboard-360.png", "dashboard-map.png"):
        assert (target / name).stat().st_size > 10_000, name
