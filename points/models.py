"""The points ledger: rules (积分细则), claims, accounts, entries, quarters (periods),
objections to the public notice.

The ledger (Entry) is append-only: a mistake is corrected by a reversal entry that points at
the entry it reverses. Each account stores its balance and the sequence number of its last
entry; both change in the same transaction as the entry, under a row lock on the account.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.scope import ScopedQuerySet, paths_through_community, paths_through_resident


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
        q = (day.month - 1) // 3 + 1
        start = dt.date(day.year, 3 * q - 2, 1)
        end = dt.date(day.year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
        return f"{day.year}Q{q}", start, end


class Policy(models.Model):  # 积分制度设置 (per community)
    community = models.OneToOneField(
        "grids.Community",
        on_delete=models.CASCADE,
        related_name="points_policy",
        verbose_name=_("community"),
    )
    objection_days = models.PositiveSmallIntegerField(
        _("objection window (days)"),
        default=7,
        help_text=_("Days after the quarter ends during which residents may object to entries."),
    )
    auto_open_redemption = models.BooleanField(
        _("open the redemption window automatically"),
        default=False,
        help_text=_("Open the redemption window the day after each quarter ends."),
    )
    redemption_days = models.PositiveSmallIntegerField(
        _("redemption window (days)"),
        default=7,
        help_text=_("How long an automatically opened redemption window stays open."),
    )
    collection_days = models.PositiveSmallIntegerField(
        _("collection deadline (days)"),
        default=14,
        help_text=_(
            "Days after the redemption window closes by which orders must be collected; "
            "orders not collected by then are refunded."
        ),
    )
    expire_after_quarters = models.PositiveSmallIntegerField(
        _("points expire after (quarters)"),
        null=True,
        blank=True,
        help_text=_(
            "At the close of a quarter, points not earned in this many quarters (this one "
            "included) and not spent expire. Empty: points never expire."
        ),
    )

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")

    def __str__(self) -> str:
        return str(self.community)


class Rule(models.Model):  # 积分增减细则
    class Category(models.TextChoices):
        BASE = "base", _("base points")  # 基础分
        REWARD = "reward", _("reward points")  # 奖励分
        DEDUCTION = "deduction", _("deduction")  # 扣分

    street = models.ForeignKey(
        "grids.Street",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="default_rules",
        verbose_name=_("street (default book)"),
    )
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("community"),
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    points = models.PositiveIntegerField(
        _("points"), help_text=_("The fixed points, or the maximum when 'up to' is ticked.")
    )
    up_to = models.BooleanField(
        _("up to"), default=False, help_text=_("Any amount from 1 to the points may be claimed.")
    )
    cap_per_quarter = models.PositiveIntegerField(
        _("cap per resident per quarter"),
        null=True,
        blank=True,
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["community_id", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(street__isnull=True, community__isnull=False)
                | Q(street__isnull=False, community__isnull=True),
                name="rule_belongs_to_street_or_community",
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="rule_points_positive"),
            models.UniqueConstraint(
                fields=["community", "code"], name="rule_code_unique_in_community"
            ),
            models.UniqueConstraint(fields=["street", "code"], name="rule_code_unique_in_street"),
        ]

    def __str__(self) -> str:
        sign = "-" if self.category == self.Category.DEDUCTION else "+"
        return f"{self.name} ({sign}{'≤' if self.up_to else ''}{self.points})"

    @property
    def sign(self) -> int:
        return -1 if self.category == self.Category.DEDUCTION else 1


class Claim(models.Model):  # 积分申报
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="point_claims",
        verbose_name=_("resident"),
    )
    rule = models.ForeignKey(
        Rule, on_delete=models.PROTECT, related_name="claims", verbose_name=_("rule")
    )
    points = models.PositiveIntegerField(_("points"))
    occurred_on = models.DateField(_("occurred on"))
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="claims", verbose_name=_("quarter")
    )
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    likely_duplicate = models.BooleanField(
        _("likely duplicate"),
        default=False,
        help_text=_("Another claim for the same resident, rule and day exists."),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reject_reason = models.TextField(_("reason for rejection"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_resident("resident")

    class Meta:
        verbose_name = _("points claim")
        verbose_name_plural = _("points claims")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="claim_points_positive"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""),
                name="claim_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("submitted_by")),
                name="claim_decider_is_not_submitter",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "period"], name="claim_queue"),
            models.Index(fields=["resident", "rule", "period"], name="claim_cap"),
        ]

    def __str__(self) -> str:
        return f"{self.resident} {self.rule.name} {self.rule.sign * self.points:+d}"


class Account(models.Model):  # 积分账户 (and its card, 积分卡)
    resident = models.OneToOneField(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="point_account",
        verbose_name=_("resident"),
    )
    card_number = models.CharField(_("card number"), max_length=16, unique=True)
    balance = models.IntegerField(_("balance"), default=0)
    last_seq = models.PositiveIntegerField(_("entries"), default=0)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_resident("resident")

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.resident} {self.balance}"


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
    scope_paths = paths_through_resident("account__resident")

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["account_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["account", "seq"], name="entry_seq_unique_per_account"),
            models.UniqueConstraint(fields=["account", "key"], name="entry_key_unique_per_account"),
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
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

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise LedgerIsAppendOnly(_("Ledger entries cannot be changed; post a reversal."))
        # Always an INSERT: a new instance given the pk of an existing entry would otherwise
        # be saved with an UPDATE of that entry (Django tries UPDATE first when a pk is set).
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise LedgerIsAppendOnly(_("Ledger entries cannot be deleted; post a reversal."))


class Objection(models.Model):  # 公示异议
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        DISMISSED = "dismissed", _("dismissed")

    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="objections", verbose_name=_("entry")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True)
    correction = models.OneToOneField(
        Entry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("correcting entry"),
    )
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_resident("entry__account__resident")

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(decision_note=""),
                name="objection_decision_has_reason",
            ),
            # Two residents' taps at once cannot both open an objection to one entry.
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(status="open"),
                name="one_open_objection_per_entry",
                violation_error_message=_(
                    "An objection to this entry is already waiting for a decision."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry} — {self.get_status_display()}"


# ----------------------------------------------------------------------------- redemption


class CatalogItem(models.Model):  # 积分云超市商品
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.CASCADE,
        related_name="catalog_items",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    points = models.PositiveIntegerField(_("points"))
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    limit_per_quarter = models.PositiveIntegerField(
        _("limit per resident per quarter"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("catalog item")
        verbose_name_plural = _("catalog items")
        ordering = ["community_id", "points", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="catalog_item_points_positive"),
            models.CheckConstraint(
                condition=Q(limit_per_quarter__isnull=True) | Q(limit_per_quarter__gt=0),
                name="catalog_item_limit_positive",
            ),
            models.UniqueConstraint(
                fields=["community", "name"], name="catalog_item_name_unique_in_community"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points})"


class RedemptionWindow(models.Model):  # 兑换窗口: when residents order goods for a quarter
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="redemption_windows",
        verbose_name=_("quarter"),
    )
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.CASCADE,
        related_name="redemption_windows",
        verbose_name=_("community"),
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
        help_text=_("Empty when the window was opened automatically."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("redemption window")
        verbose_name_plural = _("redemption windows")
        ordering = ["-opens_on", "community_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "community"], name="one_redemption_window_per_community"
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")), name="redemption_window_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.community} {self.opens_on}–{self.closes_on}"

    def is_open_on(self, day: dt.date) -> bool:
        return self.opens_on <= day <= self.closes_on


class Order(models.Model):  # 兑换订单
    class Status(models.TextChoices):
        PLACED = "placed", _("placed")
        CANCELLED = "cancelled", _("cancelled")
        FROZEN = "frozen", _("frozen")  # by the close of the quarter
        HANDED_OVER = "handed_over", _("handed over")
        REFUNDED = "refunded", _("refunded")  # not collected by the deadline

    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="redemption_orders",
        verbose_name=_("resident"),
    )
    # The resident's community when the order was placed: the window, the purchase list and
    # the close are per community, and stay so if the household moves later.
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.PROTECT,
        related_name="redemption_orders",
        verbose_name=_("community"),
    )
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="redemption_orders",
        verbose_name=_("quarter"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLACED
    )
    total_points = models.PositiveIntegerField(_("total points"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("placed by"),
    )
    placed_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed over by"),
    )
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_resident("resident")

    class Meta:
        verbose_name = _("redemption order")
        verbose_name_plural = _("redemption orders")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_points__gt=0), name="order_total_points_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="handed_over")
                | Q(handed_over_at__isnull=False, handed_over_by__isnull=False),
                name="order_handed_over_says_when_and_by_whom",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "community", "status"], name="order_period_community"),
            models.Index(fields=["resident", "period"], name="order_resident_period"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.resident} {self.total_points}"


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    item = models.ForeignKey(
        CatalogItem, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("item")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    points = models.PositiveIntegerField(
        _("points per unit"), help_text=_("The item's points when the order was placed.")
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "item"], name="order_line_item_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.name} × {self.quantity}"


# ----------------------------------------------------------------------------- the close


class Closing(models.Model):  # 季度结算: the close job of a quarter and its progress
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")

    period = models.OneToOneField(
        Period, on_delete=models.PROTECT, related_name="closing", verbose_name=_("quarter")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    communities_total = models.PositiveIntegerField(_("communities to close"), default=0)
    communities_done = models.PositiveIntegerField(_("communities closed"), default=0)

    class Meta:
        verbose_name = _("close of a quarter")
        verbose_name_plural = _("closes of quarters")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.period} {self.communities_done}/{self.communities_total}"


class ClosedCommunity(models.Model):
    """A community whose part of the close is committed: the marker that makes it resumable."""

    closing = models.ForeignKey(
        Closing, on_delete=models.CASCADE, related_name="closed", verbose_name=_("close")
    )
    community = models.ForeignKey(
        "grids.Community", on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    closed_at = models.DateTimeField(_("closed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("closed community")
        verbose_name_plural = _("closed communities")
        constraints = [
            models.UniqueConstraint(
                fields=["closing", "community"], name="community_closed_once_per_closing"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.closing.period} {self.community}"


class PurchaseLine(models.Model):  # 采购清单: what the committee buys
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="purchase_lines", verbose_name=_("quarter")
    )
    community = models.ForeignKey(
        "grids.Community", on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    item = models.ForeignKey(
        CatalogItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    points_total = models.PositiveIntegerField(_("points"))

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("purchase line")
        verbose_name_plural = _("purchase list")
        ordering = ["period_id", "community_id", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "community", "item"], name="purchase_line_item_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.name} × {self.quantity}"


class DistributionLine(models.Model):  # 发放清单: one line per frozen order, signed on hand-over
    period = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="distribution_lines",
        verbose_name=_("quarter"),
    )
    community = models.ForeignKey(
        "grids.Community", on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
    household = models.ForeignKey(
        "residents.Household",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("household"),
    )
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resident"),
    )
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="distribution_line", verbose_name=_("order")
    )
    items = models.TextField(_("items"))
    total_points = models.PositiveIntegerField(_("total points"))

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        "street": "community__street_id",
        "community": "community_id",
        "grid": "grid_id",
    }

    class Meta:
        verbose_name = _("distribution line")
        verbose_name_plural = _("distribution list")
        ordering = ["period_id", "grid_id", "household_id", "resident_id", "order_id"]
        indexes = [models.Index(fields=["period", "grid"], name="distribution_period_grid")]

    def __str__(self) -> str:
        return f"{self.resident} {self.items}"


class NoticeLine(models.Model):  # 季度公示, as stored by the close
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="notice_lines", verbose_name=_("quarter")
    )
    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid")
    )
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resident"),
    )
    masked_name = models.CharField(_("name"), max_length=100)
    earned = models.IntegerField(_("earned"))
    balance = models.IntegerField(_("balance"))

    class Meta:
        verbose_name = _("notice line")
        verbose_name_plural = _("stored notices")
        ordering = ["period_id", "grid_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "resident"], name="notice_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.masked_name} {self.earned}"
