"""The ledger's invariants under any sequence of postings (hypothesis, stateful).

Awards, deductions, reversals, debits and retried posts run through the services against a
few accounts; after every step each account's stored balance must equal both an in-memory
model of it and the sum of its entries, and its entries must run 1, 2, 3 … with each
balance_after the previous one plus the amount. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from points.models import Account, Entry
from points.services import ledger as ledger_services
from tests import factories as f

ACCOUNTS = 3
amounts = st.integers(min_value=1, max_value=40)
account_numbers = st.integers(min_value=0, max_value=ACCOUNTS - 1)


@dataclass
class ModelEntry:
    pk: int
    account: int  # index into the machine's accounts
    amount: int
    kind: str
    key: str
    reversed: bool = False


@dataclass
class ModelAccount:
    balance: int = 0
    entries: list[ModelEntry] = field(default_factory=list)


class LedgerMachine(RuleBasedStateMachine):
    """Each run happens in a savepoint of the test's transaction, rolled back at teardown, so
    every run starts from the same residents and no accounts."""

    residents: list = []  # set by the test before running
    user = None

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.accounts = [ledger_services.account_for(r) for r in self.residents]
        self.model = [ModelAccount() for _ in self.accounts]
        self.keys = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # ------------------------------------------------------------------ helpers

    def _key(self, prefix: str) -> str:
        self.keys += 1
        return f"{prefix}:{self.keys}"

    def _record(self, i: int, entry: Entry) -> None:
        m = self.model[i]
        m.balance += entry.amount
        m.entries.append(
            ModelEntry(pk=entry.pk, account=i, amount=entry.amount, kind=entry.kind, key=entry.key)
        )

    def _post(self, i: int, amount: int, kind: str) -> None:
        entry = ledger_services.post_entry(
            account=self.accounts[i], amount=amount, kind=kind, key=self._key(kind)
        )
        assert (entry.amount, entry.kind) == (amount, kind)
        assert entry.balance_after == self.model[i].balance + amount
        self._record(i, entry)

    def _reversible(self) -> list[ModelEntry]:
        return [e for m in self.model for e in m.entries if e.kind != "reversal" and not e.reversed]

    def _all_entries(self) -> list[ModelEntry]:
        return [e for m in self.model for e in m.entries]

    # ------------------------------------------------------------------ rules

    @initialize()
    def start_empty(self) -> None:
        assert not Entry.objects.filter(account__in=self.accounts).exists()

    @rule(i=account_numbers, amount=amounts)
    def award(self, i: int, amount: int) -> None:
        self._post(i, amount, Entry.Kind.AWARD)

    @rule(i=account_numbers, amount=amounts)
    def deduction(self, i: int, amount: int) -> None:
        self._post(i, -amount, Entry.Kind.DEDUCTION)  # may go below zero

    @rule(i=account_numbers, amount=amounts)
    def debit(self, i: int, amount: int) -> None:
        """A redemption: refused exactly when it would take the balance below zero."""
        key = self._key("order")
        if self.model[i].balance - amount < 0:
            with pytest.raises(ledger_services.InsufficientPoints):
                ledger_services.debit(account=self.accounts[i], points=amount, key=key)
        else:
            entry = ledger_services.debit(account=self.accounts[i], points=amount, key=key)
            assert (entry.amount, entry.kind) == (-amount, Entry.Kind.REDEMPTION)
            self._record(i, entry)

    @precondition(lambda self: self._reversible())
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(self._reversible()), label="entry")
        entry = Entry.objects.get(pk=target.pk)
        reversal = ledger_services.reverse_entry(
            entry=entry, user=self.user, reason="property test"
        )
        assert (reversal.kind, reversal.amount, reversal.reverses_id) == (
            Entry.Kind.REVERSAL,
            -target.amount,
            target.pk,
        )
        target.reversed = True
        self._record(target.account, reversal)

    @precondition(lambda self: any(e.reversed or e.kind == "reversal" for e in self._all_entries()))
    @rule(data=st.data())
    def reverse_again(self, data: st.DataObject) -> None:
        """A reversed entry, or a reversal, cannot be reversed: nothing moves."""
        done = [e for e in self._all_entries() if e.reversed or e.kind == "reversal"]
        target = data.draw(st.sampled_from(done), label="entry")
        with pytest.raises(ValidationError):
            ledger_services.reverse_entry(
                entry=Entry.objects.get(pk=target.pk), user=self.user, reason="again"
            )

    @precondition(lambda self: self._all_entries())
    @rule(data=st.data(), amount=amounts)
    def repost_same_key(self, data: st.DataObject, amount: int) -> None:
        """A retried post (even with another amount) returns the first entry, moves nothing."""
        target = data.draw(st.sampled_from(self._all_entries()), label="entry")
        again = ledger_services.post_entry(
            account=self.accounts[target.account],
            amount=amount,
            kind=Entry.Kind.AWARD,
            key=target.key,
        )
        assert (again.pk, again.amount) == (target.pk, target.amount)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def balances_and_chains_agree(self) -> None:
        for account, m in zip(self.accounts, self.model, strict=True):
            stored = Account.objects.values_list("balance", "last_seq").get(pk=account.pk)
            rows = list(
                Entry.objects.filter(account=account)
                .order_by("seq")
                .values_list("pk", "seq", "amount", "balance_after")
            )
            assert stored == (m.balance, len(m.entries))
            assert [pk for pk, *_ in rows] == [e.pk for e in m.entries]
            assert [seq for _, seq, _, _ in rows] == list(range(1, len(rows) + 1))
            running = 0
            for _, _, amount, balance_after in rows:
                running += amount
                assert balance_after == running
            assert running == sum(e.amount for e in m.entries) == m.balance

    @invariant()
    def the_ledger_check_agrees(self) -> None:
        assert ledger_services.verify_ledger().ok


def test_ledger_invariants_hold_for_any_sequence_of_postings(world):
    LedgerMachine.residents = [
        world.resident1,
        world.resident2,
        *[f.ResidentFactory(household=world.household1) for _ in range(ACCOUNTS - 2)],
    ]
    LedgerMachine.user = world.committee1
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,  # the same examples on every run: CI-stable
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
