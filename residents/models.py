"""Households, residents, the key-population tags on them, and visits (走访).

Over 600 lines on purpose: the residents app's models in the one models.py Django expects; a
third of it is the Need, with its statuses, the fields of the loop and their constraints.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scope import ScopedQuerySet, paths_through, paths_through_resident
from core.tracking import Tracked, TrackedQuerySet
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


class Household(Tracked):  # 户
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
    # Where the household is on the map (optional; WGS-84 as a phone's GPS gives it, set by
    # the first visit that records a position, or by hand). core.geo checks a pair.
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    objects = TrackedQuerySet.as_manager()
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
        indexes = [
            # The grid map's points: the few households placed, per grid (a partial index
            # holds only those, however many households there are).
            models.Index(
                fields=["grid"], condition=Q(latitude__isnull=False), name="household_located"
            )
        ]
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
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="household_location_valid",
                violation_error_message=_(
                    "Give both latitude (-90 to 90) and longitude (-180 to 180), or neither."
                ),
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


class Resident(Tracked):  # 居民 / 村民
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

    objects = TrackedQuerySet.as_manager()
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


class Visit(Tracked):  # 走访
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

    objects = TrackedQuerySet.as_manager()
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


# ---------------------------------------------------------------------------- needs (design §5)


def overdue_q(today: dt.date | None = None) -> Q:
    """Open needs past the due date of their assignment (or offer), on `today`."""
    return Q(status__in=Need.DUE_STATUSES, due_on__lt=today or timezone.localdate())


class NeedQuerySet(TrackedQuerySet["Need"]):
    def overdue(self, today: dt.date | None = None) -> Self:
        return self.filter(overdue_q(today))


class Need(Tracked):  # 需求 / 微心愿
    class Source(models.TextChoices):
        VISIT = "visit", pgettext_lazy("need source", "visit")  # 入户走访
        PATROL = "patrol", _("patrol")  # 网格巡查
        WECHAT = "wechat", _("WeChat group")  # 微信群
        HOTLINE = "hotline", _("12345 hotline")  # 12345 热线
        COUNCIL = "council", _("council")  # 议事会
        RESIDENT = "resident", _("resident")  # 居民自报

    class Category(models.TextChoices):
        INFRASTRUCTURE = "infrastructure", _("road, light or water")  # 路灯水
        ENVIRONMENT = "environment", _("environment")  # 环境卫生
        SAFETY = "safety", _("safety hazard")  # 安全隐患
        ELDERLY_CARE = "elderly_care", _("elderly care")  # 养老照护
        DISPUTE = "dispute", _("dispute")  # 矛盾纠纷
        POLICY = "policy", _("policy question")  # 政策咨询
        MICRO_WISH = "micro_wish", _("micro-wish")  # 微心愿
        OTHER = "other", _("other")

    class Priority(models.IntegerChoices):
        LOW = 1, _("low")
        NORMAL = 2, _("normal")
        HIGH = 3, _("high")
        URGENT = 4, _("urgent")

    class Status(models.TextChoices):
        NEW = "new", _("new")  # 待受理
        ACCEPTED = "accepted", _("accepted")  # 已受理
        ASSIGNED = "assigned", _("assigned")  # 已交办
        IN_PROGRESS = "in_progress", _("in progress")  # 办理中
        RESOLVED = "resolved", _("resolved")  # 已办结
        CLOSED = "closed", _("closed")  # 已关闭
        REJECTED = "rejected", _("rejected")  # 不予受理

    class Escalation(models.IntegerChoices):
        NONE = 0, _("not escalated")
        COMMUNITY = 1, _("escalated to the community")
        STREET = 2, _("escalated to the street")

    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.PROTECT, related_name="needs", verbose_name=_("grid")
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="needs",
        verbose_name=_("household"),
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="needs",
        verbose_name=_("resident"),
    )
    visit = models.ForeignKey(
        Visit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="needs",
        verbose_name=_("found on visit"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    title = models.CharField(pgettext_lazy("need", "title"), max_length=200)
    text = models.TextField(_("description"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    # Assignment (时效责任清单): to a worker, a department or a partner unit, with a due date.
    assigned_worker = models.ForeignKey(
        "grids.GridWorker",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_needs",
        verbose_name=_("assigned worker"),
    )
    assigned_department = models.CharField(_("assigned department"), max_length=100, blank=True)
    assigned_partner = models.ForeignKey(
        "grids.PartnerUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_needs",
        verbose_name=_("assigned partner unit"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    # Micro-wishes offered to partner units, whose contacts may claim one (接单).
    offered_to = models.ManyToManyField(
        "grids.PartnerUnit",
        blank=True,
        related_name="offered_needs",
        verbose_name=_("offered to"),
    )
    escalation = models.PositiveSmallIntegerField(
        _("escalation"), choices=Escalation.choices, default=Escalation.NONE
    )
    for_council = models.BooleanField(
        _("for the council"), default=False, help_text=_("Put on the next council's agenda.")
    )
    project = models.ForeignKey(
        "grids.Project",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="needs",
        verbose_name=_("project"),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    rejection_reason = models.TextField(
        _("explanation to the resident"),
        blank=True,
        help_text=_("Required when the need is rejected."),
    )
    claim = models.OneToOneField(
        "points.Claim",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="need",
        verbose_name=_("points claim"),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reported_needs",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_index=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # Still being handled; and, of those, the ones a due date applies to (set when the need is
    # assigned, or offered to partner units).
    OPEN_STATUSES = (Status.NEW, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS)
    DUE_STATUSES = (Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS)

    objects = NeedQuerySet.as_manager()
    scope_paths = {
        "street": "grid__community__street_id",
        "community": "grid__community_id",
        "grid": "grid_id",
        "partner": ("offered_to", "assigned_partner_id"),
        # The resident it is about, and the residents of the household it is about (a need
        # heard on a visit is often the household's, 户).
        "resident": ("resident_id", "household__residents"),
        # The worker it is assigned to, who may work in another grid of the community.
        "user": "assigned_worker__user_id",
    }

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["grid", "status"], name="need_grid_status"),
            models.Index(fields=["status", "due_on"], name="need_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="need_rejection_explained",
                violation_error_message=_("A rejected need needs an explanation."),
            ),
            # One assignee at a time: a worker, a department or a partner unit.
            models.CheckConstraint(
                condition=(
                    Q(assigned_worker__isnull=True, assigned_partner__isnull=True)
                    | Q(assigned_worker__isnull=True, assigned_department="")
                    | Q(assigned_partner__isnull=True, assigned_department="")
                ),
                name="need_one_assignee",
            ),
        ]
        # Each step of the loop is a permission of its own (core.roles gives them to roles).
        permissions = [
            ("accept_need", _("Can accept needs")),
            ("assign_need", _("Can assign needs")),
            ("offer_need", _("Can offer micro-wishes to partner units")),
            ("claim_need", _("Can claim micro-wishes for a partner unit")),
            ("start_need", _("Can start work on needs")),
            ("resolve_need", _("Can resolve needs")),
            ("reject_need", _("Can reject needs")),
            ("escalate_need", _("Can escalate needs")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return (
            self.status in self.DUE_STATUSES
            and self.due_on is not None
            and self.due_on < timezone.localdate()
        )


class NeedPhoto(models.Model):  # 现场照片
    need = models.ForeignKey(
        Need, on_delete=models.CASCADE, related_name="photos", verbose_name=_("need")
    )
    image = models.ImageField(_("photo"), upload_to="needs/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through("need", Need.scope_paths)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.image.name or ""


def need_status_label(code: str) -> str:
    """A need's status code in words ("" stays "")."""
    if not code:
        return ""
    try:
        return str(Need.Status(code).label)
    except ValueError:
        return code


class NeedEvent(models.Model):  # 办理过程: every change of a need, with who and when
    class Kind(models.TextChoices):
        RECORDED = "recorded", _("recorded")
        ACCEPTED = "accepted", _("accepted")
        ASSIGNED = "assigned", _("assigned")
        OFFERED = "offered", _("offered to partner units")
        CLAIMED = "claimed", _("claimed by a partner unit")
        STARTED = "started", _("started")
        RESOLVED = "resolved", _("resolved")
        REJECTED = "rejected", _("rejected")
        CLOSED = "closed", _("closed")
        ESCALATED = "escalated", _("escalated")
        RATED = "rated", _("rated")
        RECTIFICATION_OPENED = "rectification_opened", _("rectification opened")
        RECTIFICATION_DONE = "rectification_done", _("rectification done")
        RECTIFICATION_ACCEPTED = "rectification_accepted", _("rectification accepted")
        RECTIFICATION_RETURNED = "rectification_returned", _("rectification returned")
        COUNCIL = "council", _("put on a council agenda")
        UPDATED = "updated", _("details changed")
        PHOTO = "photo", _("photo added")
        NOTE = "note", _("note")

    need = models.ForeignKey(
        Need, on_delete=models.CASCADE, related_name="events", verbose_name=_("need")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the system did it (e.g. the daily escalation)."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through("need", Need.scope_paths)

    class Meta:
        verbose_name = _("need event")
        verbose_name_plural = _("need events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["need", "at"], name="need_event_timeline")]

    def __str__(self) -> str:
        return f"{self.need} {self.get_kind_display()}"

    # The statuses in words (待受理 → 已受理) for timelines; a code no longer in Need.Status
    # is shown as it is.
    @property
    def from_status_label(self) -> str:
        return need_status_label(self.from_status)

    @property
    def to_status_label(self) -> str:
        return need_status_label(self.to_status)


class Rating(models.Model):  # 好差评
    class Level(models.IntegerChoices):
        VERY_SATISFIED = 5, _("very satisfied")  # 非常满意
        SATISFIED = 4, _("satisfied")  # 满意
        NEUTRAL = 3, _("neutral")  # 一般
        DISSATISFIED = 2, _("dissatisfied")  # 不满意
        VERY_DISSATISFIED = 1, _("very dissatisfied")  # 非常不满意

    class Source(models.TextChoices):
        RESIDENT = "resident", _("rated by the resident")  # 居民自评
        PHONE = "phone", _("taken by phone")  # 电话回访: a grid worker records it

    need = models.OneToOneField(
        Need, on_delete=models.CASCADE, related_name="rating", verbose_name=_("need")
    )
    level = models.PositiveSmallIntegerField(_("rating"), choices=Level.choices)
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rated by"),
        help_text=_("The resident; for a rating taken by phone, the worker who recorded it."),
    )
    source = models.CharField(
        _("how it was given"),
        max_length=16,
        choices=Source.choices,
        default=Source.RESIDENT,
    )
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through("need", Need.scope_paths)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-rated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="rating_level_1_to_5"
            )
        ]
        permissions = [("phone_rating", _("Can record a rating taken by phone"))]

    def __str__(self) -> str:
        return f"{self.need} {self.get_level_display()}"

    @property
    def is_satisfied(self) -> bool:
        return self.level >= self.Level.SATISFIED

    @property
    def needs_rectification(self) -> bool:
        return self.level <= self.Level.DISSATISFIED


class Rectification(models.Model):  # 整改: opened by a low rating, ends when done and accepted
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("rectification", "open")
        DONE = "done", _("done, awaiting acceptance")
        ACCEPTED = "accepted", pgettext_lazy("rectification", "accepted")

    need = models.OneToOneField(
        Need, on_delete=models.CASCADE, related_name="rectification", verbose_name=_("need")
    )
    rating = models.OneToOneField(
        Rating, on_delete=models.CASCADE, related_name="rectification", verbose_name=_("rating")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    due_on = models.DateField(_("due on"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_note = models.TextField(_("what was done"), blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through("need", Need.scope_paths)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["due_on", "id"]
        permissions = [("accept_rectification", _("Can accept or return rectifications"))]

    def __str__(self) -> str:
        return f"{self.need} ({self.get_status_display()})"

    @property
    def on_time(self) -> bool | None:
        """Accepted by the due date (Beijing date); None while not accepted."""
        if self.accepted_at is None:
            return None
        return timezone.localdate(self.accepted_at) <= self.due_on


# ---------------------------------------------------------------------------- absences (issue 15)


class Absence(models.Model):  # 外出登记: a resident recorded away (外出务工, 住院, 探亲 …)
    """A span of days a resident was (or is) away from home, as a grid worker recorded it.

    The points anomaly report (reports.anomalies) flags claims dated on such a day: a resident
    working in the city did not sweep the village square that morning. `ends_on` empty: still
    away, until someone records the return.
    """

    class Reason(models.TextChoices):
        MIGRANT_WORK = "migrant_work", _("working away")  # 外出务工
        HOSPITAL = "hospital", _("in hospital")  # 住院
        VISITING_FAMILY = "visiting_family", _("visiting family")  # 探亲
        STUDY = "study", _("studying away")  # 外出求学
        OTHER = "other", _("other")

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="absences", verbose_name=_("resident")
    )
    starts_on = models.DateField(_("away from"))
    ends_on = models.DateField(
        _("away until"),
        null=True,
        blank=True,
        help_text=_("The last day away; empty while the resident is still away."),
    )
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_resident("resident")

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["resident", "starts_on"], name="absence_resident_span")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="absence_ends_after_start",
                violation_error_message=_("The last day away cannot be before the first."),
            ),
        ]

    def __str__(self) -> str:
        end = self.ends_on.isoformat() if self.ends_on else "…"
        return f"{self.resident} {self.get_reason_display()} {self.starts_on.isoformat()}–{end}"

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)
