"""Points governance (issue 15): versioned rule books (村规民约 / 积分细则 as a village decision),
the record of a community switching its account unit, and of the yearly reset of exchange
points (双轨制)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scope import ScopedQuerySet, paths_through_community
from points.models.ledger import Period


class RuleBook(models.Model):  # 积分细则 (村规民约) 的一个版本
    """One version of a community's (or a street's default) rule book, as adopted by a village
    meeting or council: its rules are points.Rule rows with `book` = this version.

    A version in force is never edited: changing a rule makes a new version (a draft, copied
    from the one before), which takes effect from its `effective_from`; the version before it
    then ends the day before. A claim uses the version in force on the day it happened.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")  # being prepared; its rules may still change
        ADOPTED = "adopted", _("adopted")  # approved; in force from effective_from

    street = models.ForeignKey(
        "grids.Street",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rule_books",
        verbose_name=_("street (default book)"),
    )
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rule_books",
        verbose_name=_("community"),
    )
    version = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(pgettext_lazy("rule book", "title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    # The approval record: when, by which meeting, with the minutes or resolution attached.
    adopted_on = models.DateField(_("meeting date"), null=True, blank=True)
    adopted_by = models.CharField(
        _("adopted by"),
        max_length=200,
        blank=True,
        help_text=_("The meeting that adopted it, e.g. 村民代表大会 or 村民议事会."),
    )
    council = models.ForeignKey(
        "grids.Council",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rule_books",
        verbose_name=_("council meeting"),
    )
    attachment = models.FileField(
        _("attachment"),
        upload_to="rulebooks/%Y/",
        blank=True,
        help_text=_("The resolution or minutes of the meeting (PDF or photo)."),
    )
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(
        _("in force until"),
        null=True,
        blank=True,
        help_text=_("Set when the next version takes effect: the day before it."),
    )
    note = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("rule book version")
        verbose_name_plural = _("rule book versions")
        ordering = ["community_id", "street_id", "-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(street__isnull=True, community__isnull=False)
                | Q(street__isnull=False, community__isnull=True),
                name="rulebook_belongs_to_street_or_community",
            ),
            models.UniqueConstraint(
                fields=["community", "version"], name="rulebook_version_unique_in_community"
            ),
            models.UniqueConstraint(
                fields=["street", "version"], name="rulebook_version_unique_in_street"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="rulebook_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(adopted_on__isnull=False),
                name="rulebook_adopted_has_meeting_date",
                violation_error_message=_("An adopted version needs its meeting date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class UnitSwitch(models.Model):  # 计分单位切换: resident ↔ household accounts, with transfers
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.PROTECT,
        related_name="account_unit_switches",
        verbose_name=_("community"),
    )
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="+", verbose_name=_("quarter")
    )
    from_unit = models.CharField(_("from"), max_length=16)
    to_unit = models.CharField(_("to"), max_length=16)
    accounts_closed = models.PositiveIntegerField(_("accounts emptied"), default=0)
    points_moved = models.IntegerField(_("points moved"), default=0)
    honour_moved = models.IntegerField(_("honour points moved"), default=0)
    switched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("switched by"),
    )
    switched_at = models.DateTimeField(_("switched at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("account unit switch")
        verbose_name_plural = _("account unit switches")
        ordering = ["-switched_at"]

    def __str__(self) -> str:
        return f"{self.community} {self.period}: {self.from_unit} → {self.to_unit}"


class ExchangeReset(models.Model):  # 兑换积分年度清零: done once per community and year
    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.PROTECT,
        related_name="exchange_resets",
        verbose_name=_("community"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    reset_on = models.DateField(_("reset on"))
    entries = models.PositiveIntegerField(_("entries posted"), default=0)
    points_cleared = models.PositiveIntegerField(_("points cleared"), default=0)
    done_at = models.DateTimeField(_("done at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("yearly reset of exchange points")
        verbose_name_plural = _("yearly resets of exchange points")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "year"], name="exchange_reset_once_a_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.year}"


def refuse_change_of_adopted(rule: models.Model) -> None:
    """Refuse to add, change or delete a rule (points.Rule) of an adopted rule book version:
    an adopted version is the record of a village decision and is never edited (issue 15).
    Changing a rule, deactivating it included, is done in a new version. The database refuses
    too on PostgreSQL (points/migrations/0010_rule_books.py)."""
    from django.core.exceptions import ValidationError

    book_ids = {rule.book_id} if rule.book_id else set()  # type: ignore[attr-defined]
    if rule.pk is not None and not rule._state.adding:
        stored = type(rule)._default_manager.filter(pk=rule.pk).values_list("book_id", flat=True)
        book_ids |= {book_id for book_id in stored if book_id}
    if not book_ids:
        return
    adopted = RuleBook.objects.filter(pk__in=book_ids, status=RuleBook.Status.ADOPTED).first()
    if adopted is not None:
        raise ValidationError(adopted_rule_message(adopted), code="rule_book_adopted")


def adopted_rule_message(book: RuleBook) -> str:
    from django.utils.translation import gettext

    return gettext(
        "This rule belongs to version %(version)d of the rule book, which is adopted and never "
        "changed: make a new version and change the rule there."
    ) % {"version": book.version}
