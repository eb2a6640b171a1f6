"""The browser harness (issue 11): Playwright (Python) driving Debian's chromium against the built
field app, served by Django under pytest-django's live_server, on a 360×740 phone in Chinese.

Every test here is marked `browser` and skipped, with the reason, when /usr/bin/chromium
(`apt-get install chromium`) or the app's build (`make field`) is missing. The data is a small
village made with the factories and services (`village`), users log in through the app's own
form (`login`), and helpers take the phone offline (`offline`) or cut a connection after the
server has answered (`cut_after_response`).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 360, "height": 740}
PASSWORD = "field-pass-2026"
TIMEOUT_MS = 15_000


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no browser at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    if not (Path(settings.FIELD_APP_DIST) / "index.html").is_file():
        return f"the field app is not built ({settings.FIELD_APP_DIST}; run `make field`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    reason = None
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            reason = reason or _missing()
            if reason and os.environ.get("FIELD_BROWSER_REQUIRED"):
                raise pytest.UsageError(f"browser tests are required (CI) but: {reason}")
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


# ---------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def dist_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the build, taken once: a rebuild during the run (vite empties dist/ first)
    cannot pull files from under the server."""
    target = tmp_path_factory.mktemp("field-dist") / "dist"
    shutil.copytree(settings.FIELD_APP_DIST, target)
    return target


@pytest.fixture(autouse=True)
def _serve_the_copy(dist_copy: Path, settings: Any) -> None:
    settings.FIELD_APP_DIST = str(dist_copy)


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs its own event loop; Django refuses ORM calls from a thread
    # where one is running, and the tests read the database between browser steps.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def _one_request_at_a_time() -> Iterator[None]:
    """On in-memory SQLite the live server's threads all use the test's one connection, so two
    requests at once (the app sends up to four) would interleave their transactions on it: one
    rolling back could undo another's answered write. There, the server takes one request at a
    time (Django closes each connection when the server is not threaded)."""
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    class SerialWSGIServer(WSGIServer):
        def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)  # the server thread has the connections already

    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        yield
        return
    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = SerialWSGIServer
    try:
        yield
    finally:
        LiveServerThread.server_class = threaded


@pytest.fixture
def server(_one_request_at_a_time: None, live_server: Any) -> str:
    return live_server.url


def new_context(browser: Any, base_url: str, **kwargs: Any) -> Any:
    """A fresh phone: empty storage, 360×740, zh-CN, Beijing time."""
    options: dict[str, Any] = {
        "viewport": VIEWPORT,
        "screen": VIEWPORT,
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "base_url": base_url,
        "service_workers": "allow",
        **kwargs,
    }
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(playwright_browser: Any, server: str) -> Iterator[Any]:
    context = new_context(playwright_browser, server)
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


# ---------------------------------------------------------------------------- data


@pytest.fixture
def village(transactional_db: None) -> SimpleNamespace:
    """新庄赵村 with one grid of five households: a worker, a committee member, a resident with a
    login, an outsider; tags that make visits due, points rules (one with a cap), an open need
    assigned to the worker, a visit ten days ago."""
    from grids.models import CommitteeMember
    from points.models import Rule
    from tests import factories as f

    v = SimpleNamespace()
    v.street = f.StreetFactory(name="沙北街道", code="shabei")
    v.community = f.CommunityFactory(street=v.street, name="新庄赵村", code="xzz", kind="village")
    v.grid = f.GridFactory(community=v.community, code="G1", name="第一网格")
    v.other_grid = f.GridFactory(community=v.community, code="G2", name="第二网格")
    worker_user = f.UserFactory(username="worker", password=PASSWORD, groups=["grid_worker"])
    v.worker = f.GridWorkerFactory(user=worker_user, community=v.community, name="赵网格")
    f.GridAssignmentFactory(worker=v.worker, grid=v.grid, start_date=dt.date(2024, 1, 1))
    v.committee = f.UserFactory(username="committee", password=PASSWORD, groups=["committee"])
    CommitteeMember.objects.create(user=v.committee, community=v.community, title="主任")
    v.outsider = f.UserFactory(username="outsider", password=PASSWORD)

    v.tag = f.TagFactory(name="独居老人", visit_every_days=7)
    names = ["赵银名", "赵秀兰", "王建国", "李桂英", "张德福"]
    v.households, v.residents = [], []
    for i, name in enumerate(names):
        household = f.HouseholdFactory(
            grid=v.grid, village=True, village_group="一组", house_number=str(i + 3)
        )
        resident = f.ResidentFactory(household=household, name=name, phone=f"1380000000{i}")
        household.head = resident
        household.save()
        if i < 3:
            resident.tags.add(v.tag)
        v.households.append(household)
        v.residents.append(resident)
    resident_user = f.UserFactory(username="resident", password=PASSWORD, groups=["resident"])
    v.residents[4].user = resident_user
    v.residents[4].save()
    v.resident_user = resident_user

    v.visit = f.VisitFactory(
        worker=v.worker,
        household=v.households[0],
        visited_at=timezone.now() - dt.timedelta(days=10),
    )
    v.need = f.NeedFactory(
        grid=v.grid,
        household=v.households[1],
        title="路灯不亮",
        status="assigned",
        assigned_worker=v.worker,
        due_on=timezone.localdate() - dt.timedelta(days=1),
        reported_by=worker_user,
    )
    v.rule = Rule.objects.create(
        community=v.community,
        code="clean",
        name="清扫责任区",
        category="reward",
        points=1,
        cap_per_quarter=2,
    )
    v.advice = Rule.objects.create(
        community=v.community,
        code="advice",
        name="建议被采纳",
        category="reward",
        points=10,
        up_to=True,
    )
    return v


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A phone-sized JPEG (2400×1800: the app shrinks it to ≤ 1600 px before queueing)."""
    from PIL import Image

    path = tmp_path / "photo.jpg"
    image = Image.new("RGB", (2400, 1800), (200, 80, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    path.write_bytes(buffer.getvalue())
    return path


# ---------------------------------------------------------------------------- steps


def tid(name: str) -> str:
    return f"[data-test={name}]"


def login(page: Any, username: str, password: str = PASSWORD, *, expect_ok: bool = True) -> None:
    """Log in through the app's form; with expect_ok, wait for the tab bar."""
    page.goto("/m/#/login")
    page.locator(f"{tid('login-username')} input").fill(username)
    page.locator(f"{tid('login-password')} input").fill(password)
    page.locator(tid("login-submit")).click()
    if expect_ok:
        page.locator(tid("tabbar")).wait_for()


@pytest.fixture
def logged_in(page: Any) -> Callable[[str], Any]:
    """`logged_in("worker")`: the page, logged in as that user."""

    def go(username: str) -> Any:
        login(page, username)
        return page

    return go


def wait_for_service_worker(page: Any) -> None:
    """The app shell is cached and the page controlled: a reload now works offline."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
        page.wait_for_function("!!navigator.serviceWorker.controller")


def offline(context: Any, value: bool = True) -> None:
    """No signal (True) or signal again (False), for every page of the phone."""
    context.set_offline(value)


def cut_after_response(page: Any, url: str | re.Pattern[str], *, times: int = 1) -> list[int]:
    """Let the next `times` POSTs to `url` reach the server, then drop the connection before
    the app reads the answer (the server did the work; the phone saw a network error).
    Returns the list of statuses the server answered, filled as it happens."""
    statuses: list[int] = []

    def handle(route: Any) -> None:
        if route.request.method == "POST" and len(statuses) < times:
            response = route.fetch()
            statuses.append(response.status)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(url, handle)
    return statuses


def outbox_states(page: Any) -> list[tuple[str, str]]:
    """(kind, state) of every record on the 同步 tab."""
    page.goto("/m/#/sync")
    records = page.locator(tid("outbox-record"))
    records.first.wait_for()
    return [
        (r.get_attribute("data-kind") or "", r.get_attribute("data-state") or "")
        for r in records.all()
    ]


def wait_all_sent(page: Any, count: int, timeout_ms: int = 30_000) -> None:
    """On the 同步 tab, wait until `count` records show 已同步 and none is pending."""
    page.goto("/m/#/sync")
    page.wait_for_function(
        """(n) => {
            const all = [...document.querySelectorAll('[data-test=outbox-record]')];
            return all.length >= n && all.every(r => r.dataset.state === 'sent');
        }""",
        arg=count,
        timeout=timeout_ms,
    )
