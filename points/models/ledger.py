"""The ledger: quarters (periods), accounts and their append-only entries.

The ledger (Entry) is append-only: a mistake is corrected by a reversal entry that points at
the entry it reverses. Each account stores its balance and the sequence number of its last
entry; both change in the same transaction as the entry, under a row lock on the account.

This module knows nothing of claims, shops or the close: they import it, never the reverse.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.quarters import quarter_of
from core.scope import ScopedQuerySet


class Period(models.Model):  # 季度
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        REDEEMING = "redeeming", _("redeeming")
        CLOSING = "closing", _("closing")
        CLOSED = "closed", _("closed")

    code = models.CharField(_("code"), max_length=6, unique=True)  # 2026Q4
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )

    class Meta:
        verbose_name = _("quarter")
        verbose_name_plural = _("quarters")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="period_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def year(self) -> int:
        return int(self.code[:4])

    @staticmethod
    def bounds(day: dt.date) -> tuple[str, dt.date, dt.date]:
        """(code, first day, last day) of the quarter holding `day` (core.quarters)."""
        return quarter_of(day)


def _account_paths(to_account: str) -> dict[str, str | tuple[str, ...]]:
    """`scope_paths` through an account (`to_account` "" for the account itself): its
    household's grid, community and street; for a resident, their own account and their
    household's shared account (household accounts, issue 15)."""
    pre = f"{to_account}__" if to_account else ""
    return {
        "street": f"{pre}household__grid__community__street_id",
        "community": f"{pre}household__grid__community_id",
        "grid": f"{pre}household__grid_id",
        "resident": (f"{pre}resident_id", f"{pre}shared_household__residents"),
    }


class Account(models.Model):  # 积分账户 (and its card, 积分卡)
    """One resident's account, or (Policy.account_unit = household, 以户为单位) one household's,
    shared by its head (户主) and members.

    `household` is always set: the household the account belongs to (for a resident's account,
    the resident's household, kept in step when a resident moves; see points.signals), so that
    every account is scoped and grouped by one join, whichever its unit. `shared_household` is
    set, to the same household, only on a household's account.
    """

    resident = models.OneToOneField(
        "residents.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="point_account",
        verbose_name=_("resident"),
    )
    household = models.ForeignKey(
        "residents.Household",
        on_delete=models.PROTECT,
        related_name="point_accounts",
        verbose_name=_("household"),
    )
    shared_household = models.OneToOneField(
        "residents.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="point_account",
        verbose_name=_("household account of"),
    )
    card_number = models.CharField(_("card number"), max_length=16, unique=True)
    balance = models.IntegerField(_("balance"), default=0)
    # 荣誉积分: every award adds to it, deductions and reversals take from it; redemption,
    # expiry and the yearly reset never do (the sum of the entries' `honour`).
    honour = models.IntegerField(_("honour points"), default=0, db_default=0)
    last_seq = models.PositiveIntegerField(_("entries"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope_paths = _account_paths("")

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resident__isnull=False, shared_household__isnull=True)
                | Q(resident__isnull=True, shared_household=F("household")),
                name="account_of_a_resident_or_its_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} {self.balance}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A resident's account belongs to the resident's household (kept in step on a move).
        if self.household_id is None and self.resident_id is not None:
            self.household_id = self.resident.household_id
        super().save(*args, **kwargs)

    @property
    def is_household(self) -> bool:
        return self.shared_household_id is not None

    @property
    def holder_name(self) -> str:
        """The resident's name, or for a household's account its head's name and 户 (家庭)."""
        if self.resident_id is not None:
            return str(self.resident)
        head = self.household.head
        return str(_("%(head)s household") % {"head": head.name if head else self.household})


class EntryQuerySet(ScopedQuerySet):
    """The ledger is append-only: the ORM refuses bulk update and delete."""

    def update(self, **kwargs: object) -> int:
        raise LedgerIsAppendOnly(_("Ledger entries cannot be changed; post a reversal."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerIsAppendOnly(_("Ledger entries cannot be deleted; post a reversal."))


class LedgerIsAppendOnly(Exception):
    pass


class Entry(models.Model):  # 积分流水
    class Kind(models.TextChoices):
        AWARD = "award", _("award")
        DEDUCTION = "deduction", _("deduction")
        REDEMPTION = "redemption", _("redemption")
        REFUND = "refund", _("refund")
        REVERSAL = "reversal", _("reversal")
        EXPIRY = "expiry", _("expiry")
        ADJUSTMENT = "adjustment", _("adjustment")
        # Balances moved between a resident's and a household's account when a community
        # switches its account unit (issue 15): out of one, into the other.
        TRANSFER = "transfer", _("transfer")

    # No index of its own: the indexes below all lead with the account.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("account"),
        db_index=False,
    )
    seq = models.PositiveIntegerField(_("sequence"))
    amount = models.IntegerField(_("amount"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="entries", verbose_name=_("quarter")
    )
    balance_after = models.IntegerField(_("balance after"))
    # What the entry adds to the account's honour points (荣誉积分): an award or an
    # adjustment its amount, a deduction its (negative) amount, a reversal minus the honour of
    # what it reverses, a transfer what it moves; redemption, refund and expiry 0.
    honour = models.IntegerField(_("honour points"), default=0, db_default=0)
    honour_after = models.IntegerField(_("honour after"), default=0, db_default=0)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    source_type = models.CharField(_("source"), max_length=32, blank=True)
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    key = models.CharField(_("idempotency key"), max_length=100)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    objects = EntryQuerySet.as_manager()
    scope_paths = _account_paths("account")

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["account_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["account", "seq"], name="entry_seq_unique_per_account"),
            models.UniqueConstraint(fields=["account", "key"], name="entry_key_unique_per_account"),
            # An entry moves points, or honour points (a transfer of honour alone, issue 15).
            models.CheckConstraint(
                condition=~Q(amount=0) | ~Q(honour=0), name="entry_moves_points_or_honour"
            ),
            models.CheckConstraint(condition=Q(seq__gt=0), name="entry_seq_positive"),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="entry_reversal_points_at_entry",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "kind"], name="entry_period_kind"),
            # An account's entries of a quarter (points earned this quarter, on the me/ page
            # and the card) in one index range, however long the account's history.
            models.Index(fields=["account", "period"], name="entry_account_period"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.amount:+d} → {self.balance_after}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerIsAppendOnly(_("Ledger entries cannot be changed; post a reversal."))
        # Always an INSERT: a new instance given the pk of an existing entry would otherwise
        # be saved with an UPDATE of that entry (Django tries UPDATE first when a pk is set).
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerIsAppendOnly(_("Ledger entries cannot be deleted; post a reversal."))
