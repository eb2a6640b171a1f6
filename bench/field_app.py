#!/usr/bin/env python
"""The grid worker's field app (issue 11), in one run:

1. The bundle endpoint (`GET /api/v1/field/bundle/`) for a worker whose grid holds 10
   households and one whose grid holds 1,000 (two residents each, tagged, with accounts,
   visits, needs, claims), through the whole stack with a real token: the number of queries of
   a full bundle, of a `?since=` bundle and of a 304 revalidation at both sizes (goal: ratio
   <= 1.2; they are equal by construction), the 304 revalidation's median time (what the app
   does every few minutes; goal: ratio <= 1.2), and, for information, the full bundle's time
   and size at both sizes.
2. The app's first load: the JS and CSS index.html pulls in (entry, modulepreloads,
   stylesheets), gzipped (goal: <= 250 KB).
3. With Playwright driving /usr/bin/chromium on a 360x740 phone, on Chrome's "Slow 3G"
   (400 kbps down and up, 400 ms round trip) and 4x CPU slowdown through CDP
   (Network.emulateNetworkConditions, Emulation.setCPUThrottlingRate):
   - the today list of a worker of 300 households drawn after a reload (the shell from the
     service worker, the data from IndexedDB; goal: <= 1 s, median of runs);
   - a day of offline work recorded through the app's forms (50 visits, 20 needs with one
     photo each, 30 claims), then the network back: the time until the outbox is empty and
     every record on the server exactly once (goal: <= 60 s).

Data: a fresh SQLite database in a temporary folder (or `--database-url` of an EMPTY database),
migrated and filled with the test helpers (tests/field/helpers.py); the app from
frontend/field/dist (`make field`), served by Django in a live server thread.

Usage (from the project root):

    .venv/bin/python bench/field_app.py
    .venv/bin/python bench/field_app.py --runs 15 --skip-browser
    .venv/bin/python bench/field_app.py --only-today   # the today list alone (3a), with marks
    make bench-field-app BENCH_ARGS="--runs 9"

Exit status 1 when a goal is missed (or a step could not run), 0 otherwise.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench-pass-2026"
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
CPU_SLOWDOWN = 4
GOALS = {
    "queries": 1.2,
    "revalidate": 1.2,
    "first_load_kb": 250,
    "today_s": 1.0,
    "day_sync_s": 60.0,
}
DAY = {"visits": 50, "needs": 20, "claims": 30}

results: list[tuple[str, str, bool | None]] = []  # (name, figure, met)


def report(name: str, figure: str, met: bool | None = None) -> None:
    results.append((name, figure, met))
    mark = "" if met is None else ("  OK" if met else "  MISSED")
    print(f"  {name:<52} {figure}{mark}", flush=True)


# ---------------------------------------------------------------------------- set-up


def setup_django(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["ALLOWED_HOSTS"] = "localhost,127.0.0.1,testserver"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        folder = tempfile.mkdtemp(prefix="gp-bench-field-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    # Playwright's sync API runs an event loop in this thread; the ORM is used between steps.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_worker(username: str, households: int, *, cap: int | None) -> Any:
    from points.models import Rule
    from residents.models import Tag
    from tests import factories as f
    from tests.field.helpers import fill_grid

    tag, _ = Tag.objects.get_or_create(name="独居老人", defaults={"visit_every_days": 7})
    community = f.CommunityFactory()
    grid = f.GridFactory(community=community)
    user = f.UserFactory(username=username, password=PASSWORD, groups=["grid_worker"])
    worker = f.GridWorkerFactory(user=user, community=community)
    f.GridAssignmentFactory(worker=worker, grid=grid)
    rule = Rule.objects.create(
        community=community,
        code="clean",
        name="清扫责任区",
        category="reward",
        points=1,
        cap_per_quarter=cap,
    )
    fill_grid(grid, worker, households, tag=tag, rule=rule, prefix=username)
    return user


# ---------------------------------------------------------------------------- 1. the bundle


def bench_bundle(users: dict[int, Any], runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    print("\n== 1. GET /api/v1/field/bundle/ (10 vs 1,000 households)", flush=True)
    clients = {}
    for n, user in users.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        clients[n] = client

    def call(n: int, **kwargs: Any) -> tuple[Any, int, float]:
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = clients[n].get("/api/v1/field/bundle/", **kwargs)
            took = time.perf_counter() - start
        return response, len(ctx.captured_queries), took

    versions, queries, sizes = {}, {}, {}
    for n in users:
        response, count, _took = call(n)
        assert response.status_code == 200, response.content[:300]
        versions[n] = response.json()["version"]
        sizes[n] = len(response.content)
        queries[(n, "full")] = count
        queries[(n, "since")] = call(n, data={"since": versions[n]})[1]
        not_modified, count, _took = call(n, HTTP_IF_NONE_MATCH=f'"{versions[n]}"')
        assert not_modified.status_code == 304
        queries[(n, "304")] = count

    times: dict[tuple[int, str], list[float]] = {}
    order = [10, 1000, 1000, 10]
    for _ in range(runs):
        for n in order:
            times.setdefault((n, "full"), []).append(call(n)[2])
            times.setdefault((n, "304"), []).append(
                call(n, HTTP_IF_NONE_MATCH=f'"{versions[n]}"')[2]
            )
            times.setdefault((n, "since"), []).append(call(n, data={"since": versions[n]})[2])

    for kind in ("full", "since", "304"):
        small, large = queries[(10, kind)], queries[(1000, kind)]
        ratio = large / small
        report(
            f"queries, {kind} bundle: 10 / 1,000 households",
            f"{small} / {large}  ratio {ratio:.2f} (goal <= {GOALS['queries']})",
            ratio <= GOALS["queries"],
        )
    med = {key: statistics.median(value) * 1000 for key, value in times.items()}
    ratio = med[(1000, "304")] / med[(10, "304")]
    report(
        "304 revalidation (If-None-Match), median ms",
        f"{med[(10, '304')]:.1f} / {med[(1000, '304')]:.1f}  ratio {ratio:.2f} "
        f"(goal <= {GOALS['revalidate']})",
        ratio <= GOALS["revalidate"],
    )
    report(
        "?since= with nothing changed, median ms",
        f"{med[(10, 'since')]:.1f} / {med[(1000, 'since')]:.1f}  "
        f"ratio {med[(1000, 'since')] / med[(10, 'since')]:.2f} (information)",
    )
    report(
        "full bundle, median ms (information)",
        f"{med[(10, 'full')]:.1f} / {med[(1000, 'full')]:.1f}  "
        f"ratio {med[(1000, 'full')] / med[(10, 'full')]:.2f}; "
        f"{(med[(1000, 'full')] - med[(10, 'full')]) / 990:.2f} ms per extra household",
    )
    report(
        "full bundle, bytes (information)",
        f"{sizes[10]:,} / {sizes[1000]:,} (gzipped {gz(clients, 1000):,} at 1,000)",
    )


def gz(clients: dict[int, Any], n: int) -> int:
    return len(gzip.compress(clients[n].get("/api/v1/field/bundle/").content))


# ---------------------------------------------------------------------------- 2. first load


def bench_first_load(dist: Path) -> None:
    print("\n== 2. first load: JS + CSS of index.html, gzipped", flush=True)
    html = (dist / "index.html").read_text(encoding="utf-8")
    urls = set(re.findall(r'<script[^>]+src="([^"]+)"', html))
    urls |= set(re.findall(r'<link[^>]+href="([^"]+\.(?:js|css))"', html))
    total = 0
    for url in sorted(urls):
        path = dist / url.removeprefix("/m/").lstrip("/")
        size = len(gzip.compress(path.read_bytes(), compresslevel=9))
        total += size
        print(f"     {url:<60} {size / 1024:7.1f} KB", flush=True)
    kb = total / 1024
    report(
        "first load, JS + CSS gzipped",
        f"{kb:.1f} KB (goal <= {GOALS['first_load_kb']} KB)",
        kb <= GOALS["first_load_kb"],
    )


# ---------------------------------------------------------------------------- 3. in the browser


def tid(name: str) -> str:
    return f"[data-test={name}]"


def new_context(browser: Any, url: str, **kwargs: Any) -> Any:
    viewport = {"width": 360, "height": 740}
    context = browser.new_context(
        viewport=viewport,
        screen=viewport,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=url,
        **kwargs,
    )
    context.set_default_timeout(60_000)
    return context


def login(page: Any, username: str) -> None:
    page.goto("/m/#/login")
    page.locator(f"{tid('login-username')} input").fill(username)
    page.locator(f"{tid('login-password')} input").fill(PASSWORD)
    page.locator(tid("login-submit")).click()
    page.locator(tid("tabbar")).wait_for()


def slow(cdp: Any, *, offline: bool = False) -> None:
    if offline:
        conditions = {
            "offline": True,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        }
        cdp.send("Network.emulateNetworkConditions", conditions)
    else:
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})


# The app's timing marks (gp:*) and the navigation's own steps, in ms after it started.
MARKS_JS = """() => {
  const out = { origin: performance.timeOrigin };
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) {
    out.response = nav.responseEnd;
    out.domContentLoaded = nav.domContentLoadedEventEnd;
  }
  const files = performance
    .getEntriesByType('resource')
    .filter((r) => r.name.includes('/m/assets/'));
  if (files.length) out.assets = Math.max(...files.map((r) => r.responseEnd));
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('gp:') && !(m.name in out)) out[m.name] = m.startTime;
  }
  return out;
}"""


def bench_today(browser: Any, url: str, runs: int) -> None:
    print("\n== 3a. today list, 300 households, Slow 3G + 4x CPU, after a reload", flush=True)
    context = new_context(browser, url, service_workers="allow")
    page = context.new_page()
    login(page, "bench300")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
        page.wait_for_function("!!navigator.serviceWorker.controller")
    page.locator(tid("today-item")).first.wait_for()
    count = page.locator(tid("today-item")).count()

    marks: list[dict[str, float]] = []

    def draw() -> float:
        start = time.perf_counter()
        wall = time.time()
        page.reload(wait_until="commit")
        page.locator(tid("today-item")).first.wait_for()
        took = time.perf_counter() - start
        steps = page.evaluate(MARKS_JS)
        # From the reload asked to the new page's navigation start (the old page letting go).
        steps["navigation"] = steps.pop("origin") - wall * 1000
        marks.append(steps)
        return took

    plain = statistics.median([draw() for _ in range(runs)])
    marks.clear()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    slow(cdp)
    draws = [draw() for _ in range(runs)]
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    context.close()
    median = statistics.median(draws)
    report("today list drawn, no throttling, median (information)", f"{plain:.2f} s")
    names = [name for name in marks[0] if all(name in m for m in marks)] if marks else []
    if names:
        # Where the time goes (ms after the navigation started, median of the throttled runs;
        # "navigation": from the reload asked to the navigation's start).
        steps = ", ".join(f"{n} {statistics.median(m[n] for m in marks):.0f}" for n in names)
        report("today list, throttled: marks in ms (information)", steps)
    report(
        f"today list drawn ({count} items), median of {runs}",
        f"{median:.2f} s (min {min(draws):.2f}, max {max(draws):.2f}; goal <= "
        f"{GOALS['today_s']} s)",
        median <= GOALS["today_s"],
    )


def photo_file() -> Path:
    from PIL import Image

    path = Path(tempfile.mkdtemp(prefix="gp-bench-photo-")) / "photo.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), (120, 160, 60)).save(buffer, "JPEG", quality=70)
    path.write_bytes(buffer.getvalue())
    return path


def pick_first(page: Any) -> None:
    popup = page.locator(".van-popup--bottom:visible")
    popup.locator(".van-picker__confirm").click()
    popup.wait_for(state="detached")


def bench_day(browser: Any, url: str, households: list[int]) -> None:
    from points.models import Claim
    from residents.models import Need, NeedPhoto, Visit

    total = DAY["visits"] + DAY["needs"] + DAY["claims"]
    print(
        f"\n== 3b. a day offline ({DAY['visits']} visits, {DAY['needs']} needs with a photo, "
        f"{DAY['claims']} claims), then synced on Slow 3G + 4x CPU",
        flush=True,
    )
    # No service worker: Playwright's network emulation then covers every request of the page.
    context = new_context(browser, url, service_workers="block")
    page = context.new_page()
    login(page, "benchday")
    # Every form's code loaded once while online (the service worker would have cached it).
    for route in ("/needs", "/sync", f"/h/{households[0]}"):
        page.goto(f"/m/#{route}")
        page.wait_for_load_state("networkidle")
    for form in ("visit", "need", "claim"):
        page.goto(f"/m/#/h/{households[0]}/{form}")
        page.wait_for_load_state("networkidle")
    page.goto("/m/#/today")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    slow(cdp, offline=True)
    before = (Visit.objects.count(), Need.objects.count(), NeedPhoto.objects.count())
    before_claims = Claim.objects.count()
    photo = photo_file()
    started = time.perf_counter()
    for i in range(DAY["visits"]):
        page.goto(f"/m/#/h/{households[i % len(households)]}/visit")
        page.locator(f"{tid('visit-notes')} textarea").fill(f"基准走访 {i}")
        page.locator(tid("save-visit")).click()
        page.locator(tid("save-visit")).wait_for(state="detached")
    for i in range(DAY["needs"]):
        page.goto(f"/m/#/h/{households[i % len(households)]}/need")
        page.locator(tid("need-category")).click()
        pick_first(page)
        page.locator(f"{tid('need-title')} input").fill(f"基准需求 {i}")
        page.locator(f"{tid('photo-input')} input[type=file]").set_input_files(str(photo))
        page.locator(".van-uploader__preview-image").wait_for()
        page.locator(".van-uploader__mask").wait_for(state="detached")
        page.locator(tid("save-need")).click()
        page.locator(tid("save-need")).wait_for(state="detached")
    for i in range(DAY["claims"]):
        page.goto(f"/m/#/h/{households[i % len(households)]}/claim")
        page.locator(f"{tid('claim-resident')} .van-radio").first.wait_for()
        page.locator(tid("claim-rule")).click()
        pick_first(page)
        page.locator(f"{tid('claim-note')} textarea").fill(f"基准申报 {i}")
        page.locator(tid("save-claim")).click()
        page.locator(tid("save-claim")).wait_for(state="detached")
    print(f"     recorded offline in {time.perf_counter() - started:.0f} s", flush=True)
    page.goto("/m/#/today")
    pending = page.locator(tid("pending-count")).inner_text()

    start = time.perf_counter()
    slow(cdp)  # the signal is back, a poor one
    page.wait_for_function(
        "() => /待同步 0/.test(document.querySelector('[data-test=pending-count]')?.textContent)",
        timeout=600_000,
        polling=250,
    )
    took = time.perf_counter() - start
    failed = page.locator(tid("failed-count")).count()
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    context.close()
    after = (Visit.objects.count(), Need.objects.count(), NeedPhoto.objects.count())
    made = [a - b for a, b in zip(after, before, strict=True)]
    claims = Claim.objects.count() - before_claims
    exact = made == [DAY["visits"], DAY["needs"], DAY["needs"]] and claims == DAY["claims"]
    report(
        f"rows made on the server ({pending} before)",
        f"{made[0]} visits, {made[1]} needs, {made[2]} photos, {claims} claims"
        f"{'' if not failed else ' — some records failed'}",
        exact and not failed,
    )
    report(
        f"day of offline work ({total} taps) synced",
        f"{took:.1f} s (goal <= {GOALS['day_sync_s']:.0f} s)",
        took <= GOALS["day_sync_s"],
    )


def run_browser(runs: int, *, only_today: bool = False) -> None:
    from django.conf import settings
    from django.test.testcases import LiveServerThread, _StaticFilesHandler
    from playwright.sync_api import sync_playwright

    from residents.models import Household

    server = LiveServerThread("localhost", _StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    url = f"http://localhost:{server.port}"
    households = list(
        Household.objects.filter(grid__assignments__worker__user__username="benchday")
        .order_by("id")
        .values_list("id", flat=True)
    )
    print(f"\n   live server {url}, app from {settings.FIELD_APP_DIST}", flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            try:
                bench_today(browser, url, runs)
                if not only_today:
                    bench_day(browser, url, households)
            finally:
                browser.close()
    finally:
        server.terminate()


# ---------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per figure (median)")
    parser.add_argument("--database-url", help="an EMPTY database (default: a fresh SQLite)")
    parser.add_argument("--skip-browser", action="store_true", help="only steps 1 and 2")
    parser.add_argument(
        "--only-today", action="store_true", help="only the today list in the browser (3a)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    setup_django(args.database_url)
    from django.conf import settings

    dist = Path(settings.FIELD_APP_DIST)
    sizes = "300" if args.only_today else "10, 1,000, 300 and 60"
    print(f"== data: workers of {sizes} households", flush=True)
    users = {} if args.only_today else {n: make_worker(f"bench{n}", n, cap=4) for n in (10, 1000)}
    make_worker("bench300", 300, cap=4)
    if not args.only_today:
        make_worker("benchday", 60, cap=None)
    print(f"   built in {time.perf_counter() - started:.0f} s", flush=True)

    if not args.only_today:
        bench_bundle(users, args.runs)
    if (dist / "index.html").is_file():
        bench_first_load(dist)
    else:
        report("first load", f"not built ({dist}; run `make field`)", False)
    if args.skip_browser:
        print("\n== 3. browser steps skipped (--skip-browser)")
    elif not Path(CHROMIUM).is_file() or not (dist / "index.html").is_file():
        report("browser steps", f"cannot run: no {CHROMIUM} or no build", False)
    else:
        run_browser(args.runs, only_today=args.only_today)

    print("\n== summary")
    missed = [name for name, _figure, met in results if met is False]
    for name, figure, met in results:
        if met is not None:
            print(f"  {'OK    ' if met else 'MISSED'} {name}: {figure}")
    print(f"  ({time.perf_counter() - started:.0f} s in all)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
