"""GET /api/v1/field/bundle/ (issue 11): the field app's working set — its shape, its scope,
masked ID numbers, the version (ETag, 304, ?since=) and a query count flat in households."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from field.selectors import SINCE_OVERLAP
from points.models import Rule
from points.services import claims as claim_services
from points.services import ledger
from residents.models import Household, Need, Resident, Visit
from tests import factories as f
from tests.field.helpers import fill_grid

URL = "/api/v1/field/bundle/"


def client_for(user: Any) -> APIClient:
    """A client for `user` as a new request sees it (the scope is cached on the user object)."""
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def get(user: Any, **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", {})
    return client_for(user).get(URL, kwargs, headers=headers)


@pytest.fixture
def field(world: SimpleNamespace) -> SimpleNamespace:
    """The world, with tags, a rule with a cap, a visit, a need, a refused claim, an account."""
    w = world
    w.tag = f.TagFactory(name="独居老人", visit_every_days=7)
    w.resident1.tags.add(w.tag)
    w.resident2.tags.add(w.tag)
    w.rule = Rule.objects.create(
        community=w.community1,
        code="clean",
        name="清扫责任区",
        category="reward",
        points=1,
        cap_per_quarter=4,
    )
    w.up_to = Rule.objects.create(
        community=w.community1,
        code="advice",
        name="建议被采纳",
        category="reward",
        points=10,
        up_to=True,
    )
    w.visit = f.VisitFactory(
        worker=w.worker1,
        household=w.household1,
        visited_at=timezone.now() - dt.timedelta(days=10),
        follow_up_on=timezone.localdate() - dt.timedelta(days=1),
    )
    w.need = f.NeedFactory(
        grid=w.grid1,
        household=w.household1,
        status="assigned",
        assigned_worker=w.worker1,
        due_on=timezone.localdate() - dt.timedelta(days=2),
        reported_by=w.worker1.user,
    )
    w.need_elsewhere = f.NeedFactory(grid=w.grid4, reported_by=w.worker4.user)
    w.claim = claim_services.submit_claim(user=w.worker1.user, resident=w.resident1, rule=w.rule)
    refused = claim_services.submit_claim(
        user=w.worker1.user, resident=w.resident1, rule=w.up_to, points=3
    )
    claim_services.reject_claim(claim=refused, approver=w.committee1, reason="证明材料不足")
    w.refused = refused
    return w


# ---------------------------------------------------------------------------- shape


def test_worker_gets_their_working_set(field: SimpleNamespace) -> None:
    w = field
    response = get(w.worker1.user)
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) >= {
        "version",
        "full",
        "today",
        "period",
        "me",
        "grids",
        "tags",
        "households",
        "residents",
        "due",
        "visits",
        "follow_ups",
        "needs",
        "rules",
        "cap_used",
        "claims_rejected",
        "choices",
    }
    assert data["full"] is True and "current" not in data
    assert response["ETag"] == f'"{data["version"]}"'
    assert data["today"] == timezone.localdate().isoformat()
    assert data["me"]["role"] == "worker" and data["me"]["can_approve"] is False
    assert data["me"]["community"] == {"id": w.community1.pk, "name": "新庄赵村"}
    assert [g["id"] for g in data["grids"]] == [w.grid1.pk]
    assert {t["name"] for t in data["tags"]} >= {"独居老人"}

    [household] = data["households"]
    assert household["id"] == w.household1.pk and household["grid"] == w.grid1.pk
    assert household["address"] == w.household1.address
    [resident] = data["residents"]
    assert resident["name"] == "赵爱国" and resident["tags"] == [w.tag.pk]
    assert resident["card_number"] and resident["balance"] == 0
    assert household["balance"] == 0

    [due] = data["due"]
    assert due["resident"] == w.resident1.pk and due["status"] == "overdue"
    assert due["days_overdue"] == 3
    [visit] = data["visits"]
    assert visit["id"] == w.visit.pk and visit["worker_name"] == w.worker1.name
    assert data["follow_ups"] == [w.visit.pk]

    [need] = data["needs"]
    assert need["id"] == w.need.pk and need["assigned_to_me"] is True and need["overdue"]
    assert need["status_label"] and need["category_label"]

    rules = {r["code"]: r for r in data["rules"]}
    assert rules["clean"]["cap_per_period"] == 4 and rules["clean"]["max_points"] is None
    assert rules["advice"]["max_points"] == 10
    assert data["cap_used"] == [{"resident": w.resident1.pk, "rule": w.rule.pk, "points": 1}]
    [refused] = data["claims_rejected"]
    assert refused["id"] == w.refused.pk and refused["reason"] == "证明材料不足"
    assert ["in_person", str(Visit.Method.IN_PERSON.label)] in data["choices"]["visit_methods"]


def test_due_is_what_visits_due_gives(field: SimpleNamespace) -> None:
    w = field
    f.VisitFactory(worker=w.worker2, household=w.household2, visited_at=timezone.now())
    for user in (w.worker1.user, w.committee1):
        listed = client_for(user).get("/api/v1/visits/due/", {"page_size": 500}).json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        assert get(user).json()["due"] == rows


def test_visits_are_the_last_three_of_each_household(field: SimpleNamespace) -> None:
    w = field
    now = timezone.now()
    later = [
        f.VisitFactory(worker=w.worker1, household=w.household1, visited_at=now - dt.timedelta(i))
        for i in range(1, 4)
    ]
    data = get(w.worker1.user).json()
    assert [v["id"] for v in data["visits"]] == [v.pk for v in later]
    assert data["follow_ups"] == []  # a later visit came


# ---------------------------------------------------------------------------- scope


def test_worker_sees_only_their_grids(field: SimpleNamespace) -> None:
    w = field
    data = get(w.worker2.user).json()
    assert [h["id"] for h in data["households"]] == [w.household2.pk]
    assert [r["id"] for r in data["residents"]] == [w.resident2.pk]
    assert [d["resident"] for d in data["due"]] == [w.resident2.pk]
    assert data["needs"] == [] and data["visits"] == []
    assert data["claims_rejected"] == [] and data["cap_used"] == []


def test_committee_sees_their_community(field: SimpleNamespace) -> None:
    w = field
    data = get(w.committee1).json()
    assert data["me"]["role"] == "committee" and data["me"]["can_approve"] is True
    assert {g["id"] for g in data["grids"]} == {w.grid1.pk, w.grid2.pk}
    assert {h["id"] for h in data["households"]} == {w.household1.pk, w.household2.pk}
    assert {n["id"] for n in data["needs"]} == {w.need.pk}
    assert {r["community"] for r in data["rules"]} == {w.community1.pk}


def test_grid_leader(field: SimpleNamespace) -> None:
    w = field
    w.grid1.leader = w.worker1
    w.grid1.save()
    assert get(w.worker1.user).json()["me"]["role"] == "leader"


@pytest.mark.parametrize("who", ["resident_user", "partner_user", "stranger", "admin1"])
def test_others_are_refused_in_chinese(field: SimpleNamespace, who: str) -> None:
    response = get(getattr(field, who))
    assert response.status_code == 403
    assert "网格员" in response.json()["detail"]


def test_anonymous_is_refused() -> None:
    assert APIClient().get(URL).status_code in (401, 403)


# ---------------------------------------------------------------------------- masking


def test_id_numbers_are_always_masked(field: SimpleNamespace) -> None:
    w = field
    w.committee1.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    for user in (w.worker1.user, w.committee1):
        text = get(user).content.decode()
        for resident in (w.resident1, w.resident2):
            assert resident.id_number not in text
    [resident] = get(w.worker1.user).json()["residents"]
    assert (
        resident["id_number"]
        == w.resident1.id_number[:6] + "********" + (w.resident1.id_number[-4:])
    )


# ---------------------------------------------------------------------------- version


def test_same_version_answers_304(field: SimpleNamespace) -> None:
    w = field
    first = get(w.worker1.user)
    etag = first["ETag"]
    again = get(w.worker1.user, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"]
    assert get(w.worker1.user, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    # Another user's version is not this one.
    assert get(w.worker2.user, headers={"If-None-Match": etag}).status_code == 200


def test_gzipped_with_a_weak_etag_that_still_revalidates(field: SimpleNamespace) -> None:
    w = field
    client = client_for(w.worker1.user)
    response = client.get(URL, headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    etag = response["ETag"]
    assert etag.startswith('W/"')
    again = client.get(URL, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "change",
    [
        "household",
        "resident",
        "tags",
        "visit",
        "need_status",
        "ledger",
        "claim",
        "rule",
        "new_household",
    ],
)
def test_any_change_gives_a_new_version(field: SimpleNamespace, change: str) -> None:
    w = field
    etag = get(w.worker1.user)["ETag"]
    if change == "household":
        w.household1.house_number = "9"
        w.household1.save(update_fields=["house_number"])
    elif change == "resident":
        Resident.objects.filter(pk=w.resident1.pk).update(phone="13900000000")
    elif change == "tags":
        w.resident1.tags.clear()
    elif change == "visit":
        f.VisitFactory(worker=w.worker1, household=w.household1)
    elif change == "need_status":
        w.need.status = "in_progress"
        w.need.save(update_fields=["status"])
    elif change == "ledger":
        account = ledger.account_for(w.resident1)
        ledger.post_entry(account=account, amount=2, kind="award", key="t1")
    elif change == "claim":
        claim_services.approve_claim(claim=w.claim, approver=w.committee1)
    elif change == "rule":
        Rule.objects.filter(pk=w.rule.pk).update(cap_per_quarter=6)
    elif change == "new_household":
        f.HouseholdFactory(grid=w.grid1, village=True, house_number="99")
    response = get(w.worker1.user, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_since_sends_only_what_changed(field: SimpleNamespace) -> None:
    w = field
    other = f.HouseholdFactory(grid=w.grid1, village=True, house_number="20")
    neighbour = f.ResidentFactory(household=other, name="赵大娘")
    first = get(w.worker1.user).json()
    assert {h["id"] for h in first["households"]} == {w.household1.pk, other.pk}

    # Everything read so far is older than the overlap margin.
    old = timezone.now() - SINCE_OVERLAP - dt.timedelta(minutes=1)
    for model in (Household, Resident, Visit, Need):
        model.objects.update(updated_at=old)

    since = get(w.worker1.user, since=first["version"]).json()
    assert since["full"] is False
    assert since["households"] == [] and since["residents"] == []
    assert since["visits"] == [] and since["needs"] == []
    assert set(since["current"]["households"]) == {w.household1.pk, other.pk}
    assert set(since["current"]["residents"]) == {w.resident1.pk, neighbour.pk}
    assert since["current"]["visits"] == [w.visit.pk]
    assert since["current"]["needs"] == [w.need.pk]
    assert since["due"] and since["rules"]  # the small and computed parts come whole

    # A tag on the neighbour, points for 赵爱国, the need started, the other household moved.
    neighbour.tags.add(w.tag)
    ledger.post_entry(account=ledger.account_for(w.resident1), amount=5, kind="award", key="k")
    w.need.status = "in_progress"
    w.need.save(update_fields=["status"])
    other.grid = w.grid2
    other.save()

    since = get(w.worker1.user, since=first["version"]).json()
    assert [r["id"] for r in since["residents"]] == [w.resident1.pk]
    assert since["residents"][0]["balance"] == 5
    assert [h["id"] for h in since["households"]] == [w.household1.pk]
    assert since["households"][0]["balance"] == 5
    assert [n["id"] for n in since["needs"]] == [w.need.pk]
    assert since["needs"][0]["status"] == "in_progress"
    # Moved out of the area: gone from the current ids, so the phone drops it.
    assert since["current"]["households"] == [w.household1.pk]
    assert neighbour.pk not in since["current"]["residents"]

    # Its tags changed: the neighbour comes again for worker2, whose grid it now is.
    version2 = get(w.worker2.user).json()["version"]
    Household.objects.update(updated_at=old)
    Resident.objects.update(updated_at=old)
    neighbour.tags.remove(w.tag)
    again = get(w.worker2.user, since=version2).json()
    assert [r["id"] for r in again["residents"]] == [neighbour.pk]
    assert again["residents"][0]["tags"] == []


def test_since_from_another_area_or_garbage_is_a_full_bundle(field: SimpleNamespace) -> None:
    w = field
    version = get(w.worker1.user).json()["version"]
    f.GridAssignmentFactory(worker=w.worker1, grid=w.grid2, start_date=dt.date(2024, 1, 1))
    data = get(w.worker1.user, since=version).json()
    assert data["full"] is True and len(data["households"]) == 2
    assert get(w.worker1.user, since="nonsense").json()["full"] is True


def test_closed_need_leaves_the_current_ids(field: SimpleNamespace) -> None:
    w = field
    version = get(w.worker1.user).json()["version"]
    Need.objects.filter(pk=w.need.pk).update(status="resolved")
    data = get(w.worker1.user, since=version).json()
    assert data["current"]["needs"] == [] and data["needs"] == []


# ---------------------------------------------------------------------------- query count


def _count(user: Any, **params: Any) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_query_count_is_the_same_for_10_and_1000_households() -> None:
    tag = f.TagFactory(name="独居老人", visit_every_days=7)
    sizes: dict[int, SimpleNamespace] = {}
    for n in (10, 1000):
        community = f.CommunityFactory()
        grid = f.GridFactory(community=community)
        worker = f.GridWorkerFactory(community=community)
        f.GridAssignmentFactory(worker=worker, grid=grid)
        rule = Rule.objects.create(
            community=community,
            code="clean",
            name="清扫",
            category="reward",
            points=1,
            cap_per_quarter=4,
        )
        fill_grid(grid, worker, n, tag=tag, rule=rule, prefix=f"n{n}")
        committee = f.committee_member(community, f"committee{n}").user
        sizes[n] = SimpleNamespace(worker=worker.user, committee=committee)

    big = get(sizes[1000].worker).json()
    assert len(big["households"]) == 1000 and len(big["residents"]) == 2000
    assert len(big["needs"]) == 100 and len(big["visits"]) == 1000

    for role in ("worker", "committee"):
        small_user, big_user = getattr(sizes[10], role), getattr(sizes[1000], role)
        assert _count(small_user) == _count(big_user)
        version_small = get(small_user).json()["version"]
        version_big = get(big_user).json()["version"]
        assert _count(small_user, since=version_small) == _count(big_user, since=version_big)
        # A 304 reads less than a bundle, and as little for both.
        for user, version in ((small_user, version_small), (big_user, version_big)):
            client = client_for(user)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(URL, headers={"If-None-Match": f'"{version}"'})
            assert response.status_code == 304
            assert len(ctx.captured_queries) < _count(user)
