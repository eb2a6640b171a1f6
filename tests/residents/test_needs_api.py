"""The needs API: needs/ with its steps (accept, assign, offer, claim, start, resolve, reject,
escalate, rate), events/ and photos/, a visit with its needs in one request, and
rectifications/ — for each persona: the grid's worker, a worker of another grid, the
committee, another community's committee, the street admin, the resident, a partner contact and
a stranger."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from points.models import Claim
from residents.models import Need, NeedPhoto, Visit
from residents.services import needs as needs_services
from residents.services import visits as visits_services
from tests import factories as f
from tests.api_helpers import client, ids, in_savepoint, points_rules, token_client, url
from tests.residents.needs_helpers import due, need_in, record

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
KEY = "HTTP_IDEMPOTENCY_KEY"


def step(need, name):
    return f"{url('needs', need.pk)}{name}/"


def post(user, path, body=None, **headers):
    return client(user).post(path, body or {}, format="json", **headers)


def png(size=(4, 4)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return SimpleUploadedFile("tree.png", buf.getvalue(), content_type="image/png")


# ---------------------------------------------------------------------------- scope


@pytest.fixture
def spread(world):
    """A need in grids 1, 2, 3 and 4; a micro-wish of community 2 offered to the partner."""
    n = {
        "grid1": record(world),
        "grid2": needs_services.record_need(
            user=world.worker2.user,
            title="垃圾",
            category="environment",
            source="patrol",
            grid=world.grid2,
        ),  # fmt: skip
        "grid3": needs_services.record_need(
            user=world.worker3.user,
            title="树倒了",
            category="safety",
            source="wechat",
            grid=world.grid3,
        ),  # fmt: skip
        "grid4": needs_services.record_need(
            user=world.worker4.user,
            title="纠纷",
            category="dispute",
            source="visit",
            grid=world.grid4,
        ),  # fmt: skip
    }
    wish = needs_services.record_need(
        user=world.worker3.user, title="助听器", category="micro_wish", source="visit",
        resident=world.resident3,
    )  # fmt: skip
    needs_services.accept_need(user=world.worker3.user, need=wish)
    needs_services.offer_need(
        user=world.admin1, need=wish, partner_units=[world.partner], due_on=due()
    )
    n["wish"] = wish
    return n


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("worker1", ["grid1"]),
        ("worker2", ["grid2"]),
        ("committee1", ["grid1", "grid2"]),
        ("committee3", ["grid4"]),
        ("admin1", ["grid1", "grid2", "grid3", "wish"]),
        ("admin2", ["grid4"]),
        ("resident_user", ["grid1"]),  # about resident 1
        ("partner_user", ["wish"]),
        ("stranger", []),
    ],
)
def test_each_role_lists_the_needs_of_its_scope(world, spread, persona, sees):
    user = getattr(world, persona)
    r = client(user).get(url("needs"))
    if persona == "stranger":
        assert r.status_code == 403  # no role, no view permission
        return
    assert ids(r) == sorted(spread[k].pk for k in sees)


def test_a_need_outside_the_scope_is_not_found(world, spread):
    for user, key, name in [
        (world.worker1, "grid2", "accept"),
        (world.committee1, "grid3", "accept"),
        (world.partner_user, "grid3", "claim"),
        (world.resident_user, "grid2", "rate"),
    ]:
        assert client(user).get(url("needs", spread[key].pk)).status_code == 404
        assert post(user, step(spread[key], name)).status_code == 404


def test_list_queries_do_not_grow_with_the_rows(world):
    c = token_client(world.committee1)

    def add(k):
        for _ in range(k):
            need = f.NeedFactory(
                grid=world.grid1, reported_by=world.worker1.user, household=world.household1
            )
            NeedPhoto.objects.create(need=need, image="needs/x.png", uploaded_by=world.worker1.user)
            need.offered_to.add(world.partner)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url("needs"), {"page_size": 100})
        assert r.status_code == 200
        return len(ctx.captured_queries), len(r.json()["results"])

    add(3)
    c.get(url("needs"))
    few = count()
    add(27)
    many = count()
    assert many[1] == few[1] + 27
    assert many[0] == few[0]


# ---------------------------------------------------------------------------- create


def test_a_worker_records_a_need_in_their_grid_and_not_in_another(world):
    body = {"grid": world.grid1.pk, "source": "patrol", "category": "safety", "title": "井盖缺失"}
    r = post(world.worker1, url("needs"), body)
    assert r.status_code == 201, r.content
    assert (r.json()["status"], r.json()["community"], r.json()["reported_by"]) == (
        "new",
        world.community1.pk,
        world.worker1.user.pk,
    )
    assert Need.objects.get(pk=r.json()["id"]).events.get().kind == "recorded"
    assert post(world.worker1, url("needs"), {**body, "grid": world.grid2.pk}).status_code == 403
    assert post(world.partner_user, url("needs"), body).status_code == 403
    assert post(world.stranger, url("needs"), body).status_code == 403


def test_a_resident_reports_a_need_for_themselves(world):
    r = post(world.resident_user, url("needs"), {"category": "environment", "title": "楼道堆物"})
    assert r.status_code == 201, r.content
    assert (r.json()["resident"], r.json()["grid"], r.json()["source"]) == (
        world.resident1.pk,
        world.grid1.pk,
        "resident",
    )


def test_a_create_with_the_same_idempotency_key_records_once(world):
    body = {"grid": world.grid1.pk, "source": "hotline", "category": "policy", "title": "低保咨询"}
    first = post(world.worker1, url("needs"), body, **{KEY: "need-1"})
    again = post(world.worker1, url("needs"), body, **{KEY: "need-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Need.objects.count() == 1


def test_a_visit_and_the_needs_heard_on_it_are_recorded_in_one_request(world):
    body = {
        "household": world.household1.pk,
        "method": "in_person",
        "notes": "独居老人，行动不便",
        "needs": [
            {"category": "elderly_care", "title": "需要助餐", "resident": world.resident1.pk},
            {"category": "infrastructure", "title": "门口路灯坏了", "priority": 3},
        ],
    }
    r = post(world.worker1, url("visits"), body, **{KEY: "visit-with-needs"})
    assert r.status_code == 201, r.content
    assert sorted(n["title"] for n in r.json()["needs"]) == ["门口路灯坏了", "需要助餐"]
    visit = Visit.objects.get(pk=r.json()["id"])
    assert set(visit.needs.values_list("source", "grid", "household")) == {
        ("visit", world.grid1.pk, world.household1.pk)
    }
    # A retry after a dropped connection records nothing twice.
    again = post(world.worker1, url("visits"), body, **{KEY: "visit-with-needs"})
    assert again.json()["id"] == visit.pk
    assert (Visit.objects.count(), Need.objects.count()) == (1, 2)
    # The list shows each visit's needs.
    listed = client(world.worker1).get(url("visits")).json()["results"]
    assert [len(v["needs"]) for v in listed] == [2]


def test_a_bad_need_on_a_visit_refuses_the_whole_visit(world):
    body = {
        "household": world.household1.pk,
        "needs": [{"category": "other", "title": "x", "resident": world.resident2.pk}],
    }
    r = post(world.worker1, url("visits"), body)
    assert r.status_code == 400
    assert "resident" in r.json()["needs"]["0"]
    assert not Visit.objects.exists()
    r = post(world.worker1, url("visits"), {"household": world.household1.pk, "needs": [{}]})
    assert r.status_code == 400 and "title" in r.json()["needs"]["0"]


def test_needs_are_not_added_by_changing_a_visit(world):
    visit = visits_services.record_visit(user=world.worker1.user, household=world.household1)
    r = client(world.worker1).patch(
        url("visits", visit.pk), {"needs": [{"category": "other", "title": "x"}]}, format="json"
    )
    assert r.status_code == 400 and "needs" in r.json()


# ---------------------------------------------------------------------------- the loop


def test_the_whole_loop_through_the_api(world):
    rules = points_rules(world)
    need_id = post(
        world.worker1,
        url("needs"),
        {
            "resident": world.resident1.pk,
            "source": "visit",
            "category": "safety",
            "title": "电线老化",
        },
    ).json()["id"]
    need = Need.objects.get(pk=need_id)
    assert post(world.committee1, step(need, "accept"), {"note": "已受理"}).status_code == 200
    r = post(
        world.committee1,
        step(need, "assign"),
        {"worker": world.worker1.pk, "due_on": due(3).isoformat()},
        **{KEY: "assign-1"},
    )
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["assigned_worker"], r.json()["due_on"]) == (
        "assigned",
        world.worker1.pk,
        due(3).isoformat(),
    )
    # The retry replays; it does not assign again.
    again = post(
        world.committee1,
        step(need, "assign"),
        {"worker": world.worker1.pk, "due_on": due(3).isoformat()},
        **{KEY: "assign-1"},
    )
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert post(world.worker1, step(need, "start")).status_code == 200
    r = post(
        world.worker1,
        step(need, "resolve"),
        {
            "resolution": "请电工更换",
            "claim": {"resident": world.resident1.pk, "rule": rules["hazard"].pk},
        },
    )
    assert r.status_code == 200, r.content
    assert Claim.objects.get(pk=r.json()["claim"]).points == 2
    r = post(world.resident_user, step(need, "rate"), {"level": 5, "comment": "很及时"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "closed"
    assert r.json()["rating"]["level"] == 5

    events = client(world.resident_user).get(f"{url('needs', need.pk)}events/").json()
    assert [e["kind"] for e in events["results"]] == [
        "recorded", "accepted", "assigned", "started", "resolved", "rated", "closed",
    ]  # fmt: skip
    assert events["results"][1]["actor_name"] == "committee"
    assert events["results"][1]["note"] == "已受理"
    assert events["results"][-1]["actor"] == world.resident_user.pk  # closed by the rating


def test_an_illegal_step_is_a_400_that_names_the_allowed_statuses(world):
    need = need_in(world, "new")
    r = post(world.worker1, step(need, "resolve"), {"resolution": "好了"}, **EN)
    assert r.status_code == 400
    assert r.json() == {
        "status": ["This need is new: it cannot be resolved. Allowed only from: in progress."]
    }


@pytest.mark.parametrize(
    ("persona", "name", "body"),
    [
        ("worker1", "reject", {"reason": "不办"}),  # a worker does not reject
        ("worker1", "offer", {"partner_units": [1], "due_on": "2030-01-01"}),
        ("partner_user", "accept", {}),
        ("resident_user", "accept", {}),
        ("committee1", "rate", {"level": 5}),
        ("committee1", "claim", {}),
    ],
)
def test_each_step_needs_its_own_permission(world, persona, name, body):
    need = need_in(world, "new")
    r = post(getattr(world, persona), step(need, name), body)
    assert r.status_code == 403, r.content


def test_a_rejection_without_an_explanation_is_a_400(world):
    need = need_in(world, "new")
    r = post(world.committee1, step(need, "reject"), {"reason": ""})
    assert r.status_code == 400 and "reason" in r.json()
    r = post(world.committee1, step(need, "reject"), {"reason": "属于物业，已转告"})
    assert (r.status_code, r.json()["status"], r.json()["rejection_reason"]) == (
        200,
        "rejected",
        "属于物业，已转告",
    )


def test_a_partner_claims_an_offered_micro_wish_and_reports_it_done(world, spread):
    wish = spread["wish"]
    assert ids(client(world.partner_user).get(url("needs"), {"offered_to": world.partner.pk})) == [
        wish.pk
    ]
    r = post(world.partner_user, step(wish, "claim"), **{KEY: "jiedan"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["assigned_partner"]) == ("assigned", world.partner.pk)
    assert post(world.partner_user, step(wish, "start")).status_code == 200
    r = post(world.partner_user, step(wish, "resolve"), {"resolution": "助听器已送到"})
    assert r.json()["status"] == "resolved"
    # The partner cannot change the wish's details, nor claim a need not offered to it.
    r = client(world.partner_user).patch(url("needs", wish.pk), {"priority": 4}, format="json")
    assert r.status_code == 403


def test_escalating_by_api_goes_up_one_level(world):
    need = need_in(world, "assigned")
    r = post(world.worker1, step(need, "escalate"), {"note": "超期未办"})
    assert r.status_code == 200 and r.json()["escalation"] == 1
    post(world.committee1, step(need, "escalate"))
    r = post(world.admin1, step(need, "escalate"), **EN)
    assert r.status_code == 400
    assert r.json() == {"escalation": ["This need is already escalated to the street."]}


def test_details_change_by_patch_and_where_a_need_is_stays(world):
    need = need_in(world, "accepted")
    c = client(world.worker1)
    r = c.patch(url("needs", need.pk), {"priority": 4, "for_council": True}, format="json")
    assert r.status_code == 200, r.content
    assert (r.json()["priority"], r.json()["for_council"]) == (4, True)
    moved = c.patch(url("needs", need.pk), {"grid": world.grid2.pk}, format="json")
    assert moved.status_code == 400
    assert client(world.superuser).delete(url("needs", need.pk)).status_code == 405


# ---------------------------------------------------------------------------- filters


def test_the_needs_list_filters_overdue_open_and_several_statuses(world):
    late = need_in(world, "assigned")
    Need.objects.filter(pk=late.pk).update(due_on=due(-2))
    fresh = need_in(world, "in_progress")
    closed = need_in(world, "closed")
    c = client(world.committee1)
    assert ids(c.get(url("needs"), {"overdue": "true"})) == [late.pk]
    assert ids(c.get(url("needs"), {"overdue": "false"})) == sorted([fresh.pk, closed.pk])
    assert ids(c.get(url("needs"), {"open": "true"})) == sorted([late.pk, fresh.pk])
    assert ids(c.get(url("needs"), {"status": ["closed", "in_progress"]})) == sorted(
        [fresh.pk, closed.pk]
    )
    assert c.get(url("needs"), {"status": "nonsense"}).status_code == 400
    row = c.get(url("needs", late.pk)).json()
    assert row["overdue"] is True


# ---------------------------------------------------------------------------- photos


def test_a_photo_is_uploaded_and_read_back_only_within_the_scope(world, settings):
    need = need_in(world, "new")
    path = step(need, "photos")
    r = client(world.worker1).post(path, {"image": png()}, format="multipart")
    assert r.status_code == 201, r.content
    photo_id = r.json()["id"]
    assert need.events.filter(kind="photo").count() == 1
    file_url = f"{path}{photo_id}/"
    r = client(world.resident_user).get(file_url)
    assert r.status_code == 200
    assert b"".join(r.streaming_content).startswith(b"\x89PNG")
    assert client(world.worker2).get(file_url).status_code == 404
    assert client(world.worker1).get(f"{path}99999/").status_code == 404
    shown = client(world.worker1).get(url("needs", need.pk)).json()["photos"]
    assert [(p["id"], p["url"]) for p in shown] == [(photo_id, f"http://testserver{file_url}")]


def test_a_photo_too_large_or_not_an_image_is_a_400(world, settings):
    need = need_in(world, "new")
    path = step(need, "photos")
    not_image = SimpleUploadedFile("a.png", b"not an image", content_type="image/png")
    r = client(world.worker1).post(path, {"image": not_image}, format="multipart")
    assert r.status_code == 400 and "image" in r.json()
    settings.NEED_PHOTO_MAX_BYTES = 10
    r = client(world.worker1).post(path, {"image": png()}, format="multipart")
    assert r.status_code == 400 and "image" in r.json()
    assert not NeedPhoto.objects.exists()


# ---------------------------------------------------------------------------- rectifications


def test_a_low_rating_opens_a_rectification_done_by_the_worker_and_accepted_by_the_committee(
    world,
):
    need = need_in(world, "resolved")
    r = post(world.resident_user, step(need, "rate"), {"level": 1, "comment": "没修好"})
    assert r.status_code == 200
    rectification = r.json()["rectification"]
    assert (r.json()["status"], rectification["status"]) == ("resolved", "open")
    path = url("rectifications", rectification["id"])
    assert ids(client(world.worker1).get(url("rectifications"))) == [rectification["id"]]
    assert ids(client(world.worker2).get(url("rectifications"))) == []
    assert post(world.worker1, f"{path}accept/").status_code == 403  # not the worker's to accept
    assert post(world.worker1, f"{path}done/", {"note": ""}).status_code == 400
    assert post(world.worker1, f"{path}done/", {"note": "重新接线"}).status_code == 200
    r = post(world.committee1, f"{path}return/", {"note": "还有隐患"})
    assert r.json()["status"] == "open"
    post(world.worker1, f"{path}done/", {"note": "全部更换"})
    r = post(world.committee1, f"{path}accept/", **{KEY: "yanshou"})
    assert r.status_code == 200 and r.json()["status"] == "accepted" and r.json()["on_time"]
    assert client(world.committee1).get(url("needs", need.pk)).json()["status"] == "closed"
    r = post(world.committee1, f"{path}accept/", **EN)
    assert r.status_code == 400
    assert r.json()["status"][0].startswith("This rectification is accepted")


# ---------------------------------------------------------------------------- junk


@pytest.mark.parametrize(
    "body",
    [
        {"level": "9"},
        {"due_on": "tomorrow", "worker": "x"},
        {"partner_units": "1"},
        {"partner_units": [None]},
        {"claim": {"resident": 10**20, "rule": -1}},
        {"claim": "yes", "resolution": ["a"]},
        {"note": {"a": 1}},
        {"worker": 10**30, "due_on": "2030-01-01"},
    ],
)
@pytest.mark.parametrize(
    "name", ["accept", "assign", "offer", "claim", "start", "resolve", "reject", "escalate", "rate"]
)
def test_junk_to_any_step_is_a_json_4xx_never_a_500(world, body, name):
    need = need_in(world, "accepted")
    r = in_savepoint(lambda: client(world.superuser).post(step(need, name), body, format="json"))
    assert r.status_code < 500, r.content
    assert isinstance(r.json(), dict)


def test_the_steps_appear_in_the_api_schema(world):
    r = client(world.superuser).get("/api/schema/", {"format": "json"})
    paths = r.json()["paths"]
    for name in [
        "accept",
        "assign",
        "offer",
        "claim",
        "start",
        "resolve",
        "reject",
        "escalate",
        "rate",
        "events",
    ]:
        assert f"/api/v1/needs/{{id}}/{name}/" in paths
    assert "/api/v1/rectifications/{id}/return/" in paths


def test_the_needs_list_filters_by_the_day_recorded(world):
    old, new = need_in(world, "new"), need_in(world, "new")
    earlier = old.created_at - dt.timedelta(days=10)
    Need.objects.filter(pk=old.pk).update(created_at=earlier)
    day = timezone.localtime(earlier).date().isoformat()
    c = client(world.committee1)
    assert ids(c.get(url("needs"), {"created_after": day, "created_before": day})) == [old.pk]
    assert ids(c.get(url("needs"), {"created_after": timezone.localdate().isoformat()})) == [new.pk]


def test_a_resident_sees_and_rates_a_need_recorded_for_their_household(world):
    need = need_in(world, "resolved", household=world.household1, grid=world.grid1, resident=None)
    assert need.resident_id is None
    other = needs_services.record_need(
        user=world.worker2.user, grid=world.grid2, household=world.household2,
        title="排水沟堵塞", category="infrastructure", source="visit",
    )  # fmt: skip
    r = client(world.resident_user).get(url("needs"))
    assert r.status_code == 200
    assert ids(r) == [need.id]  # not the other household's
    events = client(world.resident_user).get(f"{url('needs', need.id)}events/")
    assert events.status_code == 200 and events.json()
    r = post(world.resident_user, step(need, "rate"), {"level": 4})
    assert r.status_code == 200, r.content
    need.refresh_from_db()
    assert need.status == "closed"
    assert client(world.resident_user).get(url("needs", other.id)).status_code == 404
