import pytest
from django.core.management import call_command

from points import services
from points.models import Entry, Rule


@pytest.fixture
def rules(world):
    mk = lambda code, cat, pts, **kw: Rule.objects.create(  # noqa: E731
        community=world.community1, code=code, name=code, category=cat, points=pts, **kw
    )
    return {
        "clean": mk("clean", "reward", 1, cap_per_quarter=3),
        "idea": mk("idea", "reward", 10, up_to=True),
        "rules": mk("rules", "deduction", 5),
    }


def test_smoke(world, rules):
    c1 = services.submit_claim(user=world.worker1.user, resident=world.resident1, rule=rules["clean"])
    c2 = services.submit_claim(user=world.worker1.user, resident=world.resident1, rule=rules["idea"], points=7)
    c3 = services.submit_claim(user=world.worker1.user, resident=world.resident1, rule=rules["rules"])
    services.approve_claim(claim=c1, approver=world.committee1)
    from points.models import Claim
    r = services.bulk_approve_claims(claims=Claim.objects.all(), approver=world.committee1)
    assert r.decided == 2
    acc = world.resident1.point_account
    acc.refresh_from_db()
    assert acc.balance == 1 + 7 - 5
    assert list(acc.entries.values_list("seq", "balance_after")) == [(1, 1), (2, 8), (3, 3)]
    rep = services.verify_ledger()
    assert rep.ok, rep.problems
    with pytest.raises(Exception):
        Entry.objects.first().delete()
    e = services.reverse_entry(entry=acc.entries.get(seq=2), user=world.committee1, reason="x")
    assert e.balance_after == -4
    with pytest.raises(services.InsufficientPoints):
        services.debit(account=acc, points=1, key="k")
    call_command("migrate", "points", "zero", verbosity=0) if False else None
