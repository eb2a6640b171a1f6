"""The paper path (issue 14) in a real chromium, on the demo street: the grid worker `worker`
(新庄赵村 第一网格) prints the month's points statements and the day's visit sheet as A4, then
records the round on a 360×740 phone.

The printed pages are rendered twice: as a real A4 PDF (page.pdf, CSS page size), whose pages
are counted (two households a sheet), and as a 794×1123 px screenshot of the first sheet with
the print stylesheet (docs/screenshots/paper-*.png); with poppler's pdftoppm on the machine,
the PDF's first page is saved as a PNG too (paper-*-pdf.png).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import new_context

# The README's pictures are refreshed with PAPER_SCREENSHOTS=docs/screenshots; otherwise the
# shots go to a throwaway folder, so running the suite leaves the checkout as it was.
SHOTS = Path(
    os.environ.get("PAPER_SCREENSHOTS") or tempfile.mkdtemp(prefix="gridpoints-paper-shots-")
)
if not SHOTS.is_absolute():
    SHOTS = Path(settings.BASE_DIR) / SHOTS
A4 = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 px per inch


@pytest.fixture
def demo(transactional_db: None) -> Any:
    from grids.models import Grid

    call_command("seed_demo", verbosity=0)
    return Grid.objects.select_related("community").get(community__code="xzz", code="G1")


@pytest.fixture
def a4(playwright_browser: Any, server: str) -> Any:
    context = new_context(
        playwright_browser, server, viewport=A4, screen=A4, device_scale_factor=1,
        is_mobile=False, has_touch=False,
    )  # fmt: skip
    yield context.new_page()
    context.close()


def log_in(page: Any, username: str = "worker") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def pdf_pages(page: Any, name: str, tmp_path: Path) -> int:
    """Print the page to an A4 PDF; save its first page as a PNG when pdftoppm is there."""
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "96", "-f", "1", "-l", "1", "-singlefile", str(path),
             str(SHOTS / f"paper-{name}-pdf")],
            check=True,
        )  # fmt: skip
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def shot_a4(page: Any, name: str) -> None:
    """The first sheet as printed (print stylesheet), at A4's size in pixels; nothing wider."""
    page.emulate_media(media="print")
    # A screen has no page margins: stand in for the sheet's (@page 8–10 mm).
    page.add_style_tag(content="@media print { body { padding: 8mm 10mm !important; } }")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= A4["width"], f"{name}: {width}px wide"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"paper-{name}.png"), clip={"x": 0, "y": 0, **A4})
    page.emulate_media(media="screen")


def test_worker_prints_the_months_statements_two_households_a_sheet(
    demo: Any, a4: Any, tmp_path: Path
) -> None:
    from residents.models import Household

    households = Household.objects.filter(grid=demo, residents__isnull=False).distinct().count()
    assert households >= 3
    log_in(a4)
    a4.goto(reverse("points:statement", args=[demo.pk]))
    expect(a4.locator("[data-test=statement]")).to_have_count(households)
    first = a4.locator("[data-test=statement]").first
    expect(first.locator("h2")).to_contain_text("积分对账单")
    expect(first.locator("th").first).to_have_text("成员")
    # Each half page holds its household whole: nothing runs past the box.
    overflowing = a4.evaluate(
        """() => [...document.querySelectorAll('.half')]
            .filter(h => h.scrollHeight > h.clientHeight + 1).map(h => h.id)"""
    )
    assert overflowing == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert pdf_pages(a4, "statement", tmp_path) == math.ceil(households / 2)
    shot_a4(a4, "statement")


def test_worker_prints_the_visit_sheet_and_records_the_round_on_the_phone(
    demo: Any, a4: Any, playwright_browser: Any, server: str, tmp_path: Path
) -> None:
    from residents.models import Visit

    log_in(a4)
    a4.goto(reverse("points:visit_sheet", args=[demo.pk]))
    rows = a4.locator("[data-test=due-household]")
    count = rows.count()
    assert count >= 2, "the demo has households due in 第一网格"
    expect(a4.locator("h1")).to_contain_text("走访登记表")
    expect(rows.first.locator("svg")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert pdf_pages(a4, "visit-sheet", tmp_path) >= 1
    shot_a4(a4, "visit-sheet")

    # Back from the round: tick two households on the phone, one with a note, and send.
    phone = new_context(playwright_browser, server)
    page = phone.new_page()
    try:
        log_in(page)
        page.goto(reverse("points:visit_round", args=[demo.pk]))
        expect(page.locator("h1")).to_have_text("记录走访登记表")
        items = page.locator("[data-test=round-household]")
        expect(items).to_have_count(count)
        items.nth(0).locator("input[type=checkbox]").check()
        items.nth(0).locator("textarea").fill("老人身体好，需要代购药品")
        items.nth(1).locator("input[type=checkbox]").check()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the round form is {width}px wide"
        page.screenshot(path=str(SHOTS / "paper-visit-round.png"), full_page=True)
        before = Visit.objects.count()
        page.locator("button[type=submit].wide").click()
        expect(page.locator(".messages")).to_contain_text("已记录 2 次走访")
        assert Visit.objects.count() == before + 2
        assert Visit.objects.filter(notes="老人身体好，需要代购药品").count() == 1
        expect(page.locator("[data-test=round-household]")).to_have_count(count - 2)
        page.screenshot(path=str(SHOTS / "paper-visit-round-done.png"), full_page=True)
    finally:
        phone.close()
