"""Bad input never gives a 500 on the new endpoints either: volunteers, the resources and
projects lists, the council, the needs loop and the reports.

Over 600 lines on purpose: one test module per API or service layer, long by nature (many
short, independent tests).

The same checks as tests/core/test_errors.py, over the endpoints added since: junk in every
query parameter of every list (its FilterSet's, the report's and the common ones), junk in
every field of every create and of every POST action on a real object, hypothesis bodies and
query strings, malformed bodies and wrong content types. The test client re-raises any
exception a view lets escape, so a would-be 500 fails the test with its traceback. Each
request runs in a savepoint, so every junk request meets the same objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import resolve
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.response import Response

from grids import services as grid_services
from grids.models import Council, Project, Resource
from points.models import Rule
from reports.serializers import NeedsReportQuerySerializer, WorkerReportQuerySerializer
from residents.models import Need
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services
from tests import factories as f
from tests.api_helpers import API, client, in_savepoint, url
from tests.grids.council_helpers import MINUTES
from tests.residents.needs_helpers import due, need_in
from volunteers.filters import MembershipFilter
from volunteers.serializers import VolunteerHoursQuerySerializer
from volunteers.services import activities as activities_services
from volunteers.services import teams as teams_services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

JUNK_PARAM_VALUES = [
    "abc",
    "",
    "-1",
    "1.5",
    "99999999999999999999999999",
    "1e400",
    "\x00",
    "🙂" * 50,
    "x" * 5000,
    "2026Q5",
    "0000Q1",
]

JUNK_FIELD_VALUES = [
    None,
    "",
    "\x00",
    "x" * 5000,
    "🙂",
    -1,
    10**30,
    2**63,
    1.5,
    True,
    [1, 2],
    {"id": 1},
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
]

COMMON_PARAMS = ["search", "ordering", "page", "page_size", "period", "year", "level", "format"]
# DRF answers an impossible page and an unknown `format` (no renderer for it) with a 404.
MAY_BE_404 = {"page", "format"}


def assert_json_error_or_success(r: Response, *, allow_404: bool = False) -> None:
    assert r.status_code < 500, r.content[:500]
    if r.status_code == 204:
        return
    if r.status_code == 200 and r["Content-Type"] == XLSX:
        assert r.content.startswith(b"PK"), r.content[:200]  # a zip: the workbook
        return
    assert r["Content-Type"].startswith("application/json"), (r.status_code, r.content[:200])
    data = r.json()
    if r.status_code >= 400:
        assert isinstance(data, dict | list) and data, data


def assert_list_answer(r: Response, name: str | None) -> None:
    """200 or 400 (JSON, naming the parameter); 404 only for `page` and `format`."""
    assert_json_error_or_success(r)
    allowed = {200, 400} | ({404} if name is None or name in MAY_BE_404 else set())
    assert r.status_code in allowed, (name, r.status_code, r.content[:300])
    if r.status_code == 400:
        assert isinstance(r.json(), dict), (name, r.json())


# ---------------------------------------------------------------------------- objects


@pytest.fixture
def things(world: SimpleNamespace) -> SimpleNamespace:
    """One of each new object in community 1 (street 1), made through the services:

    - a volunteer team with an hours rule, a leader (resident 2) and a member (resident 1,
      whose login is `world.resident_user`); an activity starting in half an hour (the member
      signed up) and one under way (the member checked in by a manager);
    - a partner organisation (and so its resources row), a resource, a project;
    - last month's held council with an open item, this month's council (planned, cut-off
      today) with an item, and community 2's council with its agenda fixed;
    - needs at each step of the loop, a micro-wish accepted and one offered to the partner
      unit, and two rectifications (open, done).
    """
    t = SimpleNamespace()
    su = world.superuser
    now = timezone.now()
    today = timezone.localdate()

    t.rule = Rule.objects.create(
        community=world.community1, code="volunteer_hour", name="志愿服务(每小时)",
        category="reward", points=2,
    )  # fmt: skip
    t.team = f.VolunteerTeamFactory(
        community=world.community1, name="银龄志愿队", kind="other", hours_rule=t.rule
    )
    t.leader_user = f.UserFactory(username="leader", groups=["team_leader"])
    t.leader = f.VolunteerMembershipFactory(
        team=t.team, resident=world.resident2, user=t.leader_user, role="leader"
    )
    t.member = f.VolunteerMembershipFactory(team=t.team, resident=world.resident1)
    t.newcomer = f.ResidentFactory(household=world.household1, name="赵新")
    t.soon = activities_services.create_activity(
        user=su, team=t.team, title="清扫村道", starts_at=now + dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=3), place="村委会", capacity=2,
    )  # fmt: skip
    activities_services.sign_up(user=world.resident_user, activity=t.soon)
    t.running = activities_services.create_activity(
        user=su, team=t.team, title="敬老院陪护", starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1), place="敬老院", capacity=5,
    )  # fmt: skip
    activities_services.check_in(
        user=su, activity=t.running, membership=t.member, at=now - dt.timedelta(minutes=30)
    )
    t.organisation = teams_services.save_partner_organisation(
        user=su, community=world.community1, name="明德律师事务所", service="免费法律咨询"
    )
    t.resource = Resource.objects.create(
        community=world.community1, name="村委会议室", provider="村委会"
    )
    t.project = Project.objects.create(community=world.community1, name="村道路灯", owner="赵振东")

    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    t.past_council = f.CouncilFactory(community=world.community1, held_on=last_month)
    t.past_item = f.AgendaItemFactory(council=t.past_council, title="村道泥泞")
    t.council = grid_services.plan_council(
        community=world.community1, month=today, held_on=today, agenda_cutoff=today, user=su
    )
    t.item = grid_services.add_agenda_item(council=t.council, user=su, title="修路灯")
    t.fixed_council = grid_services.plan_council(
        community=world.community2, month=today, held_on=today, agenda_cutoff=today, user=su
    )
    grid_services.fix_agenda(council=t.fixed_council, user=su)
    grid_services.record_minutes(council=t.fixed_council, user=su, **MINUTES)

    world.partner.agreements.create(community=world.community1, signed_on=dt.date(2025, 3, 1))
    t.needs = {status: need_in(world, status) for status in ("new", "accepted", "assigned")}
    t.needs["in_progress"] = need_in(world, "in_progress")
    t.needs["resolved"] = need_in(world, "resolved")
    wish = {"category": Need.Category.MICRO_WISH, "title": "想要一台收音机"}
    t.needs["wish"] = need_in(world, "accepted", **wish)
    offered = need_in(world, "accepted", **wish)
    t.needs["offered"] = needs_services.offer_need(
        user=world.committee1, need=offered, partner_units=[world.partner], due_on=due()
    )
    low = ratings_services.rate_need(
        user=world.resident_user, need=need_in(world, "resolved"), level=2
    )
    t.rectification = low.rectification
    low2 = ratings_services.rate_need(
        user=world.resident_user, need=need_in(world, "resolved"), level=1
    )
    t.done_rectification = ratings_services.complete_rectification(
        user=world.worker1.user, rectification=low2.rectification, note="已返工"
    )
    return t


# ---------------------------------------------------------------------------- lists


def _range_names(filterset_class: type) -> list[str]:
    """Each filter's query names: `held_on` is also held_on_after / held_on_before."""
    names = []
    for name, flt in filterset_class.base_filters.items():
        names.append(name)
        suffixes = getattr(flt.field.widget, "suffixes", None) or []
        names += [f"{name}_{s}" for s in suffixes if s]
    return names


def _view_filters(path: str) -> list[str]:
    view = resolve(path).func.cls
    flt = getattr(view, "filterset_class", None)
    return _range_names(flt) if flt is not None else []


REPORT_PARAMS = {
    "reports/needs": list(NeedsReportQuerySerializer().fields),
    "reports/workers": list(WorkerReportQuerySerializer().fields),
    "reports/volunteer-hours": list(VolunteerHoursQuerySerializer().fields),
}

# label → (path from `world` and `things`, the filter names beyond the view's FilterSet).
LISTS: dict[str, Callable[[Any, Any], str]] = {
    "volunteer-teams": lambda w, t: url("volunteer-teams"),
    "volunteer-teams/members": lambda w, t: f"{url('volunteer-teams', t.team.pk)}members/",
    "activities": lambda w, t: url("activities"),
    "activities/signups": lambda w, t: f"{url('activities', t.soon.pk)}signups/",
    "activities/attendance": lambda w, t: f"{url('activities', t.running.pk)}attendance/",
    "partner-organisations": lambda w, t: url("partner-organisations"),
    "reports/volunteer-hours": lambda w, t: url("reports/volunteer-hours"),
    "resources": lambda w, t: url("resources"),
    "projects": lambda w, t: url("projects"),
    "councils": lambda w, t: url("councils"),
    "councils/agenda-items": lambda w, t: f"{url('councils', t.council.pk)}agenda-items/",
    "councils/pending-evaluation": (
        lambda w, t: f"{url('councils', t.council.pk)}pending-evaluation/"
    ),
    "agenda-items": lambda w, t: url("agenda-items"),
    "reports/needs": lambda w, t: url("reports/needs"),
    "reports/workers": lambda w, t: url("reports/workers"),
    "needs": lambda w, t: url("needs"),
    "needs/events": lambda w, t: f"{url('needs', t.needs['resolved'].pk)}events/",
    "rectifications": lambda w, t: url("rectifications"),
}


def list_params(label: str, path: str) -> list[str]:
    names = _view_filters(path) if "/" not in label or label.startswith("reports/") else []
    if label == "volunteer-teams/members":
        names = _range_names(MembershipFilter)
    names += REPORT_PARAMS.get(label, [])
    return list(dict.fromkeys([*names, *COMMON_PARAMS]))


def test_every_list_is_covered_with_its_filters(world, things):
    for label, path in LISTS.items():
        r = client(world.superuser).get(path(world, things), _valid_report_query(label))
        assert r.status_code == 200, (label, r.content[:300])
    for label in ("volunteer-teams", "activities", "needs", "councils", "agenda-items"):
        assert len(list_params(label, LISTS[label](world, things))) > len(COMMON_PARAMS), label
    assert "held_on_after" in list_params("councils", url("councils"))
    assert "starts_at_before" in list_params("activities", url("activities"))


def _valid_report_query(label: str) -> dict[str, str]:
    """The minimum a report needs to answer 200 (a quarter), so junk in one other parameter
    is what the answer is about."""
    if label in ("reports/needs", "reports/workers", "reports/volunteer-hours"):
        return {"period": "2026Q4"}
    return {}


@pytest.mark.parametrize("label", list(LISTS))
def test_junk_query_parameters_never_give_a_500(world, things, label):
    c = client(world.superuser)
    path = LISTS[label](world, things)
    base = _valid_report_query(label)
    params = list_params(label, path)
    for value in JUNK_PARAM_VALUES:
        for name in params:
            query = {**base, name: value}
            r = in_savepoint(lambda query=query: c.get(path, query))
            assert_list_answer(r, name)
            reported = name in base or name in REPORT_PARAMS.get(label, [])
            if r.status_code == 400 and reported and name in {"period", "year", "level", "format"}:
                assert set(r.json()) & {name, "period"}, (name, value, r.json())
        # All at once, too.
        r = in_savepoint(lambda value=value: c.get(path, dict.fromkeys(params, value)))
        assert_list_answer(r, None)


@pytest.mark.parametrize("label", ["reports/workers", "reports/volunteer-hours"])
@pytest.mark.parametrize("value", ["2026Q5", "0000Q1", "abc", "\x00", "99999999999999999999"])
def test_a_bad_report_query_in_xlsx_is_a_json_400(world, things, label, value):
    """An error answers JSON with its field messages even when a workbook was asked for."""
    r = client(world.superuser).get(
        LISTS[label](world, things), {"format": "xlsx", "period": value}
    )
    assert r.status_code == 400, r.content[:200]
    assert r["Content-Type"].startswith("application/json"), r.content[:200]
    assert "period" in r.json()


def test_a_report_refused_in_xlsx_is_a_json_403(world, things):
    r = client(world.stranger).get(url("reports/workers"), {"format": "xlsx", "period": "2026Q4"})
    assert r.status_code == 403
    assert r["Content-Type"].startswith("application/json")
    assert "detail" in r.json()


@pytest.mark.parametrize("label", list(LISTS))
def test_generated_query_strings_never_give_a_500(world, things, label):
    path = LISTS[label](world, things)
    c = client(world.committee1)
    names = list_params(label, path)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )
    @given(
        params=st.dictionaries(
            st.sampled_from(names) | st.text(max_size=8),
            st.text(max_size=30) | st.sampled_from(JUNK_PARAM_VALUES),
            max_size=5,
        )
    )
    def check(params: dict[str, str]) -> None:
        r = in_savepoint(lambda: c.get(path, params))
        assert_json_error_or_success(r)
        assert r.status_code in {200, 400, 403, 404}, (params, r.status_code)

    check()


# ---------------------------------------------------------------------------- bodies

# label → (path, persona, a valid body): every create and every POST action of the new
# endpoints, on an object of `things`. The persona is an in-scope user who may take the step
# (the superuser when the step is the manager's).
Target = tuple[str, str, dict[str, Any]]


def targets(w: SimpleNamespace, t: SimpleNamespace) -> dict[str, Target]:
    today = timezone.localdate()
    n = t.needs
    act = lambda obj, name: f"{url('activities', obj.pk)}{name}/"  # noqa: E731
    need = lambda key, name: f"{url('needs', n[key].pk)}{name}/"  # noqa: E731
    council = lambda obj, name: f"{url('councils', obj.pk)}{name}/"  # noqa: E731
    rect = lambda obj, name: f"{url('rectifications', obj.pk)}{name}/"  # noqa: E731
    soon = timezone.now() + dt.timedelta(days=3)
    return {
        # creates
        "volunteer-teams": (
            url("volunteer-teams"),
            "committee1",
            {
                "community": w.community1.pk,
                "name": "新队",
                "kind": "other",
                "hours_rule": t.rule.pk,
            },
        ),
        "volunteer-teams/members": (
            f"{url('volunteer-teams', t.team.pk)}members/",
            "superuser",
            {"resident": t.newcomer.pk, "role": "member", "joined_on": "2025-01-01"},
        ),
        "activities": (
            url("activities"),
            "leader_user",
            {
                "team": t.team.pk,
                "title": "植树",
                "starts_at": soon.isoformat(),
                "ends_at": (soon + dt.timedelta(hours=2)).isoformat(),
                "place": "村口",
                "capacity": 10,
            },
        ),
        "partner-organisations": (
            url("partner-organisations"),
            "committee1",
            {
                "community": w.community1.pk,
                "name": "心理工作室",
                "service": "心理疏导",
                "contact_name": "李老师",
                "contact_phone": "13912345678",
            },
        ),
        "resources": (
            url("resources"),
            "committee1",
            {"community": w.community1.pk, "name": "法律咨询", "partner_unit": w.partner.pk},
        ),
        "projects": (
            url("projects"),
            "committee1",
            {
                "community": w.community1.pk,
                "name": "村道硬化",
                "owner": "赵振东",
                "budget": "8600",
                "progress": 10,
                "due_on": "2026-12-31",
                "status": "planned",
            },
        ),
        "councils": (
            url("councils"),
            "committee1",
            {"community": w.community1.pk, "month": "2027-01-01", "held_on": "2027-01-10"},
        ),
        "councils/agenda-items": (
            council(t.council, "agenda-items"),
            "committee1",
            {
                "title": "修桥",
                "decision": "申报项目",
                "need": n["accepted"].pk,
                "project": t.project.pk,
                "responsible": w.worker1.pk,
                "position": 5,
            },
        ),
        "needs": (
            url("needs"),
            "worker1",
            {
                "resident": w.resident1.pk,
                "household": w.household1.pk,
                "grid": w.grid1.pk,
                "source": "patrol",
                "category": "infrastructure",
                "title": "井盖缺失",
                "text": "村口井盖缺失",
                "priority": 2,
                "for_council": True,
                "project": t.project.pk,
            },
        ),
        # activities' actions
        "activities/signup": (act(t.soon, "signup"), "resident_user", {}),
        "activities/signup(manager)": (
            act(t.soon, "signup"),
            "superuser",
            {"membership": t.leader.pk},
        ),
        "activities/withdraw": (act(t.soon, "withdraw"), "resident_user", {}),
        "activities/withdraw(manager)": (
            act(t.soon, "withdraw"),
            "superuser",
            {"membership": t.member.pk},
        ),
        "activities/check-in": (
            act(t.soon, "check-in"),
            "resident_user",
            {"token": t.soon.check_in_token},
        ),
        "activities/check-in(manager)": (
            act(t.running, "check-in"),
            "superuser",
            {"membership": t.leader.pk, "at": timezone.now().isoformat()},
        ),
        "activities/check-out": (act(t.running, "check-out"), "resident_user", {}),
        "activities/check-out(manager)": (
            act(t.running, "check-out"),
            "superuser",
            {"membership": t.member.pk, "at": timezone.now().isoformat()},
        ),
        "activities/complete": (act(t.running, "complete"), "leader_user", {}),
        "activities/cancel": (act(t.soon, "cancel"), "leader_user", {}),
        # the council's actions
        "councils/fix-agenda": (council(t.council, "fix-agenda"), "committee1", {}),
        "councils/evaluate": (
            council(t.council, "evaluate"),
            "committee1",
            {"evaluations": [{"item": t.past_item.pk, "score": 4, "struck_off": True}]},
        ),
        "councils/hold": (council(t.fixed_council, "hold"), "superuser", {}),
        # the needs loop
        "needs/accept": (need("new", "accept"), "committee1", {"note": "受理"}),
        "needs/assign": (
            need("accepted", "assign"),
            "committee1",
            {"worker": w.worker1.pk, "due_on": str(today + dt.timedelta(days=7)), "note": "x"},
        ),
        "needs/offer": (
            need("wish", "offer"),
            "committee1",
            {"partner_units": [w.partner.pk], "due_on": str(today + dt.timedelta(days=7))},
        ),
        "needs/claim": (need("offered", "claim"), "partner_user", {"partner_unit": w.partner.pk}),
        "needs/start": (need("assigned", "start"), "worker1", {"note": "开工"}),
        "needs/resolve": (
            need("in_progress", "resolve"),
            "worker1",
            {
                "resolution": "已修好",
                "claim": {"resident": w.resident1.pk, "rule": t.rule.pk, "points": 2},
            },
        ),
        "needs/reject": (need("new", "reject"), "committee1", {"reason": "不属于社区职责"}),
        "needs/escalate": (need("accepted", "escalate"), "committee1", {"note": "上报"}),
        "needs/rate": (need("resolved", "rate"), "resident_user", {"level": 2, "comment": "慢"}),
        # rectifications
        "rectifications/done": (rect(t.rectification, "done"), "worker1", {"note": "已整改"}),
        "rectifications/accept": (rect(t.done_rectification, "accept"), "committee1", {}),
        "rectifications/return": (
            rect(t.done_rectification, "return"),
            "committee1",
            {"note": "未整改到位"},
        ),
    }


TARGETS = [
    "volunteer-teams",
    "volunteer-teams/members",
    "activities",
    "partner-organisations",
    "resources",
    "projects",
    "councils",
    "councils/agenda-items",
    "needs",
    "activities/signup",
    "activities/signup(manager)",
    "activities/withdraw",
    "activities/withdraw(manager)",
    "activities/check-in",
    "activities/check-in(manager)",
    "activities/check-out",
    "activities/check-out(manager)",
    "activities/complete",
    "activities/cancel",
    "councils/fix-agenda",
    "councils/evaluate",
    "councils/hold",
    "needs/accept",
    "needs/assign",
    "needs/offer",
    "needs/claim",
    "needs/start",
    "needs/resolve",
    "needs/reject",
    "needs/escalate",
    "needs/rate",
    "rectifications/done",
    "rectifications/accept",
    "rectifications/return",
]

# Each action's input fields that its valid body leaves out.
EXTRA_FIELDS = {
    "activities/signup": ["membership"],
    "activities/withdraw": ["membership"],
    "activities/check-in": ["membership", "at"],
    "activities/check-out": ["membership", "at"],
    "activities/complete": ["note"],
    "activities/cancel": ["note"],
    "councils/fix-agenda": ["note"],
    "councils/hold": ["note"],
    "needs/assign": ["department", "partner_unit"],
    "needs/claim": ["note"],
    "needs/rate": [],
    "rectifications/accept": ["note"],
}


def persona(w: SimpleNamespace, t: SimpleNamespace, name: str) -> Any:
    return getattr(t, name, None) or getattr(w, name)


def test_every_target_answers_its_valid_body(world, things):
    """The bodies are right: each target succeeds with its valid body, so junk is judged
    against a request that reaches the service."""
    table = targets(world, things)
    assert sorted(table) == sorted(TARGETS)
    for label in TARGETS:
        path, who, body = table[label]
        c = client(persona(world, things, who))
        r = in_savepoint(lambda c=c, path=path, body=body: c.post(path, body, format="json"))
        assert r.status_code in (200, 201), (label, r.status_code, r.content[:400])


def _fields(label: str, body: dict[str, Any]) -> list[str]:
    base = label.split("(")[0]
    return list(dict.fromkeys([*body, *EXTRA_FIELDS.get(base, []), "id", "unknown_field"]))


@pytest.mark.parametrize("label", TARGETS)
def test_junk_in_any_field_never_gives_a_500(world, things, label):
    path, who, body = targets(world, things)[label]
    c = client(persona(world, things, who))
    for name in _fields(label, body):
        for value in JUNK_FIELD_VALUES:
            r = in_savepoint(
                lambda name=name, value=value: c.post(path, {**body, name: value}, format="json")
            )
            assert_json_error_or_success(r)
            assert r.status_code < 500
            if r.status_code == 400:
                assert isinstance(r.json(), dict), (name, value, r.json())


def test_the_evaluations_list_takes_junk_items(world, things):
    path, who, _body = targets(world, things)["councils/evaluate"]
    c = client(persona(world, things, who))
    item = things.past_item.pk
    for value in JUNK_FIELD_VALUES:
        for entry in (
            {"item": value, "score": 3, "struck_off": True},
            {"item": item, "score": value, "struck_off": True},
            {"item": item, "score": 3, "struck_off": value},
            {"item": item, "score": 3, "struck_off": False, "reason": value},
            value,
        ):
            r = in_savepoint(
                lambda entry=entry: c.post(path, {"evaluations": [entry]}, format="json")
            )
            assert_json_error_or_success(r)
    # The same item twice, and many items.
    twice = [{"item": item, "score": 3, "struck_off": True}] * 2
    assert c.post(path, {"evaluations": twice}, format="json").status_code == 400
    many = [{"item": i, "score": 3, "struck_off": True} for i in range(1, 500)]
    assert in_savepoint(lambda: c.post(path, {"evaluations": many}, format="json")).status_code == (
        400
    )


def test_a_resolve_claim_with_junk_never_gives_a_500(world, things):
    path, who, body = targets(world, things)["needs/resolve"]
    c = client(persona(world, things, who))
    for key in ("resident", "rule", "points", "note", "unknown"):
        for value in JUNK_FIELD_VALUES:
            claim = {**body["claim"], key: value}
            r = in_savepoint(
                lambda claim=claim: c.post(path, {**body, "claim": claim}, format="json")
            )
            assert_json_error_or_success(r)


# ---------------------------------------------------------------------------- malformed

MALFORMED = [
    ("{bad", "application/json"),
    ('{"a": 1,}', "application/json"),
    ("[1, 2]", "application/json"),
    ('"a string"', "application/json"),
    ("123", "application/json"),
    ("null", "application/json"),
    ("", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    ('{"name": NaN}', "application/json"),
    ("[" * 100_000, "application/json"),
    ("<xml/>", "application/xml"),
    ("name=x", "text/plain"),
    (b"--x\r\njunk", "multipart/form-data; boundary=x"),
    (b"junk", "multipart/form-data"),
]


# Steps that take no body: they never parse one, so junk sent with them is not read (2xx or
# a 4xx of the step itself) unless an Idempotency-Key makes the body part of the request's
# fingerprint.
NO_BODY = {"activities/complete", "activities/cancel", "councils/fix-agenda", "councils/hold"}


@pytest.mark.parametrize("label", TARGETS)
def test_a_malformed_body_is_a_json_4xx(world, things, label):
    path, who, _body = targets(world, things)[label]
    c = client(persona(world, things, who))
    for body, content_type in MALFORMED:
        for headers in ({}, {"HTTP_IDEMPOTENCY_KEY": "k-1"}):
            r = in_savepoint(
                lambda body=body, content_type=content_type, headers=headers: c.post(
                    path, body, content_type=content_type, **headers
                )
            )
            assert_json_error_or_success(r)
            if label in NO_BODY and not headers:
                continue
            if content_type in ("application/xml", "text/plain"):
                assert r.status_code == 415, (label, content_type, r.content[:200])
            elif isinstance(body, str) and body.startswith(("{bad", '{"a": 1,}', "[[")):
                assert r.status_code == 400, (label, r.content[:200])
                assert "detail" in r.json()
            elif content_type == "application/json" and body not in ("", "null", "{}"):
                # Well-formed but not an object (a list, a string, a number): refused.
                assert label in NO_BODY or 400 <= r.status_code < 500, (
                    label,
                    body[:20],
                    r.content[:200],
                )


def test_a_need_photo_that_is_not_an_image_is_a_json_400(world, things):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client(world.worker1)
    path = f"{url('needs', things.needs['new'].pk)}photos/"
    for image in (
        SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg"),
        SimpleUploadedFile("a.jpg", b"", content_type="image/jpeg"),
        "text",
    ):
        r = in_savepoint(lambda image=image: c.post(path, {"image": image}, format="multipart"))
        assert r.status_code == 400, r.content[:200]
        assert "image" in r.json()
    r = in_savepoint(lambda: c.post(path, {"image": "x"}, format="json"))
    assert r.status_code == 415


# ---------------------------------------------------------------------------- hypothesis

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.dates().map(str)
    | st.datetimes().map(lambda d: d.isoformat())
    | st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "2026Q4"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.parametrize("label", TARGETS)
def test_generated_bodies_never_give_a_500(world, things, label):
    path, who, body = targets(world, things)[label]
    keys = _fields(label, body)
    c = client(persona(world, things, who))

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=True,
    )
    @given(
        changes=st.dictionaries(
            st.sampled_from(keys) | st.text(max_size=8), json_values, max_size=len(keys)
        ),
        keep=st.booleans(),
        key=st.none() | st.text(max_size=20),
    )
    def check(changes: dict[str, Any], keep: bool, key: str | None) -> None:
        sent = {**body, **changes} if keep else changes
        headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
        r = in_savepoint(lambda: c.post(path, sent, format="json", **headers))
        assert_json_error_or_success(r)

    check()


def test_the_new_routes_are_under_the_api(world, things):
    """A guard on the tables above: every path is an API path that resolves."""
    for label in LISTS:
        assert LISTS[label](world, things).startswith(API)
    for path, _who, _body in targets(world, things).values():
        assert resolve(path)
    assert Council.objects.filter(pk=things.fixed_council.pk, status="agenda_fixed").exists()
