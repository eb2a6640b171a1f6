"""Volunteers: teams (志愿服务队) and their members, activities with sign-up and check-in,
the service hours they give, and partner organisations (公益合伙人).

Writes go through volunteers.services. The models hold what the database can hold: one
leader per team, one active sign-up per member and activity, one attendance per member and
activity, an attendance's claim made once, activities that end after they start.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.scope import ScopedQuerySet, paths_through, paths_through_community
from core.validators import validate_phone


def new_check_in_token() -> str:
    """The secret in an activity's QR code: whoever holds it may check in (if a member)."""
    return secrets.token_urlsafe(16)


class Team(models.Model):  # 志愿服务队
    """A community's volunteer team. Its leader is the member whose role is leader.

    `hours_rule` turns service hours into points: a rule of the community's own rule book
    (so the committee sets the points, the cap per quarter and can switch it off), whose
    `points` are read as points per hour. It is named per team rather than once per community
    so that a community can run teams whose service earns no points (empty) or a different
    rate, while the rule itself stays in the one rule book the committee keeps.
    """

    class Kind(models.TextChoices):
        MEDIATION = "mediation", _("mediation")  # 调解
        YOUTH = "youth", _("youth")  # 青年突击
        WOMEN = "women", _("women's")  # 巾帼
        ELDERLY = "elderly", pgettext_lazy("team kind", "elderly care")  # 助老 / 银龄
        MEDICAL = "medical", _("medical")  # 医疗
        CULTURE = "culture", _("culture")  # 文化
        ENVIRONMENT = "environment", pgettext_lazy("team kind", "environment")  # 环保
        OTHER = "other", _("other")

    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(_("description"), blank=True)
    hours_rule = models.ForeignKey(
        "points.Rule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("points rule for service hours"),
        help_text=_(
            "A reward rule of the community; its points are given per hour of service. "
            "Empty: hours earn no points."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        **paths_through_community("community"),
        "team": "id",
        # Members see their own teams (through their resident record or their login).
        "resident": "memberships__resident_id",
        "user": "memberships__user_id",
    }

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["community_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="volunteer_team_name_unique_in_community"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def leader(self) -> Membership | None:
        return self.memberships.filter(role=Membership.Role.LEADER, active=True).first()


class Membership(models.Model):  # 队员
    class Role(models.TextChoices):
        LEADER = "leader", _("leader")  # 队长
        MEMBER = "member", _("member")  # 队员

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        related_name="volunteer_memberships",
        verbose_name=_("resident"),
    )
    # A login of the member's own for the team (a leader without a resident login, say);
    # empty when the resident's own login (Resident.user) is used, or the member has no phone.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer_memberships",
        verbose_name=_("login"),
    )
    joined_on = models.DateField(_("joined on"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        **paths_through_community("team__community"),
        "team": "team_id",
        "resident": "resident_id",
        "user": "user_id",
    }
    str_select_related = ("resident",)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team_id", "role", "joined_on", "id"]  # the leader first
        constraints = [
            models.UniqueConstraint(
                fields=["team", "resident"], name="volunteer_member_once_per_team"
            ),
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(role="leader", active=True),
                name="volunteer_team_has_one_leader",
                violation_error_message=_("The team already has a leader."),
            ),
        ]

    def __str__(self) -> str:
        return self.resident.name


class PartnerOrganisation(models.Model):  # 公益合伙人
    """An organisation that gives a service free to the community's residents (a law firm's
    legal advice, a counselling studio's sessions); listed among the community's resources."""

    community = models.ForeignKey(
        "grids.Community",
        on_delete=models.PROTECT,
        related_name="partner_organisations",
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=100)
    service = models.TextField(_("free service"))
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(
        _("contact phone"), max_length=20, blank=True, validators=[validate_phone]
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        **paths_through_community("community"),
        "team": "community__volunteer_teams",
        "resident": "community__grids__households__residents",
    }

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["community_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="partner_organisation_unique_in_community"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):  # 志愿活动
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("activity", "planned")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="activities", verbose_name=_("team")
    )
    title = models.CharField(pgettext_lazy("activity", "title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=200)
    capacity = models.PositiveIntegerField(_("capacity"))
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    check_in_token = models.CharField(
        _("check-in code"), max_length=32, unique=True, default=new_check_in_token, editable=False
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = paths_through("team", Team.scope_paths)  # the team's members see it

    class Meta:
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="activity_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="activity_capacity_positive"),
        ]
        indexes = [models.Index(fields=["team", "starts_at"], name="activity_team_starts")]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"


class Signup(models.Model):  # 报名
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        WAITLISTED = "waitlisted", _("waitlisted")  # 候补
        WITHDRAWN = "withdrawn", _("withdrawn")

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="signups", verbose_name=_("activity")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="signups", verbose_name=_("member")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        **paths_through_community("activity__team__community"),
        "team": "activity__team_id",
        "resident": "membership__resident_id",
        "user": "membership__user_id",
    }

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        # The waitlist moves up in this order.
        ordering = ["activity_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "membership"],
                condition=~Q(status="withdrawn"),
                name="one_active_signup_per_member",
            ),
        ]
        indexes = [models.Index(fields=["activity", "status"], name="signup_activity_status")]

    def __str__(self) -> str:
        return f"{self.membership} — {self.get_status_display()}"


class Attendance(models.Model):  # 签到 / 服务时长
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("activity")
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("member")
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    # From the two times; datetimes, so a night shift across midnight counts right.
    hours = models.DecimalField(
        _("service hours"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("Who recorded it for the member; empty when the member checked in."),
    )
    claim = models.OneToOneField(
        "points.Claim",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_attendance",
        verbose_name=_("points claim"),
    )
    points_note = models.CharField(
        _("points note"),
        max_length=200,
        blank=True,
        help_text=_("Why the hours earned fewer points, or none, when the activity was done."),
    )

    objects = ScopedQuerySet.as_manager()
    scope_paths = {
        **paths_through_community("activity__team__community"),
        "team": "activity__team_id",
        "resident": "membership__resident_id",
        "user": "membership__user_id",
    }

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["activity_id", "checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "membership"], name="attendance_once_per_member"
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gt=F("checked_in_at")),
                name="attendance_out_after_in",
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gte=0), name="attendance_hours_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership} @ {self.activity}"
