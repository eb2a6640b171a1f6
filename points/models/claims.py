"""Claims (积分申报) under a community's rules (积分增减细则), its points policy, and objections
(公示异议) to entries of the public notice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scope import (
    ScopedQuerySet,
    paths_through,
    paths_through_community,
    paths_through_resident,
)
from points.models.governance import refuse_change_of_adopted
from points.models.ledger import Account, Entry, Period


class Policy(models.Model):  # 积分制度设置 (per community)
    class AccountUnit(models.TextChoices):
        RESIDENT = "resident", _("each resident")
        HOUSEHOLD = "household", _("each household")  # 以户为单位

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

    account_unit = models.CharField(
        _("points are counted for"),
        max_length=16,
        choices=AccountUnit.choices,
        default=AccountUnit.RESIDENT,
        help_text=_(
            "With households (以户为单位), claims are still made for a resident but post to the "
            "household's account, which its head and members see and spend. Change it with "
            "'switch account unit' at a quarter boundary: balances move with transfer entries."
        ),
    )
    # 双轨制: exchange points (the balance) may be cleared once a year; honour points never.
    reset_month = models.PositiveSmallIntegerField(
        _("yearly reset of exchange points: month"),
        null=True,
        blank=True,
        help_text=_(
            "On this date every year the exchange points left are cleared (expiry entries); "
            "honour points are kept. Empty: no yearly reset."
        ),
    )
    reset_day = models.PositiveSmallIntegerField(
        _("yearly reset of exchange points: day"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(reset_month__isnull=True, reset_day__isnull=True)
                | Q(
                    reset_month__isnull=False,
                    reset_day__isnull=False,
                    reset_month__gte=1,
                    reset_month__lte=12,
                    reset_day__gte=1,
                    reset_day__lte=28,
                ),
                name="policy_reset_date_valid",
                violation_error_message=_(
                    "Give both month (1-12) and day (1-28) of the yearly reset, or neither."
                ),
            ),
        ]

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
    # The version of the community's (or street's) rule book this rule belongs to (issue 15):
    # a claim uses the version in force on its date; changing a rule makes a new version.
    book = models.ForeignKey(
        "points.RuleBook",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("rule book"),
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
            # A code is unique in its rule book version (the same code is in every version);
            # rules of no version yet (unversioned, before a community's first book) by owner.
            models.UniqueConstraint(fields=["book", "code"], name="rule_code_unique_in_book"),
            models.UniqueConstraint(
                fields=["community", "code"],
                condition=Q(book__isnull=True),
                name="rule_code_unique_unversioned_community",
            ),
            models.UniqueConstraint(
                fields=["street", "code"],
                condition=Q(book__isnull=True),
                name="rule_code_unique_unversioned_street",
            ),
        ]

    def __str__(self) -> str:
        sign = "-" if self.category == self.Category.DEDUCTION else "+"
        return f"{self.name} ({sign}{'≤' if self.up_to else ''}{self.points})"

    # A rule of an adopted rule book version is history: refused with a clear message here,
    # and by the database on PostgreSQL (points.models.governance.refuse_change_of_adopted).
    def save(self, *args: Any, **kwargs: Any) -> None:
        refuse_change_of_adopted(self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        refuse_change_of_adopted(self)
        return super().delete(*args, **kwargs)

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
    # The account the claim posts to once approved: the resident's, or with household accounts
    # the household's (points.services.ledger.account_for). Set when it is submitted (empty:
    # found at approval); moved with the balances when the community switches its unit.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        verbose_name=_("account"),
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


class Objection(models.Model):  # 公示异议
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("objection", "open")  # 待处理
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
    scope_paths = paths_through("entry", Entry.scope_paths)

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
