"""The close of a quarter (季度结算): the job and its progress per community, and what it
stores: the purchase list, the distribution list and the public notice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scope import ScopedQuerySet, paths_through_community
from points.models.ledger import Period
from points.models.redemption import CatalogItem, Order


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
