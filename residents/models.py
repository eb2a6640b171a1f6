"""Households, residents, the key-population tags on them, and visits (走访)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scope import ScopedQuerySet
from core.validators import (
    id_birth_date,
    id_gender,
    normalize_id_number,
    validate_id_number,
    validate_phone,
)


class Tag(models.Model):  # 重点人群标签: 独居老人, 残疾人, 困难家庭 …
    name = models.CharField(_("name"), max_length=50, unique=True)
    visit_every_days = models.PositiveSmallIntegerField(
        _("visit every (days)"),
        null=True,
        blank=True,
        help_text=_("Residents with this tag are due a visit this often; empty for no schedule."),
    )

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visit_every_days__isnull=True) | Q(visit_every_days__gt=0),
                name="tag_visit_frequency_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):  # 户
    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.PROTECT, related_name="households", verbose_name=_("grid")
    )
    # An urban address: 小区 / 楼栋 / 单元 / 房号.
    complex = models.CharField(_("housing complex"), max_length=100, blank=True)
    building = models.CharField(_("building"), max_length=20, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    room = models.CharField(_("room"), max_length=20, blank=True)
    # A village address: 村民组 / 门牌号.
    village_group = models.CharField(_("village group"), max_length=50, blank=True)
    house_number = models.CharField(_("house number"), max_length=20, blank=True)
    head = models.ForeignKey(
        "Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("head of household"),
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        "street": "grid__community__street_id",
        "community": "grid__community_id",
        "grid": "grid_id",
        "resident": "residents",
    }

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(complex="") | ~Q(house_number=""),
                name="household_has_an_address",
                violation_error_message=_(
                    "Give a housing complex (urban) or a house number (village)."
                ),
            ),
            models.UniqueConstraint(
                fields=[
                    "grid",
                    "complex",
                    "building",
                    "unit",
                    "room",
                    "village_group",
                    "house_number",
                ],
                name="household_address_unique_in_grid",
                violation_error_message=_("This grid already has a household at this address."),
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        if self.complex:
            parts = [
                self.complex,
                self.building and f"{self.building}号楼",
                self.unit and f"{self.unit}单元",
                self.room,
            ]
        else:
            parts = [self.village_group, self.house_number and f"{self.house_number}号"]
        return "".join(p for p in parts if p)


class Resident(models.Model):  # 居民 / 村民
    class Gender(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="residents", verbose_name=_("household")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)  # 姓名
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_number = models.CharField(
        _("ID number"), max_length=18, unique=True, validators=[validate_id_number]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    is_party_member = models.BooleanField(_("party member"), default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="residents", verbose_name=_("tags"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("login"),
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        "street": "household__grid__community__street_id",
        "community": "household__grid__community_id",
        "grid": "household__grid_id",
        "resident": "id",
    }

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["id"]
        permissions = [("view_full_id_number", _("Can see full ID numbers"))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The birth date and gender must agree with the ID number, which carries both."""
        self.id_number = normalize_id_number(self.id_number)
        try:
            validate_id_number(self.id_number)
        except ValidationError:
            return  # the field validator reports it
        errors = {}
        if self.birth_date and self.birth_date != id_birth_date(self.id_number):
            errors["birth_date"] = _("The birth date does not match the ID number.")
        if self.gender and self.gender != id_gender(self.id_number):
            errors["gender"] = _("The gender does not match the ID number.")
        if errors:
            raise ValidationError(errors)


class Visit(models.Model):  # 走访
    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("in person")  # 入户
        PHONE = "phone", _("by phone")  # 电话
        APPOINTMENT = "appointment", _("by appointment")  # 预约走访
        OFF_PEAK = "off_peak", _("off-peak")  # 错时走访

    worker = models.ForeignKey(
        "grids.GridWorker",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("worker"),
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="visits", verbose_name=_("household")
    )
    visited_at = models.DateTimeField(_("visited at"), default=timezone.now)
    method = models.CharField(
        _("method"), max_length=16, choices=Method.choices, default=Method.IN_PERSON
    )
    notes = models.TextField(_("notes"), blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        "street": "household__grid__community__street_id",
        "community": "household__grid__community_id",
        "grid": "household__grid_id",
    }

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["household", "-visited_at"], name="visit_household_latest"),
            models.Index(fields=["worker", "-visited_at"], name="visit_worker_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_at:%Y-%m-%d}"
