"""The ledger under real concurrent writers (PostgreSQL, committed transactions, one
connection per thread): a claim approved once, an account never debited below zero, a retried
create made once, sequence numbers without gaps, overlapping bulk approvals posting each claim
once. Threads start together at a barrier; each closes its connection when done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count

from core.models import IdempotencyRecord
from points.models import Account, Claim, Entry, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from tests import factories as f
from tests.api_helpers import token_client, url

THREADS = 20

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(job: Callable[[int], Any], threads: int = THREADS) -> tuple[list[Any], list[Exception]]:
    """Run job(0) … job(threads - 1), one per thread, released together; (results, errors)."""
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    results: list[Any] = []
    errors: list[Exception] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = job(i)
            with lock:
                results.append(result)
        except Exception as exc:  # judged by the assertions of each test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in pool), "a thread hung"
    return results, errors


def user(pk: int) -> Any:
    """A user object of the thread's own (the scope is cached on the object)."""
    return get_user_model().objects.get(pk=pk)


@pytest.fixture
def rules(world):
    def rule(code: str, category: str, points: int, **kw: Any) -> Rule:
        return Rule.objects.create(
            community=world.community1, code=code, name=code, category=category, points=points,
            **kw,
        )  # fmt: skip

    return {
        "hazard": rule("hazard", "reward", 2),
        "idea": rule("idea", "reward", 10, up_to=True),
        "fine": rule("fine", "deduction", 3),
    }


def assert_chain_unbroken(account: Account) -> None:
    account.refresh_from_db()
    rows = list(account.entries.order_by("seq").values_list("seq", "amount", "balance_after"))
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    running = 0
    for _, amount, balance_after in rows:
        running += amount
        assert balance_after == running
    assert (account.balance, account.last_seq) == (running, len(rows))


def test_twenty_approvals_of_one_claim_post_exactly_one_entry(world, rules):
    colleague = f.committee_member(world.community1, "committee_b").user
    claim = claims_services.submit_claim(
        user=world.worker1.user, resident=world.resident1, rule=rules["idea"], points=7
    )
    approvers = [world.committee1.pk, colleague.pk]

    def approve(i: int) -> Claim:
        mine = Claim.objects.get(pk=claim.pk)
        return claims_services.approve_claim(claim=mine, approver=user(approvers[i % 2]))

    results, errors = race(approve)
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, ValidationError) and e.code == "claim_decided" for e in errors), errors
    assert Entry.objects.filter(key=f"claim:{claim.pk}").count() == 1
    assert Entry.objects.count() == 1
    account = Account.objects.get(resident=world.resident1)
    assert (account.balance, account.last_seq) == (7, 1)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED
    assert claim.decided_by_id == results[0].decided_by_id
    assert ledger_services.verify_ledger().ok


def test_twenty_debits_of_an_account_that_covers_one_let_exactly_one_through(world):
    account = ledger_services.account_for(world.resident1)
    ledger_services.post_entry(account=account, amount=10, kind="award", key="start")

    def redeem(i: int) -> Entry:
        mine = Account.objects.get(pk=account.pk)
        return ledger_services.debit(account=mine, points=10, key=f"order:{i}")

    results, errors = race(redeem)
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, ledger_services.InsufficientPoints) for e in errors), errors
    account.refresh_from_db()
    assert account.balance == 0
    assert Entry.objects.filter(account=account, kind="redemption").count() == 1
    assert_chain_unbroken(account)
    assert ledger_services.verify_ledger().ok


def test_twenty_small_debits_stop_at_zero(world):
    account = ledger_services.account_for(world.resident1)
    ledger_services.post_entry(account=account, amount=10, kind="award", key="start")

    def redeem(i: int) -> Entry:
        return ledger_services.debit(
            account=Account.objects.get(pk=account.pk), points=3, key=f"order:{i}"
        )

    results, errors = race(redeem)
    assert len(results) == 3  # 10 covers three debits of 3
    assert all(isinstance(e, ledger_services.InsufficientPoints) for e in errors), errors
    account.refresh_from_db()
    assert account.balance == 1
    assert_chain_unbroken(account)
    assert ledger_services.verify_ledger().ok


def test_one_idempotency_key_sent_by_twenty_threads_creates_one_claim(world, rules):
    body = {"resident": world.resident1.pk, "rule": rules["idea"].pk, "points": 6, "note": "建议"}
    token_client(world.worker1.user)  # make the token before the threads race for it

    def send(i: int) -> Any:
        client = token_client(world.worker1.user)  # each thread is its own phone
        return client.post(
            url("point-claims"), body, format="json", HTTP_IDEMPOTENCY_KEY="claim-retry-storm"
        )

    responses, errors = race(send)
    assert errors == []
    assert [r.status_code for r in responses] == [201] * THREADS, [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Claim.objects.count() == 1
    claim = Claim.objects.get()
    assert (claim.resident_id, claim.points, claim.likely_duplicate) == (
        world.resident1.pk,
        6,
        False,
    )
    assert IdempotencyRecord.objects.filter(key="claim-retry-storm").count() == 1
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == THREADS - 1


def test_twenty_concurrent_awards_to_one_account_number_one_to_twenty(world):
    account = ledger_services.account_for(world.resident1)

    def post(i: int) -> Entry:
        return ledger_services.post_entry(
            account=Account.objects.get(pk=account.pk),
            amount=i + 1,
            kind="award",
            key=f"volunteer:{i}",
        )

    results, errors = race(post)
    assert errors == []
    assert sorted(e.seq for e in results) == list(range(1, THREADS + 1))
    account.refresh_from_db()
    assert account.balance == sum(range(1, THREADS + 1))
    assert_chain_unbroken(account)
    assert ledger_services.verify_ledger().ok


def test_twenty_reversals_of_one_entry_post_exactly_one(world):
    account = ledger_services.account_for(world.resident1)
    entry = ledger_services.post_entry(account=account, amount=5, kind="award", key="a")
    committee = world.committee1.pk

    def reverse(i: int) -> Entry:
        return ledger_services.reverse_entry(
            entry=Entry.objects.get(pk=entry.pk), user=user(committee), reason=f"第{i}次"
        )

    results, errors = race(reverse)
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert Entry.objects.filter(reverses=entry).count() == 1
    account.refresh_from_db()
    assert account.balance == 0
    assert_chain_unbroken(account)
    assert ledger_services.verify_ledger().ok


@pytest.fixture
def many_claims(world, rules):
    """120 submitted claims for 30 residents of community 1 (four each, awards and
    deductions), submitted by the grid workers."""
    residents = [
        f.ResidentFactory(household=f.HouseholdFactory(grid=grid))
        for grid in [world.grid1, world.grid2] * 15
    ]
    workers = {world.grid1.pk: world.worker1.user, world.grid2.pk: world.worker2.user}
    claims = []
    for n in range(4):
        for resident in residents:
            rule, points = [
                (rules["hazard"], None),
                (rules["idea"], 1 + resident.pk % 10),
                (rules["fine"], None),
                (rules["idea"], 5),
            ][n]
            claims.append(
                claims_services.submit_claim(
                    user=workers[resident.household.grid_id],
                    resident=resident,
                    rule=rule,
                    points=points,
                )
            )
    return claims


def assert_each_claim_posted_once(claims: list[Claim]) -> None:
    ids = [c.pk for c in claims]
    assert not Claim.objects.filter(pk__in=ids, status=Claim.Status.SUBMITTED).exists()
    approved = set(Claim.objects.filter(pk__in=ids, status="approved").values_list("pk", flat=True))
    posted = Entry.objects.filter(source_type="claim", source_id__in=ids)
    per_claim = dict(posted.values_list("source_id").annotate(n=Count("id")))
    assert per_claim == dict.fromkeys(approved, 1)  # approved: one entry; rejected: none
    expected: dict[int, int] = {}
    for claim in Claim.objects.filter(pk__in=approved).select_related("rule"):
        expected[claim.resident_id] = expected.get(claim.resident_id, 0) + (
            claim.rule.sign * claim.points
        )
    for account in Account.objects.filter(resident_id__in=[c.resident_id for c in claims]):
        assert account.balance == expected.get(account.resident_id, 0)
        assert_chain_unbroken(account)
    report = ledger_services.verify_ledger()
    assert report.ok, report.problems


def test_overlapping_bulk_approvals_by_two_members_approve_each_claim_once(world, many_claims):
    colleague = f.committee_member(world.community1, "committee_b").user
    approvers = [world.committee1.pk, colleague.pk]
    ids = [c.pk for c in many_claims]
    window, step = 50, len(ids) // THREADS  # each claim falls in ~8 threads' windows

    def approve(i: int) -> int:
        chosen = [ids[(i * step + k) % len(ids)] for k in range(window)]
        result = claims_services.bulk_approve_claims(
            claims=Claim.objects.filter(pk__in=chosen), approver=user(approvers[i % 2])
        )
        assert result.decided + result.skipped == window
        return result.decided

    results, errors = race(approve)
    assert errors == []
    assert sum(results) == len(ids)
    assert Claim.objects.filter(status="approved").count() == len(ids)
    assert set(Claim.objects.values_list("decided_by", flat=True)) <= set(approvers)
    assert_each_claim_posted_once(many_claims)


def test_bulk_approvals_racing_single_decisions_and_bulk_rejections_decide_each_claim_once(
    world, many_claims
):
    colleague = f.committee_member(world.community1, "committee_b").user
    approvers = [world.committee1.pk, colleague.pk]
    ids = [c.pk for c in many_claims]

    def decide(i: int) -> None:
        me = user(approvers[i % 2])
        if i % 4 == 0:  # one by one, from the end
            for pk in ids[::-1][i : i + 30]:
                try:
                    claims_services.approve_claim(claim=Claim.objects.get(pk=pk), approver=me)
                except ValidationError as exc:
                    assert exc.code == "claim_decided"
        elif i % 4 == 1:
            claims_services.bulk_reject_claims(
                claims=Claim.objects.filter(pk__in=ids[i * 5 : i * 5 + 40]),
                approver=me,
                reason="照片不清楚",
            )
        else:
            chosen = [ids[(i * 6 + k) % len(ids)] for k in range(60)]
            claims_services.bulk_approve_claims(
                claims=Claim.objects.filter(pk__in=chosen), approver=me
            )

    results, errors = race(decide)
    assert errors == []
    # Whatever was left undecided (no thread's set covered it) is approved now, in one go.
    claims_services.bulk_approve_claims(claims=Claim.objects.all(), approver=user(approvers[0]))
    assert_each_claim_posted_once(many_claims)
