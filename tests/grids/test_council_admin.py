"""The council, projects and resources in the admin, and the demo councils."""

from __future__ import annotations

import datetime as dt

from django.apps import apps

from demo.parts.councils import seed_lists_and_councils
from grids import services
from grids.models import AgendaEvaluation, AgendaItem, Council, Project, Resource
from tests.grids.council_helpers import MINUTES, at, flagged_need

JAN = dt.date(2027, 1, 1)


def test_the_council_admin_lists_only_the_committees_councils(world, staff_client):
    own = services.plan_council(community=world.community1, month=JAN)
    services.plan_council(community=world.community3, month=JAN)
    admin = staff_client(world.committee1)
    r = admin.get("/admin/grids/council/")
    assert r.status_code == 200
    assert list(r.context["cl"].queryset) == [own]
    assert f"/councils/{own.pk}/minutes/" in r.content.decode()
    assert admin.get(f"/admin/grids/council/{own.pk}/change/").status_code == 200


def test_the_fix_agenda_action_fixes_the_selected_councils(world, staff_client):
    need = flagged_need(world.grid1, "路灯不亮", dt.date(2027, 1, 3))
    council = services.plan_council(community=world.community1, month=JAN)
    with at(dt.date(2027, 1, 8)):  # log in then: a session from today would have expired
        admin = staff_client(world.committee1)
        r = admin.post(
            "/admin/grids/council/",
            {"action": "fix_agendas", "_selected_action": [council.pk]},
            follow=True,
        )
    assert r.status_code == 200
    assert "1 agenda fixed, 1 items added." in r.content.decode()
    assert list(council.items.values_list("need_id", flat=True)) == [need.pk]


def test_minutes_written_in_the_admin_go_through_the_service(world, staff_client):
    council = services.plan_council(community=world.community1, month=JAN)
    admin = staff_client(world.committee1)
    form = {
        **MINUTES,
        "attendee_count": "3",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-position": "1",
        "items-0-title": "村道泥泞",
        "items-0-decision": "申报一事一议",
        "evaluations-TOTAL_FORMS": "0",
        "evaluations-INITIAL_FORMS": "0",
        "evaluations-MIN_NUM_FORMS": "0",
        "evaluations-MAX_NUM_FORMS": "1000",
    }
    r = admin.post(f"/admin/grids/council/{council.pk}/change/", form)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    council.refresh_from_db()
    assert (council.policy_talk, council.recorded_by) == (MINUTES["policy_talk"], world.committee1)
    assert list(council.items.values_list("title", "decision")) == [("村道泥泞", "申报一事一议")]


def test_project_and_resource_admins_are_scoped(world, staff_client):
    mine = Project.objects.create(community=world.community1, name="村道", owner="村委会")
    Project.objects.create(community=world.community3, name="外村", owner="外村")
    Resource.objects.create(community=world.community3, name="农技", provider="农技站")
    admin = staff_client(world.committee1)
    r = admin.get("/admin/grids/project/")
    assert list(r.context["cl"].queryset) == [mine]
    r = admin.get("/admin/grids/resource/")
    assert r.status_code == 200 and list(r.context["cl"].queryset) == []


def counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def test_the_demo_holds_two_councils_and_plans_the_next_and_is_idempotent(world):
    today = dt.date(2027, 3, 15)
    with at(today):
        created = seed_lists_and_councils(today=today)
        before = counts()
        again = seed_lists_and_councils(today=today)
    assert counts() == before
    assert not any(again.values())
    assert created["grids.Council"] == 4  # two held, the next of each community
    village = Council.objects.filter(community=world.community1).order_by("held_on")
    assert [(c.held_on, c.status) for c in village] == [
        (dt.date(2027, 2, 10), "held"),
        (dt.date(2027, 3, 10), "held"),
        (dt.date(2027, 4, 10), "planned"),
    ]
    evaluations = AgendaEvaluation.objects.order_by("item__position")
    assert [(e.struck_off, bool(e.reason)) for e in evaluations] == [
        (False, True),
        (True, False),
        (True, False),
    ]
    assert AgendaItem.objects.get(title="三组、四组村道硬化").outcome == "carried"
    assert Project.objects.get(name="老旧小区路灯改造").budget == 86000
    assert Resource.objects.filter(partner_unit=world.partner).exists()
