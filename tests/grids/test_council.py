"""The monthly council (议事会), end to end and step by step: planned on the 10th, the agenda
fixed from the needs flagged by the 7th, the minutes of the five steps, decisions linked to
needs and projects, next month's evaluation of the past items (scored, struck off or carried
over with a reason), held, and printed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from grids import services, tasks
from grids.models import AgendaEvaluation, AgendaItem, Council, Project
from residents.models import Need, NeedEvent
from tests.api_helpers import client
from tests.grids.council_helpers import MINUTES, at, flagged_need

JAN, FEB, MAR = dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)
API = "/api/v1/"


def council_url(council_id: int, action: str = "") -> str:
    return f"{API}councils/{council_id}/" + (f"{action}/" if action else "")


@pytest.fixture
def road(world):
    return Project.objects.create(
        community=world.community1, name="村内道路硬化", owner="樊良", budget=350000
    )


def held_council(world, month: dt.date, *, user=None) -> Council:
    """A council of community 1 taken through every step, with nothing on its agenda from
    needs (items are added by the test)."""
    user = user or world.committee1
    council = services.plan_council(community=world.community1, month=month, user=user)
    with at(council.agenda_cutoff):
        services.fix_agenda(council=council, user=user)
    services.record_minutes(council=council, user=user, **MINUTES)
    with at(council.held_on):
        return services.hold_council(council=council, user=user)


# ---------------------------------------------------------------------------- the whole cycle


def test_a_council_cycle_end_to_end(world, road):
    committee = client(world.committee1)
    # --- January: planned on the 10th, the agenda cut-off on the 7th
    with at(dt.date(2027, 1, 2)):
        r = committee.post(f"{API}councils/", {"community": world.community1.id, "month": JAN})
    assert r.status_code == 201, r.content
    jan = r.json()
    assert (jan["held_on"], jan["agenda_cutoff"], jan["status"]) == (
        "2027-01-10",
        "2027-01-07",
        "planned",
    )
    lamp = flagged_need(world.grid1, "路灯不亮", dt.date(2027, 1, 3))
    railing = flagged_need(
        world.grid2, "坑塘护栏破损", dt.date(2027, 1, 7), assigned_worker=world.worker2
    )
    late = flagged_need(world.grid1, "垃圾清运不及时", dt.date(2027, 1, 8))
    flagged_need(world.grid1, "不上会的需求", dt.date(2027, 1, 3), for_council=False)
    flagged_need(world.grid3, "别的社区的需求", dt.date(2027, 1, 3))

    # --- the agenda is fixed after the cut-off, from the needs flagged by then
    with at(dt.date(2027, 1, 8)):
        r = committee.post(council_url(jan["id"], "fix-agenda"))
    assert r.status_code == 200, r.content
    assert r.json()["added"] == 2
    items = r.json()["council"]["items"]
    assert [(i["need"], i["responsible"]) for i in items] == [
        (lamp.id, world.worker1.id),  # the grid's worker answers for it
        (railing.id, world.worker2.id),  # the worker it was assigned to
    ]
    assert r.json()["council"]["status"] == "agenda_fixed"
    events = NeedEvent.objects.filter(kind=NeedEvent.Kind.COUNCIL)
    assert sorted(events.values_list("need_id", flat=True)) == sorted([lamp.id, railing.id])
    assert events.first().data["council"] == jan["id"]

    # --- decisions, one item added by hand for a project
    lamp_item, railing_item = items
    r = committee.patch(f"{API}agenda-items/{lamp_item['id']}/", {"decision": "电工三日内更换灯泡"})
    assert r.status_code == 200, r.content
    r = committee.post(
        council_url(jan["id"], "agenda-items"),
        {"project": road.id, "decision": "申报一事一议项目", "responsible": world.worker1.id},
    )
    assert r.status_code == 201, r.content
    road_item = r.json()
    assert (road_item["title"], road_item["project_name"]) == ("村内道路硬化", "村内道路硬化")

    # --- the minutes of the five steps and the attendance; held on the 10th
    r = committee.patch(council_url(jan["id"]), MINUTES)
    assert r.status_code == 200, r.content
    assert r.json()["attendee_count"] == 3  # counted from the names
    with at(dt.date(2027, 1, 10)):
        r = committee.post(council_url(jan["id"], "hold"))
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "held"
    r = committee.patch(council_url(jan["id"]), {"policy_talk": "改写"})
    assert r.status_code == 400

    # --- February: the need flagged after January's cut-off is on this agenda
    with at(dt.date(2027, 2, 1)):
        r = committee.post(f"{API}councils/", {"community": world.community1.id, "month": FEB})
    feb = r.json()
    with at(dt.date(2027, 2, 8)):
        r = committee.post(council_url(feb["id"], "fix-agenda"))
    assert [i["need"] for i in r.json()["council"]["items"]] == [late.id]
    r = committee.get(council_url(feb["id"], "pending-evaluation"))
    assert [i["id"] for i in r.json()["results"]] == [
        lamp_item["id"],
        railing_item["id"],
        road_item["id"],
    ]
    committee.patch(council_url(feb["id"]), MINUTES)
    with at(dt.date(2027, 2, 10)):
        r = committee.post(council_url(feb["id"], "hold"))
    assert r.status_code == 400
    assert len(r.json()["items"]) == 3  # the past items not evaluated yet

    # --- the evaluation: struck off (销号), or carried over (挂账) with a reason
    r = committee.post(
        council_url(feb["id"], "evaluate"),
        {
            "evaluations": [
                {"item": lamp_item["id"], "score": 5, "struck_off": True},
                {"item": railing_item["id"], "score": 3, "struck_off": False,
                 "reason": "雨季路基未干，延至下月"},
                {"item": road_item["id"], "score": 4, "struck_off": True},
            ]
        },
        format="json",
    )  # fmt: skip
    assert r.status_code == 200, r.content
    assert [(e["item"], e["score"], e["struck_off"]) for e in r.json()["evaluations"]] == [
        (lamp_item["id"], 5, True),
        (railing_item["id"], 3, False),
        (road_item["id"], 4, True),
    ]
    outcomes = dict(AgendaItem.objects.values_list("id", "outcome"))
    assert outcomes[lamp_item["id"]] == "struck_off"
    assert outcomes[railing_item["id"]] == "carried"
    with at(dt.date(2027, 2, 10)):
        r = committee.post(council_url(feb["id"], "hold"))
    assert r.status_code == 200, r.content

    # --- March: the carried item, and February's own, come up again
    march = services.plan_council(community=world.community1, month=MAR, user=world.committee1)
    pending = services.selectors.items_to_evaluate(council=march)
    assert {i.title for i in pending} == {"坑塘护栏破损", "垃圾清运不及时"}

    # --- the printed minutes show it all
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(world.committee1)
    html = page.get(f"/councils/{feb['id']}/minutes/").content.decode()
    for text in [
        "Policy talk",
        "Affairs and finances disclosed",
        "Needs raised",
        "Solutions discussed",
        "Past items evaluated",
        "宣讲秸秆禁烧政策",
        "赵建军 网格员",
        "垃圾清运不及时",
        "路灯不亮",
        "Struck off",
        "Carried over",
        "雨季路基未干，延至下月",
    ]:
        assert text in html, text
    jan_html = page.get(f"/councils/{jan['id']}/minutes/").content.decode()
    assert "电工三日内更换灯泡" in jan_html and "村内道路硬化" in jan_html


# ---------------------------------------------------------------------------- planning


def test_planning_a_month_twice_returns_the_same_council(world):
    first = services.plan_council(community=world.community1, month=JAN, user=world.committee1)
    again = services.plan_council(
        community=world.community1, month=dt.date(2027, 1, 20), user=world.admin1
    )
    assert again.pk == first.pk
    assert Council.objects.count() == 1


def test_a_council_on_another_day_gets_its_cutoff_no_later_than_the_meeting(world):
    council = services.plan_council(
        community=world.community1, month=JAN, held_on=dt.date(2027, 1, 5)
    )
    assert (council.held_on, council.agenda_cutoff) == (dt.date(2027, 1, 5), dt.date(2027, 1, 5))


def test_a_meeting_day_outside_the_month_is_refused(world):
    with pytest.raises(ValidationError) as error:
        services.plan_council(community=world.community1, month=JAN, held_on=dt.date(2027, 2, 3))
    assert "held_on" in error.value.message_dict


def test_a_committee_of_another_community_cannot_plan_its_council(world):
    with pytest.raises(PermissionDenied):
        services.plan_council(community=world.community1, month=JAN, user=world.committee3)


def test_the_monthly_beat_plans_next_months_council_for_every_community_once(world):
    services.plan_council(community=world.community1, month=FEB, held_on=dt.date(2027, 2, 12))
    with at(dt.date(2027, 1, 1)):
        assert tasks.plan_next_month_councils() == 2
        assert tasks.plan_next_month_councils() == 0
    days = dict(Council.objects.values_list("community_id", "held_on"))
    assert days == {
        world.community1.id: dt.date(2027, 2, 12),  # kept as planned by hand
        world.community2.id: dt.date(2027, 2, 10),
        world.community3.id: dt.date(2027, 2, 10),
    }


# ---------------------------------------------------------------------------- the agenda


def test_the_agenda_cannot_be_fixed_before_the_cutoff(world):
    council = services.plan_council(community=world.community1, month=JAN)
    with at(dt.date(2027, 1, 6)):
        r = client(world.committee1).post(council_url(council.pk, "fix-agenda"))
    assert r.status_code == 400
    assert "2027-01-07" in r.json()["agenda_cutoff"][0]
    council.refresh_from_db()
    assert council.status == "planned"


def test_fixing_the_agenda_again_adds_nothing(world):
    flagged_need(world.grid1, "路灯不亮", dt.date(2027, 1, 3))
    council = services.plan_council(community=world.community1, month=JAN)
    with at(dt.date(2027, 1, 7)):
        assert services.fix_agenda(council=council, user=world.committee1) == 1
        assert services.fix_agenda(council=council, user=world.committee1) == 0
    assert council.items.count() == 1
    assert NeedEvent.objects.filter(kind="council").count() == 1


def test_one_council_that_cannot_be_fixed_does_not_hold_back_the_others(world, monkeypatch):
    flagged_need(world.grid3, "楼道堆物", dt.date(2027, 1, 3))
    first = services.plan_council(community=world.community1, month=JAN)
    second = services.plan_council(community=world.community2, month=JAN)
    real = services.fix_agenda

    def broken_for_the_first(*, council, user=None):
        if council.pk == first.pk:
            raise RuntimeError("boom")
        return real(council=council, user=user)

    monkeypatch.setattr(services, "fix_agenda", broken_for_the_first)
    with at(dt.date(2027, 1, 8)):
        assert services.fix_due_agendas() == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("planned", "agenda_fixed")


def test_the_daily_beat_fixes_only_agendas_whose_cutoff_is_over(world):
    flagged_need(world.grid1, "路灯不亮", dt.date(2027, 1, 3))
    jan = services.plan_council(community=world.community1, month=JAN)
    feb = services.plan_council(community=world.community1, month=FEB)
    with at(dt.date(2027, 1, 8)):
        assert tasks.fix_due_agendas() == 1
    jan.refresh_from_db(), feb.refresh_from_db()
    assert (jan.status, feb.status) == ("agenda_fixed", "planned")


def test_settled_needs_and_needs_already_discussed_stay_off_the_agenda(world):
    flagged_need(world.grid1, "已关闭", dt.date(2027, 1, 3), status=Need.Status.CLOSED)
    flagged_need(
        world.grid1,
        "不予受理",
        dt.date(2027, 1, 3),
        status=Need.Status.REJECTED,
        rejection_reason="不属于村务",
    )
    discussed = flagged_need(world.grid1, "上月已议", dt.date(2026, 12, 3))
    dec = services.plan_council(community=world.community1, month=dt.date(2026, 12, 1))
    with at(dt.date(2026, 12, 8)):
        services.fix_agenda(council=dec)
    jan = services.plan_council(community=world.community1, month=JAN)
    with at(dt.date(2027, 1, 8)):
        assert services.fix_agenda(council=jan) == 0
    assert list(dec.items.values_list("need_id", flat=True)) == [discussed.id]


def test_an_item_may_not_link_a_need_of_another_community(world):
    council = services.plan_council(community=world.community1, month=JAN)
    elsewhere = flagged_need(world.grid3, "别的社区", dt.date(2027, 1, 3))
    r = client(world.committee1).post(
        council_url(council.pk, "agenda-items"), {"title": "x", "need": elsewhere.id}
    )
    assert r.status_code == 400
    assert "need" in r.json()


def test_the_same_need_goes_on_an_agenda_once(world):
    council = services.plan_council(community=world.community1, month=JAN)
    need = flagged_need(world.grid1, "路灯不亮", dt.date(2027, 1, 3))
    services.add_agenda_item(council=council, user=world.committee1, need=need)
    r = client(world.committee1).post(council_url(council.pk, "agenda-items"), {"need": need.id})
    assert r.status_code == 400
    assert "need" in r.json()


def test_items_cannot_be_added_changed_or_removed_once_the_council_is_held(world):
    jan = held_council(world, JAN)
    item = AgendaItem.objects.create(council=jan, title="会后补记")
    committee = client(world.committee1)
    r = committee.post(
        council_url(jan.pk, "agenda-items"), {"title": "新事项"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert r.status_code == 400
    assert "planned, agenda fixed" in r.json()["status"][0]
    assert committee.patch(f"{API}agenda-items/{item.pk}/", {"decision": "x"}).status_code == 400
    assert committee.delete(f"{API}agenda-items/{item.pk}/").status_code == 400
    assert AgendaItem.objects.filter(pk=item.pk).exists()


def test_an_item_is_removed_while_the_council_is_not_held(world):
    council = services.plan_council(community=world.community1, month=JAN)
    item = services.add_agenda_item(council=council, user=world.committee1, title="误加")
    assert client(world.committee1).delete(f"{API}agenda-items/{item.pk}/").status_code == 204
    assert not AgendaItem.objects.filter(pk=item.pk).exists()


# ---------------------------------------------------------------------------- evaluation, hold


@pytest.fixture
def january_item(world):
    jan = services.plan_council(community=world.community1, month=JAN, user=world.committee1)
    item = services.add_agenda_item(council=jan, user=world.committee1, title="村道泥泞")
    with at(jan.agenda_cutoff):
        services.fix_agenda(council=jan)
    services.record_minutes(council=jan, user=world.committee1, **MINUTES)
    with at(jan.held_on):
        services.hold_council(council=jan, user=world.committee1)
    return item


@pytest.fixture
def february(world, january_item):
    feb = services.plan_council(community=world.community1, month=FEB, user=world.committee1)
    with at(feb.agenda_cutoff):
        services.fix_agenda(council=feb)
    services.record_minutes(council=feb, user=world.committee1, **MINUTES)
    return feb


def evaluate(world, council, **row):
    return client(world.committee1).post(
        council_url(council.pk, "evaluate"), {"evaluations": [row]}, format="json"
    )


def test_carrying_an_item_over_without_a_reason_is_refused(world, february, january_item):
    r = evaluate(world, february, item=january_item.pk, score=3, struck_off=False)
    assert r.status_code == 400
    assert "reason" in r.json()["evaluations"]["0"]
    with pytest.raises(ValidationError):
        services.evaluate_items(
            council=february,
            user=world.committee1,
            evaluations=[{"item": january_item, "score": 3, "struck_off": False, "reason": " "}],
        )
    assert not AgendaEvaluation.objects.exists()


@pytest.mark.parametrize("score", [0, 6])
def test_a_score_outside_one_to_five_is_refused(world, february, january_item, score):
    r = evaluate(world, february, item=january_item.pk, score=score, struck_off=True)
    assert r.status_code == 400
    assert "score" in r.json()["evaluations"]["0"]
    with pytest.raises(ValidationError):
        services.evaluate_items(
            council=february,
            user=world.committee1,
            evaluations=[{"item": january_item, "score": score, "struck_off": True}],
        )


def test_only_past_items_of_the_community_can_be_evaluated(world, february):
    own = services.add_agenda_item(council=february, user=world.committee1, title="本月事项")
    r = evaluate(world, february, item=own.pk, score=4, struck_off=True)
    assert r.status_code == 400
    assert str(own.pk) in r.json()["evaluations"][0]


def test_evaluating_again_at_the_same_council_rescores_the_item(world, february, january_item):
    assert evaluate(world, february, item=january_item.pk, score=2, struck_off=False,
                    reason="未完成").status_code == 200  # fmt: skip
    assert evaluate(world, february, item=january_item.pk, score=5, struck_off=True).status_code
    evaluation = AgendaEvaluation.objects.get()
    assert (evaluation.score, evaluation.struck_off) == (5, True)
    january_item.refresh_from_db()
    assert january_item.outcome == "struck_off"


def test_holding_is_refused_while_a_past_item_is_not_evaluated(world, february, january_item):
    with at(february.held_on):
        r = client(world.committee1).post(council_url(february.pk, "hold"))
    assert r.status_code == 400
    assert str(january_item.pk) in r.json()["items"][0]
    february.refresh_from_db()
    assert february.status == "agenda_fixed"


@pytest.mark.parametrize("section", ["policy_talk", "past_items_evaluated", "attendees"])
def test_holding_is_refused_while_a_section_or_the_attendance_is_empty(
    world, february, january_item, section
):
    services.evaluate_items(
        council=february,
        user=world.committee1,
        evaluations=[{"item": january_item, "score": 5, "struck_off": True}],
    )
    services.record_minutes(council=february, user=world.committee1, **{section: ""})
    with at(february.held_on):
        r = client(world.committee1).post(council_url(february.pk, "hold"))
    assert r.status_code == 400
    assert list(r.json()) == [section]


def test_holding_before_the_meeting_day_or_the_agenda_is_refused(world):
    council = services.plan_council(community=world.community1, month=JAN)
    services.record_minutes(council=council, user=world.committee1, **MINUTES)
    with at(dt.date(2027, 1, 10)):
        r = client(world.committee1).post(council_url(council.pk, "hold"))
    assert r.status_code == 400 and "status" in r.json()  # the agenda is not fixed
    with at(dt.date(2027, 1, 8)):
        services.fix_agenda(council=council)
        r = client(world.committee1).post(council_url(council.pk, "hold"))
    assert r.status_code == 400 and "held_on" in r.json()


def test_a_retried_action_with_the_same_key_is_replayed(world, february, january_item):
    committee = client(world.committee1)
    body = {"evaluations": [{"item": january_item.pk, "score": 4, "struck_off": True}]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "eval-1"}
    first = committee.post(council_url(february.pk, "evaluate"), body, format="json", **headers)
    second = committee.post(council_url(february.pk, "evaluate"), body, format="json", **headers)
    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert AgendaEvaluation.objects.count() == 1
    with at(february.held_on):
        hold = [
            committee.post(council_url(february.pk, "hold"), HTTP_IDEMPOTENCY_KEY="hold-1")
            for _ in range(2)
        ]
    assert [r.status_code for r in hold] == [200, 200]
    assert hold[1].headers["Idempotent-Replayed"] == "true"


def test_a_retried_plan_with_the_same_key_creates_one_council(world):
    committee = client(world.committee1)
    body = {"community": world.community1.id, "month": "2027-01-01"}
    rs = [committee.post(f"{API}councils/", body, HTTP_IDEMPOTENCY_KEY="plan-1") for _ in range(2)]
    assert [r.status_code for r in rs] == [201, 201]
    assert rs[0].json()["id"] == rs[1].json()["id"]
    assert Council.objects.count() == 1


def test_a_planned_council_can_be_dropped_until_its_agenda_is_fixed(world):
    council = services.plan_council(community=world.community1, month=JAN)
    committee = client(world.committee1)
    with at(dt.date(2027, 1, 8)):
        services.fix_agenda(council=council)
    assert committee.delete(council_url(council.pk)).status_code == 400
    other = services.plan_council(community=world.community1, month=FEB)
    assert committee.delete(council_url(other.pk)).status_code == 204
