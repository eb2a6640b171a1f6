"""The territory and the people who work it: street → community → grid, grid workers and their
assignments, committee members and street admins (who give a user a scope), partner units."""

from __future__ import annotations

import datetime as dt
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import geo
from core.scope import ScopedQuerySet, paths_through, paths_through_community
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
    # Opt-in: the community's figures page at /public/<code>/ (no login, no personal data).
    public_page = models.BooleanField(
        _("public figures page"),
        default=False,
        help_text=_(
            "Publish needs received and resolved, satisfaction and the quarter's notice at "
            "/public/<code>/, without login. Never names, addresses or phone numbers."
        ),
    )

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
    # The grid's outline on the map (网格地图): a GeoJSON Polygon in the recorded coordinate
    # system, checked by core.geo.clean_polygon (the admin form and the demo go through it).
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    boundary_crs = models.CharField(
        _("coordinate system"), max_length=8, choices=geo.CRS_CHOICES, default=geo.WGS84
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

    def clean(self) -> None:
        if self.boundary is not None:
            try:
                self.boundary = geo.clean_polygon(self.boundary, crs=self.boundary_crs)
            except ValidationError as e:
                raise ValidationError({"boundary": e.messages}) from None


class AssignmentQuerySet(ScopedQuerySet["GridAssignment"]):
    def current(self, on: dt.date | None = None) -> Self:
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
    # 纪检监督 (issue 15): a discipline inspector's seat reads the community's points (claims,
    # ledger, objections, rule books, the anomaly report, the audit export) and decides nothing:
    # core.scope keeps it out of the committee's `community_ids`. Give the login the inspector
    # role (core.roles.INSPECTOR), not the committee's.
    inspector = models.BooleanField(
        _("discipline inspector (read only)"),
        default=False,
        db_default=False,
        help_text=_(
            "纪检监督: reads this community's points records and audit export, and decides "
            "nothing. Give the login the inspector role."
        ),
    )

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


# ---------------------------------------------------------------------------- lists (design §5)


class Project(models.Model):  # 项目清单: a larger work that groups needs
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("project", "planned")
        IN_PROGRESS = "in_progress", pgettext_lazy("project", "in progress")
        DONE = "done", _("done")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.CharField(
        _("owner"), max_length=100, help_text=_("The person or department answerable for it.")
    )
    budget = models.DecimalField(
        _("budget (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="project_progress_le_100"),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
                name="project_budget_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):  # 资源清单: what partner units and organisations offer
    class Kind(models.TextChoices):
        SERVICE = "service", _("service")
        VENUE = "venue", _("venue")
        FUNDS = "funds", _("funds")
        GOODS = "goods", _("goods")
        EXPERTISE = "expertise", _("expertise")

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="resources",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SERVICE)
    description = models.TextField(_("description"), blank=True)
    provider = models.CharField(
        _("provider"), max_length=200, help_text=_("Who offers it, as it should be listed.")
    )
    partner_unit = models.ForeignKey(
        PartnerUnit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="resources",
        verbose_name=_("partner unit"),
    )
    # A partner organisation's (公益合伙人) free service is listed here too: this row is kept
    # by volunteers.services.save_partner_organisation and is read-only in the resources API.
    partner_organisation = models.OneToOneField(
        "volunteers.PartnerOrganisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="resource",
        verbose_name=_("partner organisation"),
    )
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        **paths_through_community("community"),
        "partner": "partner_unit_id",
    }

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["community_id", "id"]

    def __str__(self) -> str:
        return f"{self.provider}: {self.name}"


# ---------------------------------------------------------------------------- council (议事会)


class Council(models.Model):  # 议事会: monthly, per community
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("council", "planned")  # agenda still open
        AGENDA_FIXED = "agenda_fixed", _("agenda fixed")  # past the cut-off
        HELD = "held", _("held")  # minutes recorded

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="councils", verbose_name=_("community")
    )
    held_on = models.DateField(_("held on"), help_text=_("By default the 10th of the month."))
    agenda_cutoff = models.DateField(
        _("agenda cut-off"), help_text=_("By default the 7th: needs flagged by then are on it.")
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    # The five sections (五步议事法), each with its minutes.
    policy_talk = models.TextField(_("policy talk"), blank=True)  # 政策宣讲
    affairs_disclosed = models.TextField(
        _("affairs and finances disclosed"), blank=True
    )  # 村务财务公开
    needs_raised = models.TextField(_("needs raised"), blank=True)  # 群众提需求
    solutions_discussed = models.TextField(_("solutions discussed"), blank=True)  # 商议解决办法
    past_items_evaluated = models.TextField(_("past items evaluated"), blank=True)  # 评议上月事项
    attendees = models.TextField(
        pgettext_lazy("council", "attendance"),
        blank=True,
        help_text=_("One name per line, with a role if useful."),
    )
    attendee_count = models.PositiveIntegerField(_("number present"), default=0)
    chaired_by = models.CharField(_("chaired by"), max_length=50, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("minutes by"),
    )

    objects = ScopedQuerySet.as_manager()
    # Grid workers read their community's councils (the minutes are public in the village);
    # partners and residents see none.
    scope_paths = paths_through_community("community")

    class Meta:
        verbose_name = _("council meeting")
        verbose_name_plural = _("council meetings")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "held_on"], name="one_council_a_day"),
            models.CheckConstraint(
                condition=Q(agenda_cutoff__lte=models.F("held_on")),
                name="council_cutoff_before_meeting",
                violation_error_message=_("The agenda cut-off must not be after the meeting."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.held_on:%Y-%m}"


class AgendaItem(models.Model):  # 议事事项
    class Outcome(models.TextChoices):
        OPEN = "open", _("open")
        STRUCK_OFF = "struck_off", _("struck off")  # 销号
        CARRIED = "carried", _("carried over")  # 挂账

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="items", verbose_name=_("council meeting")
    )
    need = models.ForeignKey(
        "residents.Need",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("need"),
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("project"),
    )
    title = models.CharField(pgettext_lazy("agenda", "title"), max_length=200)
    decision = models.TextField(_("decision"), blank=True)
    responsible = models.ForeignKey(
        GridWorker,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("responsible worker"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.OPEN
    )

    objects = ScopedQuerySet.as_manager()
    # The whole agenda of their community's councils, not only their grids' needs: a worker
    # answers for items of any grid (responsible) and reads the minutes anyway.
    scope_paths = paths_through("council", Council.scope_paths)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["council_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "need"],
                name="need_once_per_council",
                condition=Q(need__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.title


class AgendaEvaluation(models.Model):  # 评议: a past item scored at a later council
    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.CASCADE,
        related_name="evaluations",
        verbose_name=pgettext_lazy("agenda", "item"),
    )
    council = models.ForeignKey(
        Council,
        on_delete=models.CASCADE,
        related_name="evaluations",
        verbose_name=_("evaluated at council"),
    )
    score = models.PositiveSmallIntegerField(_("score (1–5)"))
    struck_off = models.BooleanField(_("struck off"))
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("Why the item is carried over (required then).")
    )
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("evaluated by"),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through("council", Council.scope_paths)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["council_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "council"], name="item_evaluated_once_per_council"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="evaluation_score_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(struck_off=True) | ~Q(reason=""),
                name="carried_item_has_reason",
                violation_error_message=_("Say why the item is carried over."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} @ {self.council}"
