"""The public figures page /public/<code>/ (issue 12): opt-in, no login, nothing personal."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.test import Client

from grids.models import Community
from reports.public import community_figures
from residents.models import Household, Resident
from tests.reports.conftest import bj, d

EVERY_NAME_AND_PHONE = "every resident's name and phone"


def personal_strings() -> list[str]:
    """What must never be on the page: every resident's name, phone and ID number, and every
    household's address."""
    out: list[str] = []
    for name, phone, id_number in Resident.objects.values_list("name", "phone", "id_number"):
        out += [s for s in (name, phone, id_number) if s]
    out += [h.address for h in Household.objects.all() if h.address]
    return out


@pytest.mark.django_db
def test_a_community_that_has_not_opted_in_has_no_public_page(world: SimpleNamespace) -> None:
    assert Client().get("/public/xzz/").status_code == 404
    assert Client().get("/public/nosuch/").status_code == 404


@pytest.mark.django_db
def test_the_public_page_shows_the_quarter_s_figures_without_login(q4: SimpleNamespace) -> None:
    Community.objects.filter(pk=q4.community1.pk).update(public_page=True)
    with time_machine.travel(bj(12, 20), tick=False):
        r = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/public/xzz/")
    assert r.status_code == 200
    html = r.content.decode()
    # Q4 of community1 (tests/reports/conftest.py): 8 received, 6 resolved, 4 on time;
    # 5 rated, 2 satisfied → 40%.
    assert "<dd>8</dd>" in html and "<dd>6</dd>" in html and "<dd>4</dd>" in html
    assert "40%" in html
    assert "新庄赵村" in html and "沙北街道" in html
    assert f"/notice/2026Q4/{q4.grid1.pk}/" in html
    assert "本季度" in html  # Chinese first
    for text in personal_strings():
        assert text not in html, text
    # Another community's name is not on it either.
    assert "外村" not in html


@pytest.mark.django_db
def test_the_public_figures_are_the_reports_api_s(q4: SimpleNamespace, client_for: Any) -> None:
    mine = community_figures(community=q4.community1, starts_on=d(10, 1), ends_on=d(12, 31))
    report = client_for(q4.admin1).get(
        "/api/v1/reports/needs/", {"period": "2026Q4", "level": "community"}
    )
    row = next(r for r in report.json()["rows"] if r["id"] == q4.community1.pk)
    for key in ("received", "resolved", "resolved_on_time", "rated", "satisfied"):
        assert getattr(mine, key) == row[key]
    assert mine.satisfaction_rate == row["satisfaction_rate"]


@pytest.mark.django_db
def test_the_demo_s_public_page_names_no_resident() -> None:
    from tests.demo_snapshot import seed_demo

    seed_demo()  # built once per test process, copied in after that
    r = Client().get("/public/xzz/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "新庄赵村" in html
    strings = personal_strings()
    assert len(strings) > 100  # the demo has residents to leak
    for text in strings:
        assert text not in html, text
    assert Client().get("/public/taishan/").status_code == 404
