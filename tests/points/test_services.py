"""The points services: claims and their rules, approval, the append-only ledger, bulk
decisions, objections, rule books, quarters and the ledger check.

Over 600 lines on purpose: one test module per API or service layer, long by nature (many
short, independent tests).
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied

from points.models import Account, Claim, Entry, LedgerIsAppendOnly, Objection, Period, Rule
from points.selectors import ledger as ledger_selectors
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import objections as objections_services
from points.tasks import ensure_current_period
from tests import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    """Stand still at `hour` o'clock Beijing time on `day`."""
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


@pytest.fixture
def rules(world):
    def rule(code, category, points, community=world.community1, **kw):
        return Rule.objects.create(
            community=community, code=code, name=code, category=category, points=points, **kw
        )

    return {
        "clean": rule("clean", "reward", 1),  # 清扫责任区 +1
        "hazard": rule("hazard", "reward", 2),  # 报告隐患 +2
        "idea": rule("idea", "reward", 10, up_to=True),  # 合理化建议 ≤ +10
        "capped": rule("capped", "reward", 5, up_to=True, cap_per_quarter=7),
        "fine": rule("fine", "deduction", 5),  # 违反村规 -5
        "other": rule("other", "reward", 3, community=world.community2),
    }


def fresh(user):
    """The user as a new request loads it (the scope is cached on the user object)."""
    return get_user_model().objects.get(pk=user.pk)


def submit(world, rules, rule="clean", resident=None, user=None, **kw) -> Claim:
    return claims_services.submit_claim(
        user=user or world.worker1.user,
        resident=resident or world.resident1,
        rule=rules[rule],
        **kw,
    )


def account_of(resident) -> Account:
    return Account.objects.get(resident=resident)


def chain(account: Account) -> list[tuple[int, int, int]]:
    return list(
        Entry.objects.filter(account=account)
        .order_by("seq")
        .values_list("seq", "amount", "balance_after")
    )


def award(account: Account, amount: int, key: str, **kw) -> Entry:
    return ledger_services.post_entry(account=account, amount=amount, kind="award", key=key, **kw)


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(exc.value.messages)


# ============================================================================ points and rules


def test_fixed_rule_takes_exactly_its_points(world, rules):
    for wrong in (1, 3):
        with pytest.raises(ValidationError) as exc:
            submit(world, rules, "hazard", points=wrong)
        assert "points" in exc.value.message_dict
    assert submit(world, rules, "hazard").points == 2
    assert submit(world, rules, "hazard", points=2).points == 2
    assert Claim.objects.count() == 2


def test_up_to_rule_takes_from_one_up_to_its_maximum(world, rules):
    for wrong in (0, 11):
        with pytest.raises(ValidationError) as exc:
            submit(world, rules, "idea", points=wrong)
        assert "points" in exc.value.message_dict
    assert [submit(world, rules, "idea", points=p).points for p in (1, 7, 10)] == [1, 7, 10]
    assert submit(world, rules, "idea").points == 10  # no points given: the maximum


def test_rule_of_another_community_cannot_be_claimed(world, rules):
    with pytest.raises(ValidationError) as exc:
        submit(world, rules, "other")
    assert "rule" in exc.value.message_dict
    rules["clean"].active = False
    rules["clean"].save()
    with pytest.raises(ValidationError):
        submit(world, rules, "clean")


def test_worker_cannot_claim_points_for_a_resident_of_another_grid(world, rules):
    with pytest.raises(ApiPermissionDenied):
        submit(world, rules, resident=world.resident2)  # grid2; worker1 has grid1
    assert not Claim.objects.exists()


def test_claim_cannot_be_dated_in_the_future(world, rules):
    with pytest.raises(ValidationError) as exc:
        submit(world, rules, occurred_on=timezone.localdate() + dt.timedelta(days=1))
    assert "occurred_on" in exc.value.message_dict


# ============================================================================ the cap


def test_claim_past_the_cap_is_refused_naming_the_cap_and_what_is_left(world, rules):
    with at(dt.date(2026, 11, 21)):
        submit(world, rules, "capped", points=5)
        with translation.override("en"), pytest.raises(ValidationError) as exc:
            submit(world, rules, "capped", points=3)
        text = exc.value.message_dict["points"][0]
        assert "allows 7 points" in text
        assert "2026Q4" in text
        assert "5 are already claimed" in text
        assert "at most 2 more" in text
        assert submit(world, rules, "capped", points=2).points == 2  # exactly up to the cap
        with translation.override("en"), pytest.raises(ValidationError) as exc:
            submit(world, rules, "capped", points=1)
        assert "at most 0 more" in exc.value.message_dict["points"][0]
    assert Claim.objects.count() == 2


def test_cap_counts_per_quarter_and_per_resident(world, rules):
    with at(dt.date(2026, 11, 21)):
        submit(world, rules, "capped", points=5, occurred_on=dt.date(2026, 9, 30))  # 2026Q3
        submit(world, rules, "capped", points=5, occurred_on=dt.date(2026, 10, 1))  # 2026Q4
        submit(world, rules, "capped", points=5, resident=world.resident2, user=world.committee1)
        with pytest.raises(ValidationError):
            submit(world, rules, "capped", points=3, occurred_on=dt.date(2026, 11, 20))
        submit(world, rules, "capped", points=2, occurred_on=dt.date(2026, 9, 1))  # Q3: 5+2
        with pytest.raises(ValidationError):
            submit(world, rules, "capped", points=1, occurred_on=dt.date(2026, 7, 1))
    assert sorted(Claim.objects.values_list("period__code", flat=True)) == [
        "2026Q3",
        "2026Q3",
        "2026Q4",
        "2026Q4",
    ]


def test_cap_counts_approved_claims_but_not_rejected_ones(world, rules):
    first = submit(world, rules, "capped", points=5)
    claims_services.reject_claim(claim=first, approver=world.committee1, reason="没有照片")
    second = submit(world, rules, "capped", points=5)  # the rejected 5 no longer count
    claims_services.approve_claim(claim=second, approver=world.committee1)
    with pytest.raises(ValidationError):
        submit(world, rules, "capped", points=3)  # the approved 5 do
    assert submit(world, rules, "capped", points=2).status == Claim.Status.SUBMITTED


# ============================================================================ duplicates


def test_same_resident_rule_and_day_twice_is_flagged_likely_duplicate(world, rules):
    day = timezone.localdate() - dt.timedelta(days=3)
    first = submit(world, rules, "clean", occurred_on=day)
    second = submit(world, rules, "clean", occurred_on=day)
    assert (first.likely_duplicate, second.likely_duplicate) == (False, True)
    # another day, another rule, another resident: not duplicates
    assert not submit(
        world, rules, "clean", occurred_on=day - dt.timedelta(days=1)
    ).likely_duplicate
    assert not submit(world, rules, "hazard", occurred_on=day).likely_duplicate
    other = submit(
        world, rules, "clean", occurred_on=day, resident=world.resident2, user=world.committee1
    )
    assert not other.likely_duplicate


def test_a_rejected_claim_does_not_make_the_next_one_a_duplicate(world, rules):
    first = submit(world, rules, "clean")
    claims_services.reject_claim(claim=first, approver=world.committee1, reason="重复")
    assert not submit(world, rules, "clean").likely_duplicate


# ============================================================================ deciding a claim


def test_approval_posts_one_award_for_the_claim(world, rules):
    claim = submit(world, rules, "idea", points=7)
    claims_services.approve_claim(claim=claim, approver=world.committee1)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED
    assert claim.decided_by == world.committee1
    assert claim.decided_at is not None
    entry = Entry.objects.get()
    assert (entry.kind, entry.amount, entry.seq, entry.balance_after) == ("award", 7, 1, 7)
    assert (entry.source_type, entry.source_id, entry.key) == (
        "claim",
        claim.pk,
        f"claim:{claim.pk}",
    )
    assert entry.created_by == world.committee1
    assert entry.period == ledger_services.current_period()
    assert account_of(world.resident1).balance == 7


def test_deduction_may_take_a_balance_below_zero(world, rules):
    award(ledger_services.account_for(world.resident1), 2, "start")
    claim = submit(world, rules, "fine")
    claims_services.approve_claim(claim=claim, approver=world.committee1)
    account = account_of(world.resident1)
    assert account.balance == -3
    assert chain(account) == [(1, 2, 2), (2, -5, -3)]
    assert Entry.objects.get(seq=2).kind == "deduction"


def test_rejection_needs_a_reason(world, rules):
    claim = submit(world, rules)
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as exc:
            claims_services.reject_claim(claim=claim, approver=world.committee1, reason=blank)
        assert "reason" in exc.value.message_dict
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    claims_services.reject_claim(claim=claim, approver=world.committee1, reason="  没有照片 ")
    claim.refresh_from_db()
    assert (claim.status, claim.reject_reason) == ("rejected", "没有照片")
    assert claim.decided_by == world.committee1
    assert not Entry.objects.exists()
    with pytest.raises(ValidationError):
        claims_services.approve_claim(claim=claim, approver=world.committee1)
    assert not Entry.objects.exists()


def test_worker_cannot_approve_or_reject(world, rules):
    claim = submit(world, rules, user=world.committee1)  # not the worker's own claim
    with pytest.raises(PermissionDenied):
        claims_services.approve_claim(claim=claim, approver=world.worker1.user)
    with pytest.raises(PermissionDenied):
        claims_services.reject_claim(claim=claim, approver=world.worker1.user, reason="不行")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert not Entry.objects.exists()


def test_committee_member_cannot_approve_a_claim_they_submitted(world, rules):
    claim = submit(world, rules, user=world.committee1)
    with pytest.raises(PermissionDenied):
        claims_services.approve_claim(claim=claim, approver=world.committee1)
    with pytest.raises(PermissionDenied):
        claims_services.reject_claim(claim=claim, approver=world.committee1, reason="自己")
    assert not Entry.objects.exists()
    colleague = f.committee_member(world.community1, "committee_b").user
    claims_services.approve_claim(claim=claim, approver=colleague)
    assert account_of(world.resident1).balance == 1


def test_committee_of_another_community_cannot_decide(world, rules):
    claim = submit(world, rules)
    for outsider in (world.committee3, world.admin1, world.stranger):
        with pytest.raises(PermissionDenied):
            claims_services.approve_claim(claim=claim, approver=outsider)
        with pytest.raises(PermissionDenied):
            claims_services.reject_claim(claim=claim, approver=outsider, reason="不是我们村的")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert not Entry.objects.exists()


def test_approving_twice_is_refused_and_posts_one_entry(world, rules):
    claim = submit(world, rules, "hazard")
    claims_services.approve_claim(claim=claim, approver=world.committee1)
    with pytest.raises(ValidationError) as exc:
        claims_services.approve_claim(claim=claim, approver=world.committee1)
    assert exc.value.code == "claim_decided"
    with pytest.raises(ValidationError):
        claims_services.reject_claim(claim=claim, approver=world.committee1, reason="晚了")
    assert Entry.objects.count() == 1
    assert account_of(world.resident1).balance == 2
    assert Claim.objects.get().status == Claim.Status.APPROVED


# ============================================================================ the ledger


def test_debit_below_zero_is_refused_and_the_balance_is_unchanged(world):
    account = ledger_services.account_for(world.resident1)
    award(account, 3, "a1")
    with pytest.raises(ledger_services.InsufficientPoints) as exc:
        ledger_services.debit(account=account, points=4, key="order:1")
    assert exc.value.code == "insufficient_points"
    account.refresh_from_db()
    assert (account.balance, account.last_seq) == (3, 1)
    assert Entry.objects.count() == 1
    entry = ledger_services.debit(account=account, points=3, key="order:2")  # down to exactly zero
    assert (entry.kind, entry.amount, entry.balance_after) == ("redemption", -3, 0)
    with pytest.raises(ledger_services.InsufficientPoints):
        ledger_services.debit(account=account, points=1, key="order:3")
    assert account_of(world.resident1).balance == 0
    with pytest.raises(ValidationError):
        ledger_services.debit(account=account, points=0, key="order:4")
    assert ledger_services.verify_ledger().ok


def test_post_entry_is_idempotent_by_key_per_account(world):
    one = ledger_services.account_for(world.resident1)
    two = ledger_services.account_for(world.resident2)
    first = award(one, 5, "volunteer:42")
    again = award(one, 9, "volunteer:42")  # a retry (even a garbled one) changes nothing
    assert again.pk == first.pk
    assert again.amount == 5
    assert account_of(world.resident1).balance == 5
    assert Entry.objects.filter(account=one).count() == 1
    other = award(two, 4, "volunteer:42")  # the key is unique per account, not globally
    assert other.pk != first.pk
    assert account_of(world.resident2).balance == 4
    assert ledger_services.verify_ledger().ok


def test_post_entry_refuses_a_zero_amount(world):
    account = ledger_services.account_for(world.resident1)
    with pytest.raises(ValidationError):
        award(account, 0, "nothing")
    assert not Entry.objects.exists()


def test_reversal_points_at_the_entry_and_undoes_it_once(world):
    account = ledger_services.account_for(world.resident1)
    original = award(account, 7, "a1")
    award(account, 2, "a2")
    reversal = ledger_services.reverse_entry(entry=original, user=world.committee1, reason="记错了")
    assert reversal.reverses == original
    assert (reversal.kind, reversal.amount, reversal.seq, reversal.balance_after) == (
        "reversal",
        -7,
        3,
        2,
    )
    assert reversal.note == "记错了"
    assert reversal.created_by == world.committee1
    assert original.reversed_by == reversal
    with pytest.raises(ValidationError):
        ledger_services.reverse_entry(entry=original, user=world.committee1, reason="again")
    with pytest.raises(ValidationError):
        ledger_services.reverse_entry(entry=reversal, user=world.committee1, reason="undo the undo")
    with pytest.raises(ValidationError):
        ledger_services.reverse_entry(
            entry=Entry.objects.get(key="a2"), user=world.committee1, reason=" "
        )
    assert Entry.objects.count() == 3
    assert account_of(world.resident1).balance == 2
    assert ledger_services.verify_ledger().ok


def test_a_reversal_may_take_a_balance_below_zero(world):
    account = ledger_services.account_for(world.resident1)
    gained = award(account, 5, "a1")
    ledger_services.debit(account=account, points=4, key="order:1")
    ledger_services.reverse_entry(entry=gained, user=world.committee1, reason="冒领")
    assert account_of(world.resident1).balance == -4


def test_entries_cannot_be_changed_or_deleted_through_the_orm(world):
    account = ledger_services.account_for(world.resident1)
    entry = award(account, 5, "a1")
    entry.amount = 500
    attempts = {
        "save": entry.save,
        "delete": entry.delete,
        "queryset update": lambda: Entry.objects.filter(pk=entry.pk).update(amount=500),
        "queryset delete": lambda: Entry.objects.all().delete(),
        "related update": lambda: account.entries.all().update(balance_after=0),
        "related delete": lambda: account.entries.all().delete(),
        "bulk_update": lambda: Entry.objects.bulk_update([entry], ["amount"]),
        "update_or_create": lambda: Entry.objects.update_or_create(
            account=account, key="a1", defaults={"amount": 500}
        ),
    }
    for name, attempt in attempts.items():
        # Each in a savepoint: bulk_update runs in atomic(savepoint=False), whose failure
        # would otherwise doom the test's transaction.
        with pytest.raises(LedgerIsAppendOnly), transaction.atomic():
            attempt()
            pytest.fail(f"{name} went through")
    # A new instance carrying an existing entry's pk is an INSERT (and fails), never an UPDATE.
    impostor = Entry(
        pk=entry.pk,
        account=account,
        seq=1,
        amount=500,
        kind="award",
        period=entry.period,
        balance_after=500,
        key="impostor",
        created_at=entry.created_at,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        impostor.save()
    assert chain(account) == [(1, 5, 5)]
    assert Entry.objects.get().key == "a1"


@pytest.mark.postgres
def test_database_trigger_refuses_raw_update_and_delete_of_entries(world):
    entry = award(ledger_services.account_for(world.resident1), 5, "a1")
    for sql in (
        "UPDATE points_entry SET amount = 500 WHERE id = %s",
        "UPDATE points_entry SET note = 'x' WHERE id = %s",
        "DELETE FROM points_entry WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [entry.pk])
    assert list(Entry.objects.values_list("amount", "note")) == [(5, "")]


# ============================================================================ bulk decisions


def test_bulk_approval_posts_every_claim_with_unbroken_chains(world, rules):
    rng = random.Random(7)
    committee_b = f.committee_member(world.community1, "committee_b").user
    residents = [world.resident1, world.resident2] + [
        f.ResidentFactory(household=f.HouseholdFactory(grid=rng.choice([world.grid1, world.grid2])))
        for _ in range(10)
    ]
    # Some accounts already have entries, so numbering continues from their last seq.
    award(ledger_services.account_for(residents[0]), 4, "earlier:1")
    award(ledger_services.account_for(residents[0]), 1, "earlier:2")
    ledger_services.post_entry(
        account=ledger_services.account_for(residents[3]),
        amount=-2,
        kind="deduction",
        key="earlier:3",
    )
    expected: dict[int, int] = {}  # account id -> expected balance
    to_approve = []
    for resident in residents:
        for _ in range(rng.randint(1, 4)):
            code = rng.choice(["clean", "hazard", "idea", "fine"])
            points = rng.randint(1, 10) if code == "idea" else None
            claim = submit(world, rules, code, resident=resident, user=committee_b, points=points)
            to_approve.append(claim)
    # Skipped: the approver's own claim, another community's, and two already decided.
    own = submit(world, rules, "hazard", resident=world.resident1, user=world.committee1)
    outside = claims_services.submit_claim(
        user=world.worker3.user, resident=world.resident3, rule=rules["other"]
    )
    approved, rejected = to_approve.pop(), to_approve.pop()
    claims_services.approve_claim(claim=approved, approver=world.committee1)
    claims_services.reject_claim(claim=rejected, approver=world.committee1, reason="不符合")
    for account in Account.objects.all():
        expected[account.pk] = account.balance

    for claim in to_approve:
        account = account_of(claim.resident)
        expected[account.pk] += claim.rule.sign * claim.points

    result = claims_services.bulk_approve_claims(
        claims=Claim.objects.all(), approver=world.committee1
    )

    assert result.decided == len(to_approve)
    assert result.skipped == 4
    assert Claim.objects.filter(status="approved").count() == len(to_approve) + 1
    own.refresh_from_db()
    outside.refresh_from_db()
    rejected.refresh_from_db()
    assert (own.status, outside.status, rejected.status) == ("submitted", "submitted", "rejected")
    for claim in to_approve:
        claim.refresh_from_db()
        assert (claim.status, claim.decided_by) == ("approved", world.committee1)
        entry = Entry.objects.get(key=f"claim:{claim.pk}")
        assert entry.amount == claim.rule.sign * claim.points
        assert entry.kind == ("award" if claim.rule.sign > 0 else "deduction")
        assert (entry.source_type, entry.source_id) == ("claim", claim.pk)
        assert entry.created_by == world.committee1
        assert entry.period == ledger_services.current_period()
    for account in Account.objects.all():
        rows = chain(account)
        assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
        running = 0
        for _, amount, balance_after in rows:
            running += amount
            assert balance_after == running
        assert account.balance == running == expected[account.pk]
        assert account.last_seq == len(rows)
    assert Entry.objects.count() == len(to_approve) + 1 + 3
    assert ledger_services.verify_ledger().ok


def test_bulk_approval_of_no_decidable_claims_posts_nothing(world, rules):
    claim = submit(world, rules)
    for outsider in (world.worker1.user, world.committee3, world.stranger):
        result = claims_services.bulk_approve_claims(claims=Claim.objects.all(), approver=outsider)
        assert (result.decided, result.skipped) == (0, 1)
    result = claims_services.bulk_approve_claims(
        claims=Claim.objects.none(), approver=world.committee1
    )
    assert (result.decided, result.skipped) == (0, 0)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED
    assert not Entry.objects.exists()


def test_bulk_approval_takes_any_queryset_of_claims(world, rules):
    """The selection's SQL is embedded in the bulk statements: a sliced queryset, and one
    whose SQL holds a literal % (a LIKE against a column), work as well as a plain filter."""
    for note in ("清扫 hazard 区", "别的", "hazard"):
        submit(world, rules, "hazard", note=note)
    submit(world, rules, "clean", note="clean")
    like_its_rule = Claim.objects.filter(note__contains=F("rule__code"))  # LIKE '%' || … || '%'
    result = claims_services.bulk_approve_claims(claims=like_its_rule, approver=world.committee1)
    assert (result.decided, result.skipped) == (3, 0)
    assert set(Claim.objects.filter(status="approved").values_list("note", flat=True)) == {
        "清扫 hazard 区",
        "hazard",
        "clean",
    }
    first = Claim.objects.filter(status="submitted").order_by("id")[:1]
    assert claims_services.bulk_approve_claims(claims=first, approver=world.committee1).decided == 1
    assert account_of(world.resident1).balance == 2 + 2 + 1 + 2
    assert ledger_services.verify_ledger().ok


def test_bulk_approval_twice_posts_each_claim_once(world, rules):
    claims = [submit(world, rules, "clean") for _ in range(3)]
    first = claims_services.bulk_approve_claims(
        claims=Claim.objects.all(), approver=world.committee1
    )
    again = claims_services.bulk_approve_claims(
        claims=Claim.objects.all(), approver=world.committee1
    )
    assert (first.decided, first.skipped, again.decided, again.skipped) == (3, 0, 0, 3)
    assert Entry.objects.count() == len(claims)
    assert account_of(world.resident1).balance == 3


def test_bulk_approval_takes_the_same_number_of_queries_for_10_and_200_claims(world, rules):
    residents = [
        f.ResidentFactory(household=f.HouseholdFactory(grid=world.grid1)) for _ in range(40)
    ]

    def approve(n: int) -> int:
        for i in range(n):
            submit(world, rules, "hazard", resident=residents[i % len(residents)])
        batch = Claim.objects.filter(status=Claim.Status.SUBMITTED)
        approver = fresh(world.committee1)  # its scope is read inside, each time
        with CaptureQueriesContext(connection) as queries:
            result = claims_services.bulk_approve_claims(claims=batch, approver=approver)
        assert result.decided == n
        return len(queries)

    small, large = approve(10), approve(200)
    assert small == large
    assert small <= 14, small  # 5 of them resolve the approver's scope
    assert ledger_services.verify_ledger().ok
    assert Entry.objects.count() == 210


def test_bulk_rejection_needs_a_reason_and_rejects_only_what_the_user_may_decide(world, rules):
    mine = [submit(world, rules) for _ in range(3)]
    own = submit(world, rules, user=world.committee1)
    outside = claims_services.submit_claim(
        user=world.worker3.user, resident=world.resident3, rule=rules["other"]
    )
    claims_services.approve_claim(claim=mine[0], approver=world.committee1)
    with pytest.raises(ValidationError):
        claims_services.bulk_reject_claims(
            claims=Claim.objects.all(), approver=world.committee1, reason=" "
        )
    assert Claim.objects.filter(status="rejected").count() == 0
    result = claims_services.bulk_reject_claims(
        claims=Claim.objects.all(), approver=world.committee1, reason=" 照片不清楚 "
    )
    assert (result.decided, result.skipped) == (2, 3)
    rejected = Claim.objects.filter(status="rejected")
    assert set(rejected.values_list("pk", flat=True)) == {mine[1].pk, mine[2].pk}
    assert set(rejected.values_list("reject_reason", flat=True)) == {"照片不清楚"}
    assert set(rejected.values_list("decided_by", flat=True)) == {world.committee1.pk}
    for claim, status in ((mine[0], "approved"), (own, "submitted"), (outside, "submitted")):
        claim.refresh_from_db()
        assert claim.status == status
    assert Entry.objects.count() == 1  # the one approved before; rejection posts nothing
    result = claims_services.bulk_reject_claims(
        claims=Claim.objects.all(), approver=world.worker1.user, reason="x"
    )
    assert (result.decided, result.skipped) == (0, 5)


def test_points_earned_count_awards_deductions_adjustments_and_their_reversals(world, rules):
    account = ledger_services.account_for(world.resident1)
    with at(dt.date(2026, 9, 30)):
        award(account, 100, "last-quarter")
    with at(dt.date(2026, 11, 21)):
        award(account, 7, "a1")
        kept = award(account, 5, "a2")
        ledger_services.post_entry(account=account, amount=-2, kind="deduction", key="d1")
        ledger_services.post_entry(account=account, amount=3, kind="adjustment", key="j1")
        ledger_services.reverse_entry(entry=kept, user=world.committee1, reason="记错")
        order = ledger_services.debit(account=account, points=20, key="order:1")  # not earning
        ledger_services.reverse_entry(entry=order, user=world.committee1, reason="退货")  # nor this
        ledger_services.post_entry(account=account, amount=4, kind="refund", key="r1")  # nor this
        quarter = Period.objects.filter(code="2026Q4")
        assert ledger_selectors.earned(account=account, periods=quarter) == 7 + 5 - 2 + 3 - 5
        assert ledger_selectors.earned(account=account, periods=list(quarter)) == 8
        both = Period.objects.filter(code__in=["2026Q3", "2026Q4"])
        assert ledger_selectors.earned(account=account, periods=both) == 108
    other = ledger_services.account_for(world.resident2)
    assert ledger_selectors.earned(account=other, periods=Period.objects.all()) == 0


# ============================================================================ objections


@pytest.fixture
def posted(world, rules):
    """An award to resident1 (whose login is world.resident_user) on 2026-11-21, in 2026Q4."""
    with at(dt.date(2026, 11, 21)):
        claim = submit(world, rules, "idea", points=8)
        claims_services.approve_claim(claim=claim, approver=world.committee1)
    return Entry.objects.get(source_id=claim.pk)


def test_resident_may_object_inside_the_window_and_not_after(world, posted):
    policy = claims_services.policy_for(world.community1)
    policy.objection_days = 3
    policy.save()
    assert objections_services.objection_deadline(posted) == dt.date(2027, 1, 3)
    with at(dt.date(2027, 1, 4)), pytest.raises(ValidationError) as exc:
        objections_services.raise_objection(
            user=fresh(world.resident_user), entry=posted, reason="少了"
        )
    assert "2027-01-03" in messages(exc)
    with at(dt.date(2027, 1, 3), hour=23):
        objection = objections_services.raise_objection(
            user=fresh(world.resident_user), entry=posted, reason=" 应该是10分 "
        )
    assert (objection.status, objection.reason, objection.raised_by) == (
        "open",
        "应该是10分",
        world.resident_user,
    )


def test_objection_window_is_the_communitys_and_defaults_to_seven_days(world, posted):
    assert objections_services.objection_deadline(posted) == dt.date(2027, 1, 7)
    with at(dt.date(2027, 1, 8), hour=0), pytest.raises(ValidationError):
        objections_services.raise_objection(
            user=fresh(world.resident_user), entry=posted, reason="少了"
        )
    with at(dt.date(2026, 12, 1)):
        objections_services.raise_objection(
            user=fresh(world.resident_user), entry=posted, reason="少了"
        )
    assert Objection.objects.count() == 1


def test_resident_may_object_only_to_their_own_entries(world, rules, posted):
    other = award(ledger_services.account_for(world.resident2), 3, "a2")
    with at(dt.date(2026, 12, 1)):
        for user in (world.resident_user, world.committee1, world.worker1.user):
            with pytest.raises(PermissionDenied):
                objections_services.raise_objection(user=fresh(user), entry=other, reason="不对")
        for user in (world.committee1, world.worker1.user):
            with pytest.raises(PermissionDenied):
                objections_services.raise_objection(user=fresh(user), entry=posted, reason="不对")
        with pytest.raises(ValidationError):
            objections_services.raise_objection(
                user=fresh(world.resident_user), entry=posted, reason=" "
            )
        objections_services.raise_objection(
            user=fresh(world.resident_user), entry=posted, reason="少了"
        )
        with pytest.raises(ValidationError):  # one open objection per entry at a time
            objections_services.raise_objection(
                user=fresh(world.resident_user), entry=posted, reason="再说"
            )
    assert Objection.objects.count() == 1


def test_the_database_holds_one_open_objection_per_entry_even_past_the_service(
    world, posted, objection
):
    # Two requests racing past the service's check meet the partial unique index.
    with pytest.raises(IntegrityError), transaction.atomic():
        Objection.objects.create(entry=posted, raised_by=world.resident_user, reason="再说")
    Objection.objects.filter(pk=objection.pk).update(status="dismissed", decision_note="查无")
    Objection.objects.create(entry=posted, raised_by=world.resident_user, reason="再说")
    assert Objection.objects.filter(entry=posted).count() == 2


@pytest.fixture
def objection(world, posted):
    with at(dt.date(2026, 12, 1)):
        return objections_services.raise_objection(
            user=fresh(world.resident_user), entry=posted, reason="错"
        )


def test_upholding_an_objection_reverses_the_entry(world, posted, objection):
    objections_services.uphold_objection(
        objection=objection, user=world.committee1, note="核实无此事"
    )
    objection.refresh_from_db()
    assert objection.status == Objection.Status.UPHELD
    assert (objection.decided_by, objection.decision_note) == (world.committee1, "核实无此事")
    assert objection.decided_at is not None
    correction = objection.correction
    assert (correction.kind, correction.amount, correction.reverses) == ("reversal", -8, posted)
    assert account_of(world.resident1).balance == 0
    assert ledger_services.verify_ledger().ok


def test_upholding_an_objection_with_an_amount_posts_an_adjustment(world, posted, objection):
    objections_services.uphold_objection(
        objection=objection, user=world.committee1, note="应为10分", amount=2
    )
    objection.refresh_from_db()
    correction = objection.correction
    assert (correction.kind, correction.amount, correction.reverses) == ("adjustment", 2, None)
    assert (correction.source_type, correction.source_id) == ("objection", objection.pk)
    assert correction.note == "应为10分"
    assert account_of(world.resident1).balance == 10
    assert ledger_services.verify_ledger().ok


def test_dismissing_an_objection_needs_a_note_and_posts_nothing(world, posted, objection):
    for blank in ("", "  "):
        with pytest.raises(ValidationError):
            objections_services.dismiss_objection(
                objection=objection, user=world.committee1, note=blank
            )
    with pytest.raises(ValidationError):
        objections_services.uphold_objection(objection=objection, user=world.committee1, note=" ")
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN
    objections_services.dismiss_objection(
        objection=objection, user=world.committee1, note=" 核实属实 "
    )
    objection.refresh_from_db()
    assert (objection.status, objection.decision_note, objection.correction) == (
        "dismissed",
        "核实属实",
        None,
    )
    assert Entry.objects.count() == 1


def test_an_objection_is_decided_once(world, posted, objection):
    objections_services.uphold_objection(objection=objection, user=world.committee1, note="撤销")
    for decide in (
        lambda: objections_services.uphold_objection(
            objection=objection, user=world.committee1, note="x"
        ),
        lambda: objections_services.uphold_objection(
            objection=objection, user=world.committee1, note="x", amount=1
        ),
        lambda: objections_services.dismiss_objection(
            objection=objection, user=world.committee1, note="x"
        ),
    ):
        with pytest.raises(ValidationError):
            decide()
    objection.refresh_from_db()
    assert objection.status == Objection.Status.UPHELD
    assert Entry.objects.count() == 2
    assert account_of(world.resident1).balance == 0


def test_only_the_committee_of_the_residents_community_decides_an_objection(
    world, posted, objection
):
    for outsider in (world.committee3, world.worker1.user, world.admin1, world.resident_user):
        with pytest.raises(PermissionDenied):
            objections_services.uphold_objection(
                objection=objection, user=fresh(outsider), note="x"
            )
        with pytest.raises(PermissionDenied):
            objections_services.dismiss_objection(
                objection=objection, user=fresh(outsider), note="x"
            )
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN
    assert Entry.objects.count() == 1


# ============================================================================ rule books


def test_copy_default_rules_copies_the_street_book_and_skips_codes_the_community_has(world):
    def book(street, code, **kw):
        defaults = {"name": code, "category": "reward", "points": 1}
        return Rule.objects.create(street=street, code=code, **{**defaults, **kw})

    book(world.street1, "clean", name="清扫责任区", points=1)
    book(world.street1, "idea", name="合理化建议", points=10, up_to=True, cap_per_quarter=20)
    book(world.street1, "fight", name="打架斗殴", category="deduction", points=10, active=False)
    book(world.street2, "far", name="外街道")
    Rule.objects.create(
        community=world.community1, code="clean", name="村规清扫", category="reward", points=2
    )

    assert claims_services.copy_default_rules(community=world.community1) == 2
    copied = {r.code: r for r in Rule.objects.filter(community=world.community1)}
    assert set(copied) == {"clean", "idea", "fight"}
    assert (copied["clean"].name, copied["clean"].points) == ("村规清扫", 2)  # kept its own
    idea = copied["idea"]
    assert (idea.name, idea.category, idea.points, idea.up_to, idea.cap_per_quarter) == (
        "合理化建议",
        "reward",
        10,
        True,
        20,
    )
    assert (copied["fight"].category, copied["fight"].active) == ("deduction", False)
    assert all(r.street_id is None for r in copied.values())
    assert claims_services.copy_default_rules(community=world.community1) == 0  # nothing new
    assert claims_services.copy_default_rules(community=world.community3) == 1  # street2's book
    assert Rule.objects.filter(street__isnull=False).count() == 4  # the books are untouched


# ============================================================================ quarters


@pytest.mark.parametrize(
    ("day", "code", "starts_on", "ends_on"),
    [
        (dt.date(2026, 11, 21), "2026Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        (dt.date(2026, 1, 1), "2026Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (dt.date(2024, 2, 29), "2024Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
        (dt.date(2026, 6, 30), "2026Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        (dt.date(2026, 7, 1), "2026Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        (dt.date(2026, 12, 31), "2026Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
    ],
)
def test_period_for_gives_the_quarter_and_its_bounds(db, day, code, starts_on, ends_on):
    period = ledger_services.period_for(day)
    assert (period.code, period.starts_on, period.ends_on) == (code, starts_on, ends_on)
    assert period.status == Period.Status.OPEN
    assert (
        ledger_services.period_for(starts_on).pk
        == ledger_services.period_for(ends_on).pk
        == period.pk
    )
    assert Period.objects.count() == 1


def test_ensure_current_period_creates_the_quarter_as_time_passes(db):
    with at(dt.date(2026, 11, 21)):
        assert ensure_current_period.apply().get() == "2026Q4"
        assert ensure_current_period() == "2026Q4"  # again: nothing new
    assert list(Period.objects.values_list("code", flat=True)) == ["2026Q4"]
    # 2026-12-31 17:00 UTC is already 2027-01-01 in Beijing: the local date decides.
    with time_machine.travel(dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC), tick=False):
        assert ensure_current_period() == "2027Q1"
    period = Period.objects.get(code="2027Q1")
    assert (period.starts_on, period.ends_on) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))


# ============================================================================ verify_ledger


@pytest.fixture
def ledger(world, rules):
    """A small clean ledger: two accounts with awards, a deduction, a debit and a reversal."""
    for code in ("clean", "hazard", "fine", "idea"):
        claim = submit(world, rules, code, points=6 if code == "idea" else None)
        claims_services.approve_claim(claim=claim, approver=world.committee1)
    other = ledger_services.account_for(world.resident2)
    award(other, 9, "v:1")
    ledger_services.debit(account=other, points=4, key="order:1")
    ledger_services.reverse_entry(
        entry=Entry.objects.get(key="v:1"), user=world.committee1, reason="x"
    )
    return account_of(world.resident1)


def insert_raw_entry(account: Account, *, seq: int, amount: int, balance_after: int, **kw) -> None:
    """Write a row past the services (and the ORM), as a broken program might."""
    columns = {
        "account_id": account.pk,
        "seq": seq,
        "amount": amount,
        "kind": "award",
        "period_id": ledger_services.current_period().pk,
        "balance_after": balance_after,
        # Honour points stand still unless the test says otherwise (a raw row's honour chain
        # continues from the account's, so only what the test breaks is reported).
        "honour": 0,
        "honour_after": Account.objects.get(pk=account.pk).honour,
        "reverses_id": None,
        "source_type": "",
        "source_id": None,
        "key": f"raw:{seq}",
        "note": "",
        "created_by_id": None,
        "created_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        **kw,
    }
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO points_entry ({names}) VALUES ({marks})", list(columns.values()))


def run_verify_ledger_command(monkeypatch) -> int:
    """`manage.py verify_ledger` in this process; its exit status."""
    # run_from_argv closes every connection when done, which would end the test's transaction.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    try:
        ManagementUtility(["manage.py", "verify_ledger"]).execute()
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def test_verify_ledger_passes_a_clean_ledger(ledger, monkeypatch, capsys):
    report = ledger_services.verify_ledger()
    assert report.ok, report.problems
    assert (report.accounts, report.entries) == (2, 7)
    call_command("verify_ledger")
    assert run_verify_ledger_command(monkeypatch) == 0
    assert "ledger ok: 2 accounts, 7 entries" in capsys.readouterr().out


def test_verify_ledger_reports_a_tampered_balance_and_the_command_fails(
    ledger, monkeypatch, capsys
):
    Account.objects.filter(pk=ledger.pk).update(balance=F("balance") + 1)
    report = ledger_services.verify_ledger()
    assert len(report.problems) == 1
    assert f"account {ledger.pk}: balance 5 but its entries sum to 4" in report.problems[0]
    with pytest.raises(CommandError) as exc:
        call_command("verify_ledger")
    assert exc.value.returncode == 1
    assert run_verify_ledger_command(monkeypatch) == 1
    assert f"account {ledger.pk}" in capsys.readouterr().err


def test_verify_ledger_reports_a_tampered_last_seq(ledger):
    Account.objects.filter(pk=ledger.pk).update(last_seq=F("last_seq") + 1)
    report = ledger_services.verify_ledger()
    assert [p for p in report.problems if "last_seq 5 but it has 4 entries" in p]


def test_verify_ledger_reports_an_entry_with_a_wrong_balance_after(ledger, monkeypatch):
    # The balance and last_seq agree with the entries; only the running balance is wrong.
    insert_raw_entry(ledger, seq=5, amount=3, balance_after=9)  # 4 + 3 is 7, not 9
    Account.objects.filter(pk=ledger.pk).update(balance=7, last_seq=5)
    report = ledger_services.verify_ledger()
    assert len(report.problems) == 1, report.problems
    assert f"account {ledger.pk}: entry #5" in report.problems[0]
    assert "moved by 5 for an amount of 3" in report.problems[0]
    assert run_verify_ledger_command(monkeypatch) == 1


def test_verify_ledger_reports_a_gap_in_the_sequence(ledger):
    insert_raw_entry(ledger, seq=6, amount=3, balance_after=7)
    Account.objects.filter(pk=ledger.pk).update(balance=7, last_seq=5)
    report = ledger_services.verify_ledger()
    assert len(report.problems) == 1, report.problems
    assert "entry #6 stands at position 5" in report.problems[0]


def test_verify_ledger_reports_a_reversal_that_does_not_undo_its_entry(ledger):
    target = Entry.objects.get(account=ledger, seq=1)  # +1
    insert_raw_entry(
        ledger, seq=5, amount=-2, balance_after=2, kind="reversal", reverses_id=target.pk
    )
    Account.objects.filter(pk=ledger.pk).update(balance=2, last_seq=5)
    report = ledger_services.verify_ledger()
    assert len(report.problems) == 1, report.problems
    assert f"does not exactly undo entry {target.pk}" in report.problems[0]


def test_balance_is_the_sum_of_entries_after_a_mixed_history(ledger):
    for account in Account.objects.all():
        total = account.entries.aggregate(total=Sum("amount"))["total"]
        assert account.balance == total
