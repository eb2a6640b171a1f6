"""The territory and the people who work it: street → community → grid, grid workers and their
assignments, committee members and street admins (who give a user a scope), partner units."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scope import ScopedQuerySet
from core.validators import validate_phone

code_validator = RegexValidator(r"^[A-Za-z0-9_-]+$", _("Use letters, digits, '-' and '_' only."))


class Street(models.Model):  # 街道 / 乡镇
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])

    objects = ScopedQuerySet.as_manager()
    scope_paths = {"street": "id", "community": "communities", "grid": "communities__grids"}

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Community(models.Model):  # 社区 / 村
    class Kind(models.TextChoices):
        URBAN = "urban", _("urban community")  # 社区
        VILLAGE = "village", _("village")  # 村

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("street")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.URBAN)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        "street": "street_id",
        "community": "id",
        "grid": "grids",
        "partner": "partner_units",  # a partner contact sees the communities it signed with
    }

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"], name="community_name_unique_in_street"
            )
        ]

    def __str__(self) -> str:
        return self.name


class GridWorker(models.Model):  # 网格员 (专职 / 兼职)
    class Kind(models.TextChoices):
        FULL_TIME = "full_time", _("full-time")  # 专职
        PART_TIME = "part_time", _("part-time")  # 兼职

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="grid_worker",
        verbose_name=_("login"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="grid_workers",
        verbose_name=_("community"),
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)  # 姓名
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FULL_TIME)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    is_party_member = models.BooleanField(_("party member"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        "street": "community__street_id",
        "community": "community_id",
        "grid": "assignments__grid",
        "user": "user_id",
    }

    class Meta:
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):  # 网格 (居民网格 / 专属网格)
    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("residential grid")  # 居民网格
        DEDICATED = "dedicated", _("dedicated grid")  # 专属网格 (a school, a market, a unit)

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.RESIDENTIAL
    )
    leader = models.ForeignKey(
        GridWorker,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_grids",
        verbose_name=_("grid leader"),
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = {"street": "community__street_id", "community": "community_id", "grid": "id"}
    str_select_related = ("community",)  # __str__ names the community

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "code"], name="grid_code_unique_in_community"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}"


class AssignmentQuerySet(ScopedQuerySet):
    def current(self, on: object | None = None) -> AssignmentQuerySet:
        """Assignments in force on a date (today by default): started, and not yet ended."""
        day = on or timezone.localdate()
        return self.filter(Q(end_date__isnull=True) | Q(end_date__gte=day), start_date__lte=day)


class GridAssignment(models.Model):  # 网格员 ↔ 网格 (任期)
    worker = models.ForeignKey(
        GridWorker, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("worker")
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("grid")
    )
    start_date = models.DateField(_("start date"), default=timezone.localdate)
    end_date = models.DateField(_("end date"), null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()
    scope_paths = {
        "street": "grid__community__street_id",
        "community": "grid__community_id",
        "grid": "grid_id",
    }

    class Meta:
        verbose_name = _("grid assignment")
        verbose_name_plural = _("grid assignments")
        ordering = ["grid_id", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["worker", "grid"])]

    def __str__(self) -> str:
        return f"{self.worker} → {self.grid}"


class CommitteeMember(models.Model):  # 社区居委会 / 村"两委" 成员
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="committee_seats",
        verbose_name=_("login"),
    )
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="committee", verbose_name=_("community")
    )
    title = models.CharField(_("title"), max_length=50, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {"street": "community__street_id", "community": "community_id"}

    class Meta:
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="one_seat_per_community")
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.title} {self.user}"


class StreetAdmin(models.Model):  # 街道/镇 管理员
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="street_posts",
        verbose_name=_("login"),
    )
    street = models.ForeignKey(
        Street, on_delete=models.CASCADE, related_name="admins", verbose_name=_("street")
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = {"street": "street_id"}

    class Meta:
        verbose_name = _("street admin")
        verbose_name_plural = _("street admins")
        constraints = [
            models.UniqueConstraint(fields=["user", "street"], name="one_post_per_street")
        ]

    def __str__(self) -> str:
        return f"{self.street} {self.user}"


class PartnerUnit(models.Model):  # 共建单位
    name = models.CharField(_("name"), max_length=100, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(
        _("contact phone"), max_length=20, blank=True, validators=[validate_phone]
    )
    contacts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="partner_units",
        verbose_name=_("contact logins"),
        help_text=_("Users who act for this unit (the partner role)."),
    )
    communities = models.ManyToManyField(
        Community,
        through="PartnerAgreement",
        related_name="partner_units",
        verbose_name=_("communities"),
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        "street": "communities__street_id",
        "community": "communities",
        "grid": "communities__grids",
        "partner": "id",
    }

    class Meta:
        verbose_name = _("partner unit")
        verbose_name_plural = _("partner units")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class PartnerAgreement(models.Model):  # 共建协议
    unit = models.ForeignKey(
        PartnerUnit, on_delete=models.CASCADE, related_name="agreements", verbose_name=_("unit")
    )
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="agreements", verbose_name=_("community")
    )
    signed_on = models.DateField(_("agreement date"))

    class Meta:
        verbose_name = _("partner agreement")
        verbose_name_plural = _("partner agreements")
        constraints = [
            models.UniqueConstraint(fields=["unit", "community"], name="one_agreement_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.unit} ↔ {self.community}"
