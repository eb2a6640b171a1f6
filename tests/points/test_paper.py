"""The paper path (issue 14): the monthly points statement, the visit sheet and the round
recorded in one pass (points/paper.py).

Personas from tests/conftest.py: worker1 works grid 1 (community 1), worker2 grid 2 of the
same community, committee1 sits in community 1, admin1 runs street 1, admin2 street 2.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from points import pages
from points.models import Account, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from residents.models import Visit
from residents.services import visits as visit_services
from tests import factories as f

BEIJING = ZoneInfo("Asia/Shanghai")


def client_for(user: Any | None, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(getattr(user, "user", user))
    return client


@pytest.fixture
def rules(world: Any) -> dict[str, Rule]:
    def rule(code: str, name: str, category: str, points: int, **kw: Any) -> Rule:
        return Rule.objects.create(
            community=world.community1, code=code, name=name, category=category, points=points,
            **kw,
        )  # fmt: skip

    return {
        "clean": rule("clean", "清扫责任区", "reward", 1),
        "idea": rule("idea", "建议被采纳", "reward", 10, up_to=True),
        "rules": rule("rules", "违反村规民约", "deduction", 5),
    }


def award(world: Any, rule: Rule, resident: Any, points: int | None = None, **kw: Any) -> Any:
    worker = world.worker1 if resident.household.grid_id == world.grid1.pk else world.worker2
    claim = claims_services.submit_claim(
        user=worker.user, resident=resident, rule=rule, points=points, **kw
    )
    return claims_services.approve_claim(claim=claim, approver=world.committee1)


def statement_url(world: Any, month: str = "") -> str:
    url = reverse("points:statement", args=[world.grid1.pk])
    return f"{url}?month={month}" if month else url


# ---------------------------------------------------------------------------- the statement


def test_statement_shows_members_balances_the_months_entries_in_words_and_the_card(world, rules):
    spouse = f.ResidentFactory(household=world.household1, name="王秀兰")
    with time_machine.travel(dt.datetime(2026, 10, 20, 10, tzinfo=BEIJING), tick=False):
        award(world, rules["idea"], world.resident1, points=6)  # October: before the month
    with time_machine.travel(dt.datetime(2026, 11, 3, 10, tzinfo=BEIJING), tick=False):
        award(world, rules["clean"], world.resident1, note="扫门前")
        award(world, rules["idea"], spouse, points=7)
    with time_machine.travel(dt.datetime(2026, 11, 30, 23, 30, tzinfo=BEIJING), tick=False):
        award(world, rules["rules"], world.resident1)
    with time_machine.travel(dt.datetime(2026, 12, 1, 0, 30, tzinfo=BEIJING), tick=False):
        award(world, rules["clean"], world.resident1)  # December: after the month

    with time_machine.travel(dt.datetime(2026, 12, 7, 9, tzinfo=BEIJING), tick=False):
        response = client_for(world.worker1).get(statement_url(world, "2026-11"))
    assert response.status_code == 200
    [[household]] = response.context["sheets"]
    assert household.household == world.household1
    members = {m.resident.name: m for m in household.members}
    assert set(members) == {"赵爱国", "王秀兰"}
    assert (members["赵爱国"].opening, members["赵爱国"].closing) == (6, 2)  # 6 + 1 − 5
    assert (members["王秀兰"].opening, members["王秀兰"].closing) == (0, 7)
    assert [(e.member, e.what, e.amount, e.balance_after) for e in household.entries] == [
        ("赵爱国", "清扫责任区", 1, 7),
        ("王秀兰", "建议被采纳", 7, 7),
        ("赵爱国", "违反村规民约", -5, 2),
    ]
    # The day the points moved, Beijing time (23:30 on the 30th is still November).
    assert [e.day.isoformat() for e in household.entries] == [
        "2026-11-03", "2026-11-03", "2026-11-30",
    ]  # fmt: skip
    page = response.content.decode()
    for resident in (world.resident1, spouse):
        assert Account.objects.get(resident=resident).card_number in page
    assert page.count("<svg") == 2  # one QR code per member's card
    assert "赵秀英" not in page  # grid 2's resident
    assert "@page { size: A4" in page


def test_statement_qr_codes_encode_the_card_pages(world, rules, monkeypatch):
    award(world, rules["clean"], world.resident1)
    encoded: list[str] = []
    make = pages.segno.make

    def spy(data: str, **kwargs: Any) -> Any:
        encoded.append(data)
        return make(data, **kwargs)

    monkeypatch.setattr(pages.segno, "make", spy)
    assert client_for(world.worker1).get(statement_url(world)).status_code == 200
    number = Account.objects.get(resident=world.resident1).card_number
    assert encoded == [f"http://testserver/cards/{number}/"]


def test_statement_puts_two_households_on_each_a4_sheet(world, rules):
    for i in range(4):
        household = f.HouseholdFactory(grid=world.grid1, village=True, house_number=str(20 + i))
        f.ResidentFactory(household=household)
    f.HouseholdFactory(grid=world.grid1, village=True, house_number="99")  # nobody lives there
    response = client_for(world.worker1).get(statement_url(world))
    assert [len(sheet) for sheet in response.context["sheets"]] == [2, 2, 1]
    page = response.content.decode()
    assert page.count('<section class="sheet">') == 3
    assert page.count('data-test="statement"') == 5
    assert "break-after: page" in page and "break-inside: avoid" in page


def test_a_busy_month_shows_its_latest_entries_and_sums_up_the_rest(world, rules):
    for _ in range(20):
        award(world, rules["clean"], world.resident1)
    response = client_for(world.worker1).get(statement_url(world))
    [[household]] = response.context["sheets"]
    assert len(household.entries) == 13  # 15 rows a half page: a member, a sum, 13 lines
    assert household.earlier == 7 and household.earlier_points == 7
    assert [e.balance_after for e in household.entries] == list(range(8, 21))


def test_a_month_without_entries_shows_the_balance_carried_over(world, rules):
    with time_machine.travel(dt.datetime(2026, 9, 5, 10, tzinfo=BEIJING), tick=False):
        award(world, rules["idea"], world.resident1, points=9)
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, tzinfo=BEIJING), tick=False):
        response = client_for(world.worker1).get(statement_url(world, "2026-11"))
    [[household]] = response.context["sheets"]
    [member] = household.members
    assert (member.opening, member.closing, household.entries) == (9, 9, [])
    assert "No points moved this month." in response.content.decode()


@pytest.mark.parametrize("month", ["junk", "2026-13", "1999-01", "2099-01", ""])
def test_a_bad_or_future_month_shows_this_month(world, month):
    response = client_for(world.worker1).get(statement_url(world, month))
    assert response.status_code == 200
    assert response.context["month"] == timezone.localdate().replace(day=1)


@pytest.mark.parametrize("who", ["worker1", "committee1", "admin1", "superuser"])
def test_statement_is_for_the_grids_worker_committee_and_street(world, who):
    assert client_for(getattr(world, who)).get(statement_url(world)).status_code == 200


@pytest.mark.parametrize("who", ["worker2", "committee3", "admin2", "resident_user", "stranger"])
def test_statement_of_a_grid_outside_the_scope_is_not_found(world, who):
    response = client_for(getattr(world, who)).get(statement_url(world))
    assert response.status_code == 404
    assert not Account.objects.exists()  # and opened no account on the way


def test_statement_asks_an_anonymous_visitor_to_log_in(world):
    response = Client().get(statement_url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm the session and the translations
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["points:statement", "points:visit_sheet", "points:visit_round"])
def test_the_paper_pages_read_in_as_many_queries_for_30_households_as_for_3(world, rules, name):
    tag = f.TagFactory(name="独居老人", visit_every_days=7)
    client = client_for(world.worker1)
    url = reverse(name, args=[world.grid1.pk])

    def add(households: int) -> None:
        for _ in range(households):
            household = f.HouseholdFactory(grid=world.grid1, village=True)
            for _ in range(2):
                resident = f.ResidentFactory(household=household)
                resident.tags.add(tag)
                award(world, rules["clean"], resident)

    add(3)
    few = _queries(client, url)
    add(27)
    many = _queries(client, url)
    assert len(client.get(url).context["rows" if "visit" in name else "sheets"]) >= 15
    assert many == few


# ---------------------------------------------------------------------------- the visit sheet


@pytest.fixture
def due(world: Any) -> dict[str, Any]:
    """Grid 1: three households with a lone elder (weekly visits): one never visited, one
    visited ten days ago (overdue), one visited yesterday (not due); grid 2: one due."""
    tag = f.TagFactory(name="独居老人", visit_every_days=7)
    never = world.household1
    world.resident1.tags.add(tag)
    overdue = f.HouseholdFactory(grid=world.grid1, village=True, house_number="21")
    recent = f.HouseholdFactory(grid=world.grid1, village=True, house_number="22")
    for household, name in ((overdue, "赵银名"), (recent, "赵秀兰")):
        f.ResidentFactory(household=household, name=name).tags.add(tag)
    world.resident2.tags.add(tag)
    now = timezone.now()
    for household, days in ((overdue, 10), (recent, 1)):
        visit_services.record_visit(
            user=world.worker1.user, household=household, visited_at=now - dt.timedelta(days=days)
        )
    return {"never": never, "overdue": overdue, "recent": recent, "tag": tag}


def test_visit_sheet_lists_the_households_due_with_a_tick_box_notes_and_a_field_app_qr(
    world, due, monkeypatch
):
    encoded: list[str] = []
    make = pages.segno.make

    def spy(data: str, **kwargs: Any) -> Any:
        encoded.append(data)
        return make(data, **kwargs)

    monkeypatch.setattr(pages.segno, "make", spy)
    response = client_for(world.worker1).get(reverse("points:visit_sheet", args=[world.grid1.pk]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.household for r in rows] == [due["never"], due["overdue"]]
    assert [r.residents[0].status for r in rows] == ["never_visited", "overdue"]
    assert rows[1].residents[0].days_overdue == 3
    assert rows[1].residents[0].tags == "独居老人"
    assert encoded == [
        f"http://testserver/m/#/h/{due['never'].pk}",
        f"http://testserver/m/#/h/{due['overdue'].pk}",
    ]
    page = response.content.decode()
    assert page.count('data-test="due-household"') == 2
    assert page.count('class="box"') == 2
    assert "赵秀兰" not in page and "赵秀英" not in page  # not due; another grid
    assert reverse("points:visit_round", args=[world.grid1.pk]) in page
    assert "@page { size: A4" in page


@pytest.mark.parametrize("who", ["worker2", "committee3", "admin2", "resident_user", "stranger"])
def test_visit_sheet_of_a_grid_outside_the_scope_is_not_found(world, due, who):
    url = reverse("points:visit_sheet", args=[world.grid1.pk])
    assert client_for(getattr(world, who)).get(url).status_code == 404


@pytest.mark.parametrize("who", ["committee1", "admin1"])
def test_committee_and_street_print_the_visit_sheet_too(world, due, who):
    url = reverse("points:visit_sheet", args=[world.grid1.pk])
    response = client_for(getattr(world, who)).get(url)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 2


# ---------------------------------------------------------------------------- the round recorded


def round_url(world: Any) -> str:
    return reverse("points:visit_round", args=[world.grid1.pk])


def form_of(response: Any) -> dict[str, str]:
    page = response.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page)
    worker = re.search(r'name="worker" value="(\d+)"', page)
    assert token and worker
    return {
        "token": token.group(1),
        "worker": worker.group(1),
        "method": "in_person",
        "date": timezone.localdate().isoformat(),
    }


def test_worker_records_the_ticked_households_of_the_sheet_in_one_pass(world, due):
    client = client_for(world.worker1)
    form = form_of(client.get(round_url(world)))
    before = Visit.objects.count()
    response = client.post(
        round_url(world),
        {
            **form,
            f"visited-{due['never'].pk}": "1",
            f"notes-{due['never'].pk}": "身体好，缺米",
            f"visited-{due['overdue'].pk}": "1",
        },
    )
    assert response.status_code == 302
    visits = list(Visit.objects.order_by("id")[before:])
    assert [(v.household, v.worker, v.notes) for v in visits] == [
        (due["never"], world.worker1, "身体好，缺米"),
        (due["overdue"], world.worker1, ""),
    ]
    # Recorded: nobody of the sheet is due any more.
    assert client.get(round_url(world)).context["rows"] == []


def test_a_double_submit_of_the_round_records_the_visits_once(world, due):
    client = client_for(world.worker1)
    form = form_of(client.get(round_url(world)))
    data = {**form, f"visited-{due['never'].pk}": "1"}
    before = Visit.objects.count()
    first = client.post(round_url(world), data)
    second = client.post(round_url(world), data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert Visit.objects.count() == before + 1
    assert "already recorded" in str(list(second.wsgi_request._messages))


def test_a_refused_round_records_nothing_and_keeps_what_was_typed(world, due):
    client = client_for(world.worker1)
    form = form_of(client.get(round_url(world)))
    before = Visit.objects.count()
    response = client.post(
        round_url(world),
        {
            **form,
            f"visited-{due['never'].pk}": "1",
            f"notes-{due['overdue'].pk}": "没在家",  # noted but not ticked
        },
    )
    assert response.status_code == 400
    assert Visit.objects.count() == before
    page = response.content.decode()
    assert "not ticked as visited" in page
    assert "没在家" in page and "checked" in page
    # The same token still works once the form is right.
    data = {**form, f"visited-{due['never'].pk}": "1", f"visited-{due['overdue'].pk}": "1"}
    assert client.post(round_url(world), data).status_code == 302
    assert Visit.objects.count() == before + 2


def test_a_round_with_nothing_ticked_is_refused(world, due):
    client = client_for(world.worker1)
    form = form_of(client.get(round_url(world)))
    response = client.post(round_url(world), form)
    assert response.status_code == 400
    assert "Tick at least one household" in response.content.decode()


def test_a_round_cannot_tick_a_household_of_another_grid(world, due):
    client = client_for(world.worker1)
    form = form_of(client.get(round_url(world)))
    before = Visit.objects.count()
    response = client.post(round_url(world), {**form, f"visited-{world.household2.pk}": "1"})
    assert response.status_code == 400  # only the sheet's households count: nothing ticked
    assert Visit.objects.count() == before


@pytest.mark.parametrize("who", ["worker2", "committee3", "admin2", "resident_user", "stranger"])
def test_round_of_a_grid_outside_the_scope_is_not_found(world, due, who):
    assert client_for(getattr(world, who)).get(round_url(world)).status_code == 404


def test_a_committee_member_without_the_visit_permission_may_not_record_the_round(world, due):
    assert client_for(world.committee1).get(round_url(world)).status_code == 403


def test_the_round_form_is_made_for_a_phone(world, due):
    page = client_for(world.worker1, "zh-hans").get(round_url(world)).content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "记录走访登记表" in page
    assert "<script" not in page


# ---------------------------------------------------------------------------- links


def test_the_card_sheet_links_to_the_statement_and_the_visit_sheet(world):
    page = (
        client_for(world.worker1)
        .get(reverse("points:card_sheet", args=[world.grid1.pk]))
        .content.decode()
    )
    assert reverse("points:statement", args=[world.grid1.pk]) in page
    assert reverse("points:visit_sheet", args=[world.grid1.pk]) in page


def test_the_quarter_admin_page_links_every_grid_to_its_statement_and_visit_sheet(
    world, staff_client
):
    period = ledger_services.current_period()
    client = staff_client(world.committee1, "view_period")
    page = client.get(reverse("admin:points_period_change", args=[period.pk])).content.decode()
    for grid in (world.grid1, world.grid2):
        assert reverse("points:statement", args=[grid.pk]) in page
        assert reverse("points:visit_sheet", args=[grid.pk]) in page
    assert reverse("points:statement", args=[world.grid3.pk]) not in page


def test_printing_the_statement_and_the_visit_sheet_is_noted_in_the_audit_log(world, due):
    from audit.models import AuditEvent

    client = client_for(world.worker1)
    client.get(statement_url(world))
    client.get(reverse("points:visit_sheet", args=[world.grid1.pk]))
    events = AuditEvent.objects.filter(
        action=AuditEvent.Action.EXPORT, object_id=str(world.grid1.pk)
    )
    assert events.count() == 2
    assert {e.user_id for e in events} == {world.worker1.user_id}
