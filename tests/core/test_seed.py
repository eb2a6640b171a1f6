"""The demo data (seed_demo) and the scale builder (seed_scale)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.validators import id_birth_date, id_gender, validate_id_number
from demo import seed as demo
from demo.parts.residents import ensure_tags
from demo.scale import build_scale
from grids.models import Community, Grid, GridAssignment, GridWorker, PartnerUnit, Street
from residents.models import Household, Resident, Tag, Visit
from tests import demo_snapshot

pytestmark = pytest.mark.django_db

DEMO_USERS = (
    "admin",
    "committee",
    "worker",
    "worker2",
    "partner",
    "leader",
    "inspector",
    "resident",
)


def model_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def login(username: str) -> APIClient:
    """A client authenticated the way a phone is: a token from the demo password."""
    client = APIClient()
    r = client.post(
        "/api/v1/auth/token/", {"username": username, "password": settings.DEMO_PASSWORD}
    )
    assert r.status_code == 200, (username, r.content)
    client.credentials(HTTP_AUTHORIZATION=f"Token {r.json()['token']}")
    return client


def all_pages(client: APIClient, url: str) -> list[dict]:
    rows: list[dict] = []
    while url:
        r = client.get(url)
        assert r.status_code == 200, (url, r.content)
        rows += r.json()["results"]
        url = r.json()["next"]
    return rows


@pytest.fixture
def seeded() -> demo.SeedReport:
    """seed_demo()'s data: built once per test process, copied in after that."""
    return demo_snapshot.seed_demo()


def grid_of(community: str, code: str) -> Grid:
    return Grid.objects.get(community__code=community, code=code)


# ============================================================================ seed_demo


def test_seed_demo_builds_the_street_of_the_articles(seeded):
    street = Street.objects.get(code="shabei", name="沙北街道")
    taishan = Community.objects.get(code="taishan", street=street, name="泰山社区")
    xzz = Community.objects.get(code="xzz", street=street, name="新庄赵村", kind="village")
    assert set(xzz.grids.values_list("code", flat=True)) == {f"G{i}" for i in range(1, 8)}
    # every village grid is led by a party-member grid worker
    for grid in xzz.grids.select_related("leader"):
        assert grid.leader is not None and grid.leader.is_party_member
    kinds = set(taishan.grids.values_list("kind", flat=True))
    assert kinds == {Grid.Kind.RESIDENTIAL, Grid.Kind.DEDICATED}
    r1 = grid_of("taishan", "R1")
    assert r1.leader.name == "史莺歌"
    qi = GridWorker.objects.get(name="齐香萍")
    assert qi.kind == GridWorker.Kind.PART_TIME
    assert GridAssignment.objects.current().filter(worker=qi, grid=r1).exists()
    assert {"黄山小区", "天山小区", "泰山小区"} <= set(
        Household.objects.filter(grid__community=taishan).values_list("complex", flat=True)
    )
    assert set(PartnerUnit.objects.filter(communities=taishan).values_list("name", flat=True)) >= {
        "市委办",
        "市人大",
        "市政协",
    }
    assert taishan.committee.filter(user__first_name="赵辉").exists()
    assert 200 <= Resident.objects.count() <= 1000
    assert set(Visit.objects.values_list("method", flat=True)) == set(Visit.Method.values)
    assert Tag.objects.get(name="独居老人").visit_every_days == 7
    assert Tag.objects.get(name="残疾人").visit_every_days == 30
    assert Tag.objects.get(name="困难家庭").visit_every_days == 30
    zhang = Resident.objects.get(name="张桂兰")
    assert list(zhang.tags.values_list("name", flat=True)) == ["独居老人"]
    assert zhang.household.residents.count() == 1  # she lives alone
    assert seeded.created_anything


def test_seed_demo_twice_creates_nothing_new(seeded):
    before = model_counts()
    second = demo.seed_demo()
    assert not second.created_anything, second.created
    assert model_counts() == before


def test_seed_demo_command_prints_the_logins_and_is_idempotent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    before = model_counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert model_counts() == before
    text = out.getvalue()
    assert "nothing new" in text
    for username in DEMO_USERS:
        assert re.search(rf"^\s+{username}\s+\w+\s+{re.escape(settings.DEMO_PASSWORD)}", text, re.M)


def test_rerun_resets_the_demo_passwords(seeded):
    user = get_user_model().objects.get(username="worker")
    user.set_password("forgotten")
    user.save()
    demo.seed_demo()
    user.refresh_from_db()
    assert user.check_password(settings.DEMO_PASSWORD)


def test_demo_users_have_their_roles(seeded):
    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.street_posts.filter(street__code="shabei").exists()
    assert admin.groups.filter(name="street_admin").exists()
    for username in ("committee", "worker", "worker2"):
        assert User.objects.get(username=username).is_staff
    for username in ("partner", "leader", "resident"):
        assert not User.objects.get(username=username).is_staff
    assert User.objects.get(username="leader").groups.filter(name="team_leader").exists()
    assert User.objects.get(username="resident").resident.household.grid == grid_of("xzz", "G1")


def test_only_the_demo_logins_can_log_in(seeded):
    for user in get_user_model().objects.exclude(username__in=DEMO_USERS):
        assert not user.has_usable_password(), user.username


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_demo_user_logs_in_with_the_demo_password(seeded, username):
    login(username)  # asserts the token endpoint answers 200
    assert get_user_model().objects.get(username=username).check_password(settings.DEMO_PASSWORD)


def test_worker_sees_only_the_households_of_grid_g1(seeded):
    rows = all_pages(login("worker"), "/api/v1/households/")
    g1 = grid_of("xzz", "G1")
    assert {h["grid"] for h in rows} == {g1.pk}
    assert len(rows) == Household.objects.filter(grid=g1).count()


def test_worker2_sees_only_another_grid(seeded):
    rows = all_pages(login("worker2"), "/api/v1/households/")
    assert {h["grid"] for h in rows} == {grid_of("xzz", "G2").pk}


def test_committee_sees_the_seven_grids_of_the_village(seeded):
    client = login("committee")
    grids = all_pages(client, "/api/v1/grids/")
    assert sorted(g["code"] for g in grids) == [f"G{i}" for i in range(1, 8)]
    households = all_pages(client, "/api/v1/households/")
    assert len(households) == Household.objects.filter(grid__community__code="xzz").count()


def test_admin_sees_the_whole_street(seeded):
    households = all_pages(login("admin"), "/api/v1/households/")
    assert (
        len(households) == Household.objects.filter(grid__community__street__code="shabei").count()
    )


def test_resident_sees_only_themselves(seeded):
    rows = all_pages(login("resident"), "/api/v1/residents/")
    assert [r["name"] for r in rows] == ["赵银名"]


def test_partner_sees_its_own_unit(seeded):
    rows = all_pages(login("partner"), "/api/v1/partner-units/")
    assert [u["name"] for u in rows] == ["市委办"]


def test_team_leader_sees_no_households(seeded):
    assert login("leader").get("/api/v1/households/").status_code == 403


def test_demo_id_numbers_are_valid_and_agree_with_birth_date_and_gender(seeded):
    for r in Resident.objects.all():
        validate_id_number(r.id_number)
        assert id_birth_date(r.id_number) == r.birth_date
        assert id_gender(r.id_number) == r.gender
        r.full_clean()  # phone numbers too
    prefixes = {
        code: set(
            Resident.objects.filter(household__grid__community__code=code).values_list(
                "id_number", flat=True
            )
        )
        for code in ("taishan", "xzz")
    }
    assert {n[:6] for n in prefixes["taishan"]} == {"411103"}
    assert {n[:6] for n in prefixes["xzz"]} == {"411104"}


def test_people_living_alone_are_due_for_their_worker(seeded):
    rows = all_pages(login("worker"), "/api/v1/visits/due/")
    due = {r["name"]: r for r in rows}
    assert due["赵桂英"]["status"] == "never_visited"  # 独居老人, never visited
    assert due["赵福来"]["status"] == "overdue"  # weekly, last seen 11 days ago
    assert "李凤兰" not in due  # weekly, visited two days ago
    g1 = grid_of("xzz", "G1")
    assert {r["grid"] for r in rows} == {g1.pk}
    # every weekly resident of G1 is either in the list or was visited in the last week
    alone = Resident.objects.filter(household__grid=g1, tags__name="独居老人")
    assert alone.count() >= 2
    names_due = set(due)
    for r in alone:
        assert r.name in names_due or r.household.visits.exists()


# ============================================================================ seed_scale


def test_seed_scale_builds_what_it_says():
    report = build_scale(residents=3000, grid_size=(900, 1000), street_code="t3k", seed=3)
    street = Street.objects.get(code="t3k")
    residents = Resident.objects.filter(household__grid__community__street=street)
    grids = Grid.objects.filter(community__street=street)
    households = Household.objects.filter(grid__community__street=street)
    assert residents.count() == report.residents == 3000
    assert households.count() == report.households
    assert 2.5 <= report.residents / report.households <= 3.1
    assert grids.count() == report.grids == report.workers == 4  # 900–1000 per grid
    assert Community.objects.filter(street=street).count() == report.communities == 1
    for grid in grids:
        assert grid.leader is not None
        assert GridAssignment.objects.current().filter(grid=grid, worker=grid.leader).exists()
        assert 900 <= Resident.objects.filter(household__grid=grid).count() <= 1000 or (
            grid == grids.last()
        )
    assert households.filter(head__isnull=True).count() == 0
    assert households.exclude(head__household_id=models_F("id")).count() == 0
    numbers = list(residents.values_list("id_number", flat=True))
    assert len(set(numbers)) == len(numbers)
    for r in residents:
        validate_id_number(r.id_number)
        assert (id_birth_date(r.id_number), id_gender(r.id_number)) == (r.birth_date, r.gender)
    tagged = residents.filter(tags__isnull=False).distinct().count()
    assert tagged == report.tagged_residents
    assert 0.02 <= tagged / 3000 <= 0.09
    assert Visit.objects.filter(household__grid__community__street=street).count() == report.visits
    assert report.visits > 0
    assert (
        Resident.tags.through.objects.filter(resident__in=residents).count() == report.resident_tags
    )


def models_F(name: str):  # noqa: ANN201 - tiny alias, keeps the assertion readable
    from django.db.models import F

    return F(name)


def test_seed_scale_workers_see_due_visits_of_their_grid_only():
    build_scale(residents=2000, street_code="tdue", seed=5)
    grid = Grid.objects.filter(community__street__code="tdue").first()
    client = APIClient()
    client.force_authenticate(grid.leader.user)
    r = client.get("/api/v1/visits/due/")
    assert r.status_code == 200
    assert r.json()["count"] > 0
    assert {row["grid"] for row in r.json()["results"]} == {grid.pk}


def test_seed_scale_next_to_the_demo_keeps_id_numbers_unique(seeded):
    build_scale(residents=2500, street_code="tmix", seed=1)
    build_scale(residents=2500, street_code="tmix2", seed=1)  # same seed, other region
    numbers = list(Resident.objects.values_list("id_number", flat=True))
    assert len(numbers) == len(set(numbers))


def write_statements(residents: int, code: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        build_scale(residents=residents, street_code=code, seed=2)
    # An executemany is logged once, as "<n> times: INSERT …"; a COPY as "COPY … FROM STDIN".
    write = re.compile(r"^\s*(\d+ times: )?(INSERT|COPY)\b", re.I)
    return [q["sql"] for q in ctx.captured_queries if write.match(q["sql"])]


def test_seed_scale_writes_in_a_bounded_number_of_statements():
    ensure_tags()  # made once by whichever build comes first
    small = write_statements(2000, "tq2k")
    large = write_statements(6000, "tq6k")
    # 3x the residents: the same statements (one per table), not 3x as many
    assert len(large) == len(small), (len(small), len(large))
    for table in (
        "residents_household",
        "residents_resident",
        "residents_resident_tags",
        "residents_visit",
    ):
        assert sum(f'"{table}" (' in sql for sql in large) == 1, table
    assert len(large) <= 12


def test_seed_scale_refuses_a_street_code_in_use():
    call_command("seed_scale", "--residents", "50", "--street-code", "taken", stdout=StringIO())
    with pytest.raises(CommandError, match="already used"):
        call_command("seed_scale", "--residents", "50", "--street-code", "taken")


def test_seed_scale_command_prints_what_it_built():
    out = StringIO()
    call_command(
        "seed_scale",
        "--residents",
        "1200",
        "--grid-size",
        "500-600",
        "--street-code",
        "tcmd",
        stdout=out,
    )
    text = out.getvalue()
    assert "1,200 residents" in text and "built in" in text
    assert Grid.objects.filter(community__street__code="tcmd").count() in (2, 3)


def test_seed_demo_gives_the_village_the_twelve_rules_and_zhao_yinming_his_five_points(seeded):
    from django.utils import timezone

    from points.models import Claim, Rule
    from points.selectors.rulebooks import in_force_q
    from points.services.ledger import verify_ledger

    # The village's 12 rules are v1 of its rule book, and v2 (from the next quarter) is a
    # copy with one change (issue 15): 12 rules in force today either way.
    assert Rule.objects.filter(community__code="xzz", book__version=1).count() == 12
    assert Rule.objects.filter(community__code="xzz", book__version=2).count() == 12
    assert (
        Rule.objects.filter(in_force_q(timezone.localdate()), community__code="xzz").count() == 12
    )
    assert Rule.objects.filter(street__code="shabei", community=None).count() == 12
    zhao = Resident.objects.get(user__username="resident")
    assert zhao.name == "赵银名"
    assert zhao.point_account.balance == 5
    assert Claim.objects.filter(status=Claim.Status.SUBMITTED).exists()  # the approval queue
    assert Claim.objects.filter(likely_duplicate=True, status=Claim.Status.REJECTED).exists()
    assert verify_ledger().ok
