"""One walk through the ledger: claims, single and bulk approval, reversal, refused debit."""

import pytest

from points.models import Claim, Entry, LedgerIsAppendOnly, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services


@pytest.fixture
def rules(world):
    def rule(code, category, points, **kw):
        return Rule.objects.create(
            community=world.community1, code=code, name=code, category=category, points=points,
            **kw,
        )  # fmt: skip

    return {
        "clean": rule("clean", "reward", 1, cap_per_quarter=3),
        "idea": rule("idea", "reward", 10, up_to=True),
        "rules": rule("rules", "deduction", 5),
    }


def test_claims_approved_one_by_one_and_in_bulk_keep_one_unbroken_chain(world, rules):
    def claim(rule, **kw):
        return claims_services.submit_claim(
            user=world.worker1.user, resident=world.resident1, rule=rules[rule], **kw
        )

    first = claim("clean")
    claim("idea", points=7)
    claim("rules")
    claims_services.approve_claim(claim=first, approver=world.committee1)
    result = claims_services.bulk_approve_claims(
        claims=Claim.objects.all(), approver=world.committee1
    )
    assert result.decided == 2
    account = world.resident1.point_account
    account.refresh_from_db()
    assert account.balance == 1 + 7 - 5
    assert list(account.entries.values_list("seq", "balance_after")) == [(1, 1), (2, 8), (3, 3)]
    assert ledger_services.verify_ledger().ok
    with pytest.raises(LedgerIsAppendOnly):
        Entry.objects.first().delete()
    reversal = ledger_services.reverse_entry(
        entry=account.entries.get(seq=2), user=world.committee1, reason="记错了"
    )
    assert reversal.balance_after == -4
    with pytest.raises(ledger_services.InsufficientPoints):
        ledger_services.debit(account=account, points=1, key="order:1")
    assert ledger_services.verify_ledger().ok
