"""The quarterly redemption (积分云超市): the community's catalog, its redemption windows and
the residents' orders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.scope import ScopedQuerySet, paths_through_community, paths_through_resident
from points.models.ledger import Period


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
    # Where and when the goods are handed out (shown to residents after they order).
    pickup_place = models.CharField(
        _("pickup place"),
        max_length=200,
        blank=True,
        help_text=_("Where residents collect what they ordered, e.g. the village committee."),
    )
    pickup_time = models.CharField(
        _("pickup time"),
        max_length=200,
        blank=True,
        help_text=_("When residents collect what they ordered, e.g. 2027-01-12 9:00–11:30."),
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
                condition=Q(closes_on__gte=F("opens_on")),
                name="redemption_window_dates",
                violation_error_code="window_dates",
                violation_error_message=_("The window cannot close before it opens."),
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
    # The account the order debited (and a refund credits): the resident's, or with household
    # accounts the household's. Empty only on orders from before household accounts existed.
    account = models.ForeignKey(
        "points.Account",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("account"),
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
