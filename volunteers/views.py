"""The volunteers API: teams and their members, activities with sign-up, check-in, check-out
and completion, partner organisations (公益合伙人), and the service-hours report.

Views are thin: an input serializer, one service call, an output serializer. Reads go through
`for_user()` (volunteers.selectors), so a team leader finds only their own team (404 for any
other); writes are checked again in volunteers.services (403). Every action honours the
Idempotency-Key header like a create does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit import services as audit
from core.idempotency import run_idempotent
from core.permissions import ActionPermissions, HasPermissions
from core.types import acting_user
from core.views import IDEMPOTENCY_PARAMETER, ErrorsAsJsonMixin, ScopedModelViewSet, validated
from points.exports import XlsxRenderer
from volunteers import exports, selectors
from volunteers.filters import (
    ActivityFilter,
    MembershipFilter,
    PartnerOrganisationFilter,
    TeamFilter,
)
from volunteers.models import Activity, Membership, PartnerOrganisation, Team
from volunteers.serializers import (
    ActivitySerializer,
    AttendanceSerializer,
    CheckInSerializer,
    CheckOutSerializer,
    MemberActionSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    PartnerOrganisationSerializer,
    SignupSerializer,
    TeamSerializer,
    VolunteerHoursQuerySerializer,
    VolunteerHoursSerializer,
)
from volunteers.services import activities as activities_services
from volunteers.services import teams as teams_services

# ---------------------------------------------------------------------------- teams


class TeamViewSet(ScopedModelViewSet):
    """Volunteer teams (志愿服务队) of a community, with their leader.

    The committee and the street admin create teams and choose the points rule for service
    hours; a team's leader edits its name and description and keeps its roster
    (`members/`). Members see the teams they belong to.
    """

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    filterset_class = TeamFilter
    search_fields = ["name"]
    ordering_fields = ["id", "name", "kind"]
    ordering = ["name", "id"]
    permission_classes = [IsAuthenticated, ActionPermissions]
    action_permissions = {
        "members": ["volunteers.view_membership"],
        "member": ["volunteers.change_membership"],
    }

    def get_queryset(self) -> Any:
        leaders = Membership.objects.filter(
            role=Membership.Role.LEADER, active=True
        ).select_related("resident")
        return (
            selectors.teams_for(self.request.user)
            .annotate(member_count=Count("memberships", filter=Q(memberships__active=True)))
            .prefetch_related(Prefetch("memberships", queryset=leaders, to_attr="leaders"))
        )

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = teams_services.create_team(
            user=acting_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = teams_services.update_team(
            user=acting_user(self.request), team=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Team) -> None:
        teams_services.delete_team(user=acting_user(self.request), team=instance)

    def _member_out(self, membership: Membership, code: int = status.HTTP_200_OK) -> Response:
        return Response(MembershipSerializer(membership).data, status=code)

    @extend_schema(
        methods=["GET"], responses=MembershipSerializer(many=True), filters=False, request=None
    )
    @extend_schema(
        methods=["POST"],
        request=MembershipSerializer,
        responses={201: MembershipSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def members(self, request: Request, pk: str | None = None) -> Response:
        """The team's roster (its members, the leader first); POST adds a resident of the
        community (the team's leader, the committee)."""
        team = self.get_object()
        if request.method == "GET":
            members = selectors.memberships_for(request.user).filter(team=team)
            filterset = MembershipFilter(request.query_params, queryset=members)
            if not filterset.is_valid():
                raise ValidationError(filterset.errors)
            page = self.paginate_queryset(filterset.qs)
            return self.get_paginated_response(MembershipSerializer(page, many=True).data)

        def handler() -> Response:
            if not request.user.has_perm("volunteers.add_membership"):
                raise PermissionDenied()
            data = validated(MembershipSerializer, request.data)
            membership = teams_services.add_member(
                user=acting_user(request),
                team=team,
                resident=data["resident"],
                joined_on=data.get("joined_on"),
                role=data.get("role", Membership.Role.MEMBER),
                login=data.get("user"),
            )
            return self._member_out(membership, status.HTTP_201_CREATED)

        return run_idempotent(request, handler)

    @extend_schema(
        request=MembershipUpdateSerializer,
        responses=MembershipSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"members/(?P<membership_id>[0-9]{1,18})",
        filter_backends=[],
    )
    def member(self, request: Request, pk: str | None = None, membership_id: str = "") -> Response:
        """Change a member's role (a new leader makes the old one a member), login or join
        date, or end the membership with `active: false`."""
        team = self.get_object()
        membership = Membership.objects.filter(team=team, pk=int(membership_id)).first()
        if membership is None:
            raise NotFound()

        def handler() -> Response:
            serializer = MembershipUpdateSerializer(membership, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            fields = dict(serializer.validated_data)
            if "user" in fields:  # the member's login, not the caller
                fields["login"] = fields.pop("user")
            updated = teams_services.update_member(
                user=acting_user(request), membership=membership, **fields
            )
            return self._member_out(updated)

        return run_idempotent(request, handler)


# ---------------------------------------------------------------------------- activities


class ActivityViewSet(ScopedModelViewSet):
    """Volunteer activities (志愿活动): planned → done | cancelled.

    Members sign up (confirmed while there is a place, else waitlisted; a withdrawal moves the
    waitlist up), check in with the activity's QR code and check out; the team's leader (or
    the committee) records attendance for members without a phone and marks the activity
    done, which claims points for the attendees' hours once.
    """

    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    search_fields = ["title", "place"]
    ordering_fields = ["id", "starts_at", "title", "status"]
    ordering = ["-starts_at", "id"]
    permission_classes = [IsAuthenticated, ActionPermissions]
    action_permissions = {
        "signup": ["volunteers.view_activity"],
        "withdraw": ["volunteers.view_activity"],
        "check_in": ["volunteers.view_activity"],
        "check_out": ["volunteers.view_activity"],
        "complete": ["volunteers.change_activity"],
        "cancel": ["volunteers.change_activity"],
        "signups": ["volunteers.view_signup"],
        "attendance": ["volunteers.view_attendance"],
    }

    def get_queryset(self) -> Any:
        return selectors.activities_for(self.request.user)

    def _out(self, activity: Activity, code: int = status.HTTP_200_OK) -> Response:
        activity = self.get_queryset().get(pk=activity.pk)
        return Response(ActivitySerializer(activity).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def handler() -> Response:
            data = validated(ActivitySerializer, request.data)
            activity = activities_services.create_activity(user=acting_user(request), **data)
            return self._out(activity, status.HTTP_201_CREATED)

        return run_idempotent(request, handler)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        activity = self.get_object()
        serializer = ActivitySerializer(
            activity, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        updated = activities_services.update_activity(
            user=acting_user(request), activity=activity, **serializer.validated_data
        )
        return self._out(updated)

    def perform_destroy(self, instance: Activity) -> None:
        activities_services.delete_activity(user=acting_user(self.request), activity=instance)

    def _act(self, request: Request, act: Callable[[Activity], Any], out: type) -> Response:
        def handler() -> Response:
            return Response(out(act(self.get_object())).data)

        return run_idempotent(request, handler)

    def _member(self, data: dict[str, Any], activity: Activity) -> Membership | None:
        membership_id = data.get("membership")
        if membership_id is None:
            return None
        membership = Membership.objects.filter(pk=membership_id, team=activity.team_id).first()
        if membership is None:
            raise ValidationError({"membership": [_("No such member of the activity's team.")]})
        return membership

    @extend_schema(
        request=MemberActionSerializer,
        responses=SignupSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def signup(self, request: Request, pk: str | None = None) -> Response:
        """Sign up (yourself, or as a manager a member named by `membership`): `confirmed`
        while there is a place, else `waitlisted`. Signing up again changes nothing."""

        def act(activity: Activity) -> Any:
            data = validated(MemberActionSerializer, request.data)
            return activities_services.sign_up(
                user=acting_user(request),
                activity=activity,
                membership=self._member(data, activity),
            )

        return self._act(request, act, SignupSerializer)

    @extend_schema(
        request=MemberActionSerializer,
        responses=SignupSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a sign-up; a confirmed place goes to the first on the waitlist."""

        def act(activity: Activity) -> Any:
            data = validated(MemberActionSerializer, request.data)
            return activities_services.withdraw(
                user=acting_user(request),
                activity=activity,
                membership=self._member(data, activity),
            )

        return self._act(request, act, SignupSerializer)

    @extend_schema(
        request=CheckInSerializer,
        responses=AttendanceSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="check-in", filter_backends=[])
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        """Check in: a member with the `token` of the activity's QR code; a manager for a
        member named by `membership`, at the time `at` (default now)."""

        def act(activity: Activity) -> Any:
            data = validated(CheckInSerializer, request.data)
            return activities_services.check_in(
                user=acting_user(request),
                activity=activity,
                token=data.get("token"),
                membership=self._member(data, activity),
                at=data.get("at"),
            )

        return self._act(request, act, AttendanceSerializer)

    @extend_schema(
        request=CheckOutSerializer,
        responses=AttendanceSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="check-out", filter_backends=[])
    def check_out(self, request: Request, pk: str | None = None) -> Response:
        """Check out; the service hours are counted from the check-in."""

        def act(activity: Activity) -> Any:
            data = validated(CheckOutSerializer, request.data)
            return activities_services.check_out(
                user=acting_user(request),
                activity=activity,
                membership=self._member(data, activity),
                at=data.get("at"),
            )

        return self._act(request, act, AttendanceSerializer)

    @extend_schema(
        request=None,
        responses=ActivitySerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Mark the activity done: each attendee's hours become a points claim under the
        team's hours rule, for the committee to approve. Done twice, nothing more happens."""

        def handler() -> Response:
            activity = activities_services.complete_activity(
                user=acting_user(request), activity=self.get_object()
            )
            return self._out(activity)

        return run_idempotent(request, handler)

    @extend_schema(
        request=None,
        responses=ActivitySerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        filters=False,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a planned activity."""

        def handler() -> Response:
            activity = activities_services.cancel_activity(
                user=acting_user(request), activity=self.get_object()
            )
            return self._out(activity)

        return run_idempotent(request, handler)

    @extend_schema(responses=SignupSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def signups(self, request: Request, pk: str | None = None) -> Response:
        """The sign-ups you may see (a member: their own), the waitlist in its order."""
        activity = self.get_object()
        rows = selectors.signups_for(request.user).filter(activity=activity)
        page = self.paginate_queryset(rows.order_by("created_at", "id"))
        return self.get_paginated_response(SignupSerializer(page, many=True).data)

    @extend_schema(responses=AttendanceSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        """Who checked in and out, their hours and their points claim."""
        activity = self.get_object()
        rows = selectors.attendances_for(request.user).filter(activity=activity)
        page = self.paginate_queryset(rows.order_by("checked_in_at", "id"))
        return self.get_paginated_response(AttendanceSerializer(page, many=True).data)


# ---------------------------------------------------------------------------- partners


class PartnerOrganisationViewSet(ScopedModelViewSet):
    """Partner organisations (公益合伙人) and the service each gives free (a law firm's legal
    advice, a counselling studio's sessions). The committee and the street admin write them."""

    queryset = PartnerOrganisation.objects.all()
    serializer_class = PartnerOrganisationSerializer
    filterset_class = PartnerOrganisationFilter
    search_fields = ["name", "service"]
    ordering_fields = ["id", "name"]
    ordering = ["name", "id"]

    def get_queryset(self) -> QuerySet[PartnerOrganisation]:
        return selectors.partner_organisations_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = teams_services.save_partner_organisation(
            user=acting_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = teams_services.save_partner_organisation(
            user=acting_user(self.request),
            instance=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: PartnerOrganisation) -> None:
        teams_services.delete_partner_organisation(
            user=acting_user(self.request), organisation=instance
        )


# ---------------------------------------------------------------------------- reports


class VolunteerHoursViewSet(ErrorsAsJsonMixin, viewsets.GenericViewSet):
    """Service hours (志愿服务时长) per member, and activities done per team, in a quarter
    (`period=2026Q4`) or a year (`year=2026`), within what you may see; `format=xlsx` for a
    workbook."""

    permission_classes = [IsAuthenticated, HasPermissions]
    required_perms = ["volunteers.view_attendance"]
    serializer_class = VolunteerHoursSerializer
    filter_backends: list[Any] = []
    pagination_class = None
    renderer_classes = [JSONRenderer, XlsxRenderer]

    @extend_schema(
        parameters=[VolunteerHoursQuerySerializer],
        responses={
            (200, "application/json"): VolunteerHoursSerializer,
            (200, exports.XLSX): OpenApiTypes.BINARY,
        },
    )
    def list(self, request: Request) -> Any:
        query = validated(VolunteerHoursQuerySerializer, request.query_params)
        start, end = selectors.period_bounds(period=query.get("period"), year=query.get("year"))
        where = {"team": query.get("team"), "community": query.get("community")}
        members = selectors.member_hours(user=acting_user(request), start=start, end=end, **where)
        teams = selectors.team_activities(user=acting_user(request), start=start, end=end, **where)
        label = query.get("period") or str(query["year"])
        if query["format"] == "xlsx":
            audit.record_export(
                what=_("Volunteer hours %(label)s (xlsx)") % {"label": label},
                object_type="volunteers.membership",
                request=request._request,
            )
            return exports.volunteer_hours_xlsx(label=label, members=members, teams=teams)
        return Response(
            VolunteerHoursSerializer(
                {
                    "period": query.get("period"),
                    "year": query.get("year"),
                    "starts_on": start,
                    "ends_on": end,
                    "members": members,
                    "teams": teams,
                }
            ).data
        )
