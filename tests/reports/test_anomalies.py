"""The points anomaly report (积分异常核查, issue 15): reports.anomalies, its API
(reports/points-anomalies/), its admin page, and the absences (外出登记) it reads.

The planted quarter (2026Q4, community1 新庄赵村 of the shared `world`), with the thresholds of
`LIMITS`: factor 3 × the median, at least 10 claims; 3 claims on one day; pairs with 4 approvals
within 30 s; reversals of 20 points. Every rule gives +1 but `big` (up to +30) and `fine`
(-20). Rejected claims are left out everywhere.

    submitter  claims (non-rejected)                                        count  points
    A 赵一     spouse (same household)            → own_household            4      4
               neighbour (other household)          near miss
               R9 on 11-30, last day of 11-01..11-30 away → while_away
               R9 on 12-01, the day after             near miss
    B 钱二     themself                            → own_household            4      4
               R10 on 12-01, first day of an open absence → while_away
               R10 on 11-30, the day before           near miss; one plain claim
    C 孙三     R5 ×2 on 11-05 (with D's, 3)         → same_day_burst          4      4
               R6 ×2 on 11-06                         near miss (2 < 3)
    D 李四     R5 ×1 on 11-05                       → same_day_burst          4      4
               R8 ×2 on 11-07 + 1 rejected            near miss (rejected left out); one plain
    E 周五     4 approved by the committee 10, 10, 20, 30 s after submission
                                                  → quick_bulk_approval      4      4
    F 吴六     4 approved 5, 5, 5, 31 s after submission: 3 quick, near miss  4      4
    G 郑七     big 25 approved, reversed (-25)      → large_reversal          4      65
               fine 20 approved, reversed (+20)     → large_reversal
               big 19 approved, reversed (-19)        near miss; one plain claim
    H 王八     14 claims                            → worker_volume (14 ≥ 3 × 4)   14  14
    N 冯九     11 claims                              near miss (11 < 12)     11     11

Counts sorted 4 4 4 4 4 4 4 11 14: median 4 claims; points 4 4 4 4 4 4 11 14 65: median 4.
G's 65 points pass 3 × 4 but G has 4 claims, under the minimum of 10: not flagged.
Other approvals come two hours after submission. Noise outside the report: three claims for
one resident on 09-30 (2026Q3), and a burst of three in community3 (another street), which
only its own committee and street see.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from grids.models import Grid
from points.models import Claim, Entry, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from reports import anomalies
from residents.models import Absence, Resident
from residents.services import absences as absences_services
from tests import factories as f
from tests.api_helpers import fresh

BJ = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/reports/points-anomalies/"
ADMIN_URL = "/admin/points/anomalies/"
ABSENCES = "/api/v1/absences/"

LIMITS = {
    "POINTS_ANOMALY_WORKER_MEDIAN_FACTOR": 3.0,
    "POINTS_ANOMALY_WORKER_MIN_CLAIMS": 10,
    "POINTS_ANOMALY_SAME_DAY_CLAIMS": 3,
    "POINTS_ANOMALY_QUICK_SECONDS": 30,
    "POINTS_ANOMALY_PAIR_REPEATS": 4,
    "POINTS_ANOMALY_REVERSAL_POINTS": 20,
}


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


@pytest.fixture
def frozen() -> Iterator[None]:
    """Stand still on 2026-12-20, 10:00 Beijing time: 2026Q4 is the current quarter."""
    with time_machine.travel(dt.datetime(2026, 12, 20, 10, tzinfo=BJ), tick=False):
        yield


@pytest.fixture
def limits(settings: Any) -> None:
    for name, value in LIMITS.items():
        setattr(settings, name, value)


class Plant:
    """Writes the planted quarter through the services, then sets the decision times."""

    def __init__(self, w: SimpleNamespace) -> None:
        self.w = w
        self.rules = {
            code: Rule.objects.create(
                community=w.community1, code=code, name=name, category=cat, points=pts, up_to=up
            )
            for code, name, cat, pts, up in [
                ("clean", "清扫责任区", "reward", 1, False),
                ("big", "见义勇为", "reward", 30, True),
                ("fine", "违反村规", "deduction", 20, False),
            ]
        }

    def worker(self, username: str, name: str, grid: Grid) -> Any:
        user = f.UserFactory(username=username, groups=["grid_worker"])
        worker = f.GridWorkerFactory(user=user, community=grid.community, name=name)
        f.GridAssignmentFactory(worker=worker, grid=grid, start_date=d(1, 1, 2024))
        return user

    def resident(self, grid: Grid, **kwargs: Any) -> Resident:
        if "household" not in kwargs:
            kwargs["household"] = f.HouseholdFactory(grid=grid)
        return cast(Resident, f.ResidentFactory(**kwargs))

    def claim(
        self, user: Any, resident: Resident, day: dt.date, rule: str = "clean", points: int = 0
    ) -> Claim:
        return claims_services.submit_claim(
            user=user,
            resident=resident,
            rule=self.rules[rule],
            points=points or None,
            occurred_on=day,
        )

    def approve(self, claim: Claim, seconds: float = 2 * 3600) -> Claim:
        claims_services.approve_claim(claim=claim, approver=self.w.committee1)
        Claim.objects.filter(pk=claim.pk).update(
            decided_at=F("submitted_at") + dt.timedelta(seconds=seconds)
        )
        return claim

    def reverse(self, claim: Claim) -> Entry:
        entry = Entry.objects.get(source_type="claim", source_id=claim.pk)
        return ledger_services.reverse_entry(entry=entry, user=self.w.committee1, reason="录入错误")


@pytest.fixture
def planted(world: SimpleNamespace, frozen: None, limits: None) -> SimpleNamespace:
    w = world
    p = Plant(w)
    g1, g2 = w.grid1, w.grid2
    a = p.worker("wa", "赵一", g1)
    b = p.worker("wb", "钱二", g1)
    c = p.worker("wc", "孙三", g2)
    dd = p.worker("wd", "李四", g2)
    e = p.worker("we", "周五", g1)
    ff = p.worker("wf", "吴六", g1)
    g = p.worker("wg", "郑七", g2)
    h = p.worker("wh", "王八", g1)
    n = p.worker("wn", "冯九", g2)
    x = SimpleNamespace(world=w, plant=p, users={"A": a, "B": b, "C": c, "D": dd, "E": e})
    x.users.update(F=ff, G=g, H=h, N=n)

    # A: their own household's member; a neighbour; R9 away 11-01..11-30.
    home_a = f.HouseholdFactory(grid=g1)
    p.resident(g1, household=home_a, name="赵一", user=a)
    spouse = p.resident(g1, household=home_a, name="钱秀兰")
    x.own_spouse = p.claim(a, spouse, d(11, 3))
    p.claim(a, p.resident(g1, name="邻居"), d(11, 3))
    r9 = p.resident(g1, name="赵外出")
    absences_services.record_absence(
        user=w.worker1.user,
        resident=r9,
        starts_on=d(11, 1),
        ends_on=d(11, 30),
        reason="migrant_work",
    )
    x.away_last_day = p.claim(a, r9, d(11, 30))
    p.claim(a, r9, d(12, 1))

    # B: themself; R10 away from 12-01 with no end yet.
    me_b = p.resident(g1, name="钱二", user=b)
    x.own_self = p.claim(b, me_b, d(11, 4))
    r10 = p.resident(g1, name="钱住院")
    absences_services.record_absence(
        user=b, resident=r10, starts_on=d(12, 1), ends_on=None, reason="hospital"
    )
    x.away_open = p.claim(b, r10, d(12, 1))
    p.claim(b, r10, d(11, 30))
    p.claim(b, p.resident(g1), d(10, 9))

    # C and D: R5 three times on 11-05; R6 twice on 11-06; R8 twice and a rejected one on 11-07.
    r5, r6, r8 = p.resident(g2, name="孙五"), p.resident(g2), p.resident(g2)
    x.burst = [p.claim(c, r5, d(11, 5)), p.claim(c, r5, d(11, 5)), p.claim(dd, r5, d(11, 5))]
    p.claim(c, r6, d(11, 6))
    p.claim(c, r6, d(11, 6))
    p.claim(dd, r8, d(11, 7))
    p.claim(dd, r8, d(11, 7))
    rejected = p.claim(dd, r8, d(11, 7))
    claims_services.reject_claim(claim=rejected, approver=w.committee1, reason="重复申报")
    p.claim(dd, p.resident(g2), d(10, 20))

    # E: four approvals within 30 s; F: three within, one at 31 s.
    x.quick = [p.approve(p.claim(e, p.resident(g1), d(10, 10)), s) for s in (10, 10, 20, 30)]
    for s in (5, 5, 5, 31):
        p.approve(p.claim(ff, p.resident(g1), d(10, 11)), s)

    # G: reversals of 25 and (a deduction's) 20 points; a reversal of 19.
    x.reversed_big = p.approve(p.claim(g, p.resident(g2), d(10, 12), "big", 25))
    x.reversed_fine = p.approve(p.claim(g, p.resident(g2), d(10, 13), "fine"))
    x.reversed_small = p.approve(p.claim(g, p.resident(g2), d(10, 14), "big", 19))
    x.reversal_big = p.reverse(x.reversed_big)
    x.reversal_fine = p.reverse(x.reversed_fine)
    p.reverse(x.reversed_small)
    p.claim(g, p.resident(g2), d(10, 15))

    # H: 14 claims; N: 11.
    x.heavy = [p.claim(h, p.resident(g1), d(10, 1 + i)) for i in range(14)]
    for i in range(11):
        p.claim(n, p.resident(g2), d(10, 1 + i))

    # Noise: 2026Q3, and community3 (street2).
    r11 = p.resident(g1)
    for _ in range(3):
        p.claim(w.worker1.user, r11, d(9, 30))
    other = Rule.objects.create(
        community=w.community3, code="clean", name="清扫", category="reward", points=1
    )
    x.other_burst = [
        claims_services.submit_claim(
            user=w.worker4.user, resident=w.resident4, rule=other, occurred_on=d(11, 5)
        )
        for _ in range(3)
    ]
    return x


def expected(x: SimpleNamespace) -> set[tuple[str, int]]:
    """Every planted case of community1, as (kind, claim id)."""
    return {
        *(("worker_volume", c.pk) for c in x.heavy),
        ("own_household", x.own_spouse.pk),
        ("own_household", x.own_self.pk),
        *(("same_day_burst", c.pk) for c in x.burst),
        *(("quick_bulk_approval", c.pk) for c in x.quick),
        ("while_away", x.away_last_day.pk),
        ("while_away", x.away_open.pk),
        ("large_reversal", x.reversed_big.pk),
        ("large_reversal", x.reversed_fine.pk),
    }


def pairs(flags: list[anomalies.Flag]) -> set[tuple[str, int]]:
    return {(flag.kind, pk) for flag in flags for pk in flag.claims}


def report(user: Any, period: str = "2026Q4", **kwargs: Any) -> list[anomalies.Flag]:
    return anomalies.points_anomalies(fresh(user), period, **kwargs)


# ============================================================================ the selector


def test_the_report_finds_every_planted_case_and_nothing_else(planted: SimpleNamespace) -> None:
    flags = report(planted.world.committee1)
    assert pairs(flags) == expected(planted)
    by_kind = {k: [fl for fl in flags if fl.kind == k] for k in anomalies.KINDS}
    # One flag per worker, per resident and day, per pair, per claim, per reversal entry.
    assert [len(by_kind[k]) for k in anomalies.KINDS] == [1, 2, 1, 1, 2, 2]
    assert {fl.entry for fl in by_kind["large_reversal"]} == {
        planted.reversal_big.pk,
        planted.reversal_fine.pk,
    }
    assert sorted(fl.points or 0 for fl in by_kind["large_reversal"]) == [-25, 20]
    assert [fl.kind for fl in flags] == sorted((fl.kind for fl in flags), key=anomalies.KINDS.index)


def test_each_flag_says_who_and_why_with_the_figures(planted: SimpleNamespace) -> None:
    with translation.override("zh-hans"):  # whatever language an earlier test left on
        flags = {(fl.kind, fl.claims[0]): fl for fl in report(planted.world.committee1)}
    users = planted.users

    volume = flags[("worker_volume", planted.heavy[0].pk)]
    assert (volume.worker, volume.worker_name, volume.points) == (users["H"].pk, "王八", 14)
    assert volume.figures["median_claims"] == 4 and volume.figures["submitters"] == 9
    assert volume.why == (
        "王八本季度申报 14 条（14 分），社区 9 名申报人的中位数为 4 条（4 分），"
        "是中位数的 3.5 倍（3 倍起标记）。"
    )

    spouse = flags[("own_household", planted.own_spouse.pk)]
    assert (spouse.resident_name, spouse.worker_name, spouse.community_name) == (
        "钱秀兰",
        "赵一",
        "新庄赵村",
    )
    assert "同一户" in spouse.why and "钱秀兰" in spouse.why
    assert "本人" in flags[("own_household", planted.own_self.pk)].why

    burst = flags[("same_day_burst", planted.burst[0].pk)]
    assert (burst.date, burst.points, burst.worker) == (d(11, 5), 3, None)
    assert "2026-11-05" in burst.why and "3 条" in burst.why

    quick = flags[("quick_bulk_approval", planted.quick[0].pk)]
    assert (quick.worker, quick.approver) == (users["E"].pk, planted.world.committee1.pk)
    assert quick.figures["fastest_seconds"] == 10 and quick.figures["quick"] == 4
    assert "30 秒内" in quick.why and "周五" in quick.why

    away = flags[("while_away", planted.away_last_day.pk)]
    assert "外出务工" in away.why and "2026-11-01 至 2026-11-30" in away.why
    assert "至今" in flags[("while_away", planted.away_open.pk)].why

    reversal = flags[("large_reversal", planted.reversed_big.pk)]
    assert (reversal.worker, reversal.entry) == (users["G"].pk, planted.reversal_big.pk)
    assert "-25" in reversal.why and "录入错误" in reversal.why


@pytest.mark.parametrize(
    ("setting", "value", "added"),
    [
        ("POINTS_ANOMALY_SAME_DAY_CLAIMS", 2, "same_day_pairs"),
        ("POINTS_ANOMALY_PAIR_REPEATS", 3, "pair_f"),
        ("POINTS_ANOMALY_REVERSAL_POINTS", 19, "small_reversal"),
        ("POINTS_ANOMALY_WORKER_MEDIAN_FACTOR", 2.5, "worker_n"),
        ("POINTS_ANOMALY_QUICK_SECONDS", 31, "pair_f"),
    ],
)
def test_the_thresholds_are_settings(
    planted: SimpleNamespace, settings: Any, setting: str, value: Any, added: str
) -> None:
    setattr(settings, setting, value)
    flags = pairs(report(planted.world.committee1))
    new = flags - expected(planted)
    assert expected(planted) <= flags
    claims = Claim.objects.exclude(status="rejected")
    if added == "same_day_pairs":  # R6 twice on 11-06, R8 twice on 11-07 (the rejected left out)
        kinds = {k for k, _pk in new}
        assert kinds == {"same_day_burst"} and len(new) == 4
    elif added == "pair_f":
        f_quick = claims.filter(submitted_by=planted.users["F"])
        wanted = 4 if setting == "POINTS_ANOMALY_QUICK_SECONDS" else 3
        assert {pk for _k, pk in new} <= set(f_quick.values_list("pk", flat=True))
        assert {k for k, _pk in new} == {"quick_bulk_approval"} and len(new) == wanted
    elif added == "small_reversal":
        assert new == {("large_reversal", planted.reversed_small.pk)}
    else:
        n_claims = set(claims.filter(submitted_by=planted.users["N"]).values_list("pk", flat=True))
        assert new == {("worker_volume", pk) for pk in n_claims}


def test_the_minimum_number_of_claims_keeps_a_few_large_claims_out(
    planted: SimpleNamespace, settings: Any
) -> None:
    """G's 65 points are 16 times the median points, but G made only 4 claims."""
    settings.POINTS_ANOMALY_WORKER_MIN_CLAIMS = 4
    volume = {pk for k, pk in pairs(report(planted.world.committee1)) if k == "worker_volume"}
    g_claims = Claim.objects.filter(submitted_by=planted.users["G"]).values_list("pk", flat=True)
    assert volume == {c.pk for c in planted.heavy} | set(g_claims)


def test_another_quarter_has_its_own_flags(planted: SimpleNamespace) -> None:
    flags = report(planted.world.committee1, "2026Q3")
    assert {fl.kind for fl in flags} == {"same_day_burst"}
    assert len(flags) == 1 and flags[0].date == d(9, 30)
    assert report(planted.world.committee1, "2027Q1") == []


def test_each_reader_sees_their_own_area(planted: SimpleNamespace) -> None:
    w = planted.world
    ours = expected(planted)
    theirs = {("same_day_burst", c.pk) for c in planted.other_burst}
    assert pairs(report(w.admin1)) == ours  # street1: community1 (and community2, quiet)
    assert pairs(report(w.committee3)) == theirs
    assert pairs(report(w.admin2)) == theirs
    assert pairs(report(w.superuser)) == ours | theirs
    assert pairs(report(w.superuser, community=w.community3.pk)) == theirs
    # A community outside the reader's area gives nothing; other roles read nothing.
    assert report(w.committee1, community=w.community3) == []
    for user in (w.worker1.user, w.resident_user, w.partner_user, w.stranger):
        assert not anomalies.may_see_anomalies(fresh(user))
        assert report(user) == []


def test_an_inspector_reads_the_community_they_watch(planted: SimpleNamespace) -> None:
    """纪检监督: an inspector seat of community 1 reads its flags, and no other community's."""
    from grids.models import CommitteeMember

    w = planted.world
    user = f.UserFactory(username="inspector", groups=["inspector"])
    CommitteeMember.objects.create(
        user=user, community=w.community1, title="纪检委员", inspector=True
    )
    assert anomalies.may_see_anomalies(fresh(user))
    assert pairs(report(fresh(user))) == expected(planted)
    assert report(fresh(user), community=w.community3) == []


def test_the_query_count_does_not_grow_with_the_data(planted: SimpleNamespace) -> None:
    w, p = planted.world, planted.plant

    def queries() -> int:
        user = fresh(w.committee1)
        anomalies.communities_for(user).exists()  # the user's scope, read once per request
        with CaptureQueriesContext(connection) as ctx:
            anomalies.points_anomalies(user, "2026Q4")
        return len(ctx.captured_queries)

    before = queries()
    assert before <= 14
    # More of everything: workers, claims, and more flags of every kind.
    for i in range(5):
        user = p.worker(f"more{i}", f"网格员{i}", w.grid1)
        home = f.HouseholdFactory(grid=w.grid1)
        p.resident(w.grid1, household=home, user=user)
        p.claim(user, p.resident(w.grid1, household=home), d(10, 2))
        burst = p.resident(w.grid1)
        for _ in range(3):
            p.claim(user, burst, d(10, 3))
        away = p.resident(w.grid1)
        absences_services.record_absence(
            user=user, resident=away, starts_on=d(10, 1), ends_on=d(10, 9), reason="other"
        )
        p.claim(user, away, d(10, 4))
    # The median is now 5 claims: H stays above 3 × 5 with two more.
    for day in (d(10, 20), d(10, 21)):
        p.claim(planted.users["H"], p.resident(w.grid1), day)
    flags = report(w.committee1)
    assert [sum(fl.kind == k for fl in flags) for k in anomalies.KINDS] == [1, 7, 6, 1, 7, 2]
    assert queries() == before


# ============================================================================ the API


def test_the_api_answers_the_flags_in_chinese(planted: SimpleNamespace, client_for) -> None:
    response = client_for(fresh(planted.world.committee1)).get(URL, {"period": "2026Q4"})
    assert response.status_code == 200, response.content
    rows = response.json()
    assert {(r["kind"], pk) for r in rows for pk in r["claims"]} == expected(planted)
    assert set(rows[0]) == {
        "kind", "label", "why", "community", "community_name", "claims", "entry", "resident",
        "resident_name", "worker", "worker_name", "approver", "approver_name", "points", "date",
        "figures", "claim_urls", "entry_url",
    }  # fmt: skip
    first = rows[0]
    assert first["label"] == "申报量远超社区中位数"
    assert first["claim_urls"][0] == f"/admin/points/claim/{first['claims'][0]}/change/"
    reversal = next(r for r in rows if r["kind"] == "large_reversal")
    assert reversal["entry_url"] == f"/admin/points/entry/{reversal['entry']}/change/"
    away = next(r for r in rows if r["kind"] == "while_away")
    assert away["date"] in ("2026-11-30", "2026-12-01") and away["figures"]["reason"]


def test_the_api_narrows_to_a_community_of_the_area(planted: SimpleNamespace, client_for) -> None:
    w = planted.world
    admin = client_for(fresh(w.admin1))
    assert admin.get(URL, {"period": "2026Q4", "community": w.community2.pk}).json() == []
    mine = admin.get(URL, {"period": "2026Q4", "community": w.community1.pk}).json()
    assert len(mine) == len(report(w.admin1))
    outside = admin.get(URL, {"period": "2026Q4", "community": w.community3.pk})
    assert outside.status_code == 404
    assert client_for(fresh(w.committee3)).get(URL, {"period": "2026Q4"}).json()[0]["claims"] == [
        c.pk for c in planted.other_burst
    ]


@pytest.mark.parametrize("persona", ["worker", "resident", "partner", "stranger"])
def test_the_api_refuses_people_who_do_not_run_a_community(
    planted: SimpleNamespace, client_for, persona: str
) -> None:
    w = planted.world
    user = {
        "worker": w.worker1.user,
        "resident": w.resident_user,
        "partner": w.partner_user,
        "stranger": w.stranger,
    }[persona]
    assert client_for(fresh(user)).get(URL).status_code == 403
    assert client_for(None).get(URL).status_code in (401, 403)


def test_a_bad_period_is_a_field_error(world: SimpleNamespace, client_for) -> None:
    response = client_for(fresh(world.committee1)).get(URL, {"period": "2026Q5"})
    assert response.status_code == 400 and "period" in response.json()


def test_the_workbook_has_a_row_per_flag_and_the_thresholds(
    planted: SimpleNamespace, client_for
) -> None:
    response = client_for(fresh(planted.world.committee1)).get(
        URL, {"period": "2026Q4", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert "points-anomalies-2026Q4.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(report(planted.world.committee1)) == 9
    assert rows[0][1] == "申报量远超社区中位数" and rows[0][7] == "王八"
    settings_sheet = {r[0]: r[1] for r in book.worksheets[1].iter_rows(values_only=True) if r}
    assert settings_sheet["POINTS_ANOMALY_PAIR_REPEATS"] == 4


# ============================================================================ the admin page


def test_the_admin_page_lists_the_flags_by_kind_with_links(
    planted: SimpleNamespace, staff_client
) -> None:
    client = staff_client(planted.world.committee1)
    response = client.get(ADMIN_URL, {"period": "2026Q4"})
    assert response.status_code == 200
    html = response.content.decode()
    for kind, pk in expected(planted):
        assert f'href="/admin/points/claim/{pk}/change/"' in html, (kind, pk)
        assert f'id="kind-{kind}"' in html
    assert f'data-entry="{planted.reversal_big.pk}"' in html
    assert html.count('data-test="flag"') == 9
    # The other street's burst is not there.
    assert f"/admin/points/claim/{planted.other_burst[0].pk}/change/" not in html
    # The quarter and community selectors, and the links to it from the claims and quarter pages.
    assert 'name="period"' in html and 'name="community"' in html
    assert 'data-test="anomalies-link"' in client.get("/admin/points/claim/").content.decode()
    period = Claim.objects.get(pk=planted.heavy[0].pk).period
    page = client.get(f"/admin/points/period/{period.pk}/change/").content.decode()
    assert f"{ADMIN_URL}?period=2026Q4" in page


def test_the_admin_page_is_in_chinese_and_keeps_to_the_chosen_community(
    planted: SimpleNamespace, staff_client
) -> None:
    w = planted.world
    client = staff_client(w.admin1)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    html = client.get(ADMIN_URL, {"period": "2026Q4"}).content.decode()
    assert "积分异常核查" in html and "申报量远超社区中位数" in html
    quiet = client.get(ADMIN_URL, {"period": "2026Q4", "community": w.community2.pk})
    assert quiet.content.decode().count('data-test="flag"') == 0


def test_the_admin_page_refuses_a_grid_worker(planted: SimpleNamespace, staff_client) -> None:
    client = staff_client(planted.world.worker1)
    assert client.get(ADMIN_URL).status_code == 403
    assert 'data-test="anomalies-link"' not in client.get("/admin/points/claim/").content.decode()


# ============================================================================ absences


def test_a_grid_worker_records_an_absence_of_their_grid(world: SimpleNamespace, client_for) -> None:
    worker = client_for(fresh(world.worker1))
    body = {"resident": world.resident1.pk, "starts_on": "2026-11-01", "reason": "migrant_work"}
    response = worker.post(ABSENCES, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["recorded_by"] == world.worker1.user.pk
    assert response.json()["ends_on"] is None and response.json()["reason_label"] == "外出务工"
    pk = response.json()["id"]
    back = worker.patch(f"{ABSENCES}{pk}/", {"ends_on": "2026-11-20"}, format="json")
    assert back.status_code == 200 and back.json()["ends_on"] == "2026-11-20"
    wrong = worker.patch(f"{ABSENCES}{pk}/", {"ends_on": "2026-10-20"}, format="json")
    assert wrong.status_code == 400 and "ends_on" in wrong.json()
    # Never deleted (a wrong span is changed): no role may, and the route has no DELETE.
    assert worker.delete(f"{ABSENCES}{pk}/").status_code == 403
    assert client_for(fresh(world.superuser)).delete(f"{ABSENCES}{pk}/").status_code == 405
    assert Absence.objects.filter(pk=pk).exists()
    # Outside the worker's grids: refused.
    outside = {**body, "resident": world.resident2.pk}
    assert worker.post(ABSENCES, outside, format="json").status_code == 403


def test_absences_are_listed_in_scope_and_filtered_by_day(
    world: SimpleNamespace, client_for
) -> None:
    absences_services.record_absence(
        user=world.worker1.user,
        resident=world.resident1,
        starts_on=d(11, 1),
        ends_on=d(11, 30),
        reason="visiting_family",
    )

    def listed(user: Any, **params: Any) -> list[int]:
        response = client_for(fresh(user)).get(ABSENCES, params)
        assert response.status_code == 200, response.content
        return [row["resident"] for row in response.json()["results"]]

    r1 = world.resident1.pk
    assert listed(world.committee1) == [r1]
    assert listed(world.resident_user) == [r1]  # their own
    assert listed(world.worker2) == []  # grid2
    assert listed(world.committee3) == []
    assert listed(world.committee1, on="2026-11-30") == [r1]
    assert listed(world.committee1, on="2026-12-01") == []
    assert client_for(fresh(world.partner_user)).get(ABSENCES).status_code == 403


def test_an_absence_cannot_end_before_it_starts(world: SimpleNamespace) -> None:
    from django.db import IntegrityError, transaction
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        absences_services.record_absence(
            user=world.worker1.user,
            resident=world.resident1,
            starts_on=d(11, 2),
            ends_on=d(11, 1),
            reason="other",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Absence.objects.create(
            resident=world.resident1,
            starts_on=d(11, 2),
            ends_on=d(11, 1),
            reason="other",
            recorded_by=world.worker1.user,
        )


def test_the_absences_admin_is_scoped_and_stamps_who_recorded(
    world: SimpleNamespace, staff_client
) -> None:
    absences_services.record_absence(
        user=world.worker4.user, resident=world.resident4, starts_on=d(11, 1), reason="study"
    )
    client = staff_client(world.committee1)
    response = client.post(
        "/admin/residents/absence/add/",
        {
            "resident": world.resident2.pk,
            "reason": "hospital",
            "starts_on": "2026-11-03",
            "ends_on": "2026-11-10",
            "note": "县医院",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    absence = Absence.objects.get(resident=world.resident2)
    assert absence.recorded_by == world.committee1
    changelist = client.get("/admin/residents/absence/").content.decode()
    assert "赵秀英" in changelist and "李明" not in changelist  # resident4 is community3's
    other = Absence.objects.get(resident=world.resident4)
    assert client.get(f"/admin/residents/absence/{other.pk}/change/").status_code == 302
    wrong = client.post(
        f"/admin/residents/absence/{absence.pk}/change/",
        {"resident": world.resident2.pk, "reason": "hospital", "starts_on": "2026-11-03",
         "ends_on": "2026-11-01"},
    )  # fmt: skip
    assert wrong.status_code == 200  # the form says why
    absence.refresh_from_db()
    assert absence.ends_on == d(11, 10)
    back = client.post(
        f"/admin/residents/absence/{absence.pk}/change/",
        {"resident": world.resident2.pk, "reason": "hospital", "starts_on": "2026-11-03",
         "ends_on": "2026-11-12", "note": "县医院"},
    )  # fmt: skip
    assert back.status_code == 302
    absence.refresh_from_db()
    assert absence.ends_on == d(11, 12) and absence.recorded_by == world.committee1


def test_the_demo_records_a_few_residents_away_once(db: None, frozen: None) -> None:
    from demo import seed as demo

    demo.seed_demo()
    away = {a.resident.name: a for a in Absence.objects.select_related("resident")}
    assert set(away) == {"赵磊", "赵春生", "陈思雨"}
    with translation.override("zh-hans"):  # whatever language an earlier test left on
        assert away["赵磊"].ends_on is None and away["赵磊"].get_reason_display() == "外出务工"
    assert away["赵春生"].ends_on == d(12, 8)
    again = demo.seed_demo()
    assert again.created["residents.Absence"] == 0 and Absence.objects.count() == 3
