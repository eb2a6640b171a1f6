"""The claims API: rule books (积分增减细则), claims (积分申报) and their decisions, objections
(公示异议) to the public notice, and the yearly ranking (年度积分排名).

Views are thin: an input serializer, one service call, an output serializer. Every write that
is not a plain create (approve, reject, bulk, uphold, dismiss) honours the Idempotency-Key
header like a create does; who may do what is points.access's, asked by the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import IdempotentCreateMixin, run_idempotent
from core.permissions import HasPermissions
from core.types import acting_user
from core.views import (
    IDEMPOTENCY_PARAMETER,
    ScopedModelViewSet,
    validated,
)
from grids.models import Community
from points import access
from points.filters import (
    ClaimFilter,
    ObjectionFilter,
    RuleFilter,
)
from points.models import (
    Claim,
    Objection,
    Rule,
)
from points.selectors import claims as claims_selectors
from points.serializers import (
    BulkApproveResultSerializer,
    BulkRejectResultSerializer,
    BulkRejectSerializer,
    ClaimIdsSerializer,
    ClaimSerializer,
    NoteSerializer,
    ObjectionSerializer,
    RankingQuerySerializer,
    RankingRowSerializer,
    ReasonSerializer,
    RuleSerializer,
    UpholdSerializer,
)
from points.services import claims as claims_services
from points.services import objections as objections_services
from points.views.common import PointsViewSetMixin

# ---------------------------------------------------------------------------- rules


class RuleViewSet(ScopedModelViewSet):
    """Points rules (积分增减细则) of a community, and a street's default rule book.

    Committee members and street admins write their communities' rules; only a street admin
    writes the street's default book, which is copied into each new community. Each rule names
    its rule book version (`book`, `version`; point-rule-books): a rule of an adopted version is
    never changed or deleted (make a new version in the admin), and a new rule goes to the
    book's draft. `in_force_on` lists the rules in force on a day.
    """

    queryset = Rule.objects.all()
    serializer_class = RuleSerializer
    filterset_class = RuleFilter
    search_fields = ["name", "code"]
    ordering_fields = ["id", "code", "name", "category", "points"]
    ordering = ["id"]
    scope_parents = ("community",)

    def get_queryset(self) -> Any:
        return claims_selectors.rules_for(self.request.user)

    def check_parents(self, data: dict[str, Any]) -> None:
        super().check_parents(data)
        street = data.get("street")
        if street is not None:
            access.access_write_default_rules(self.request.user, street)

    def perform_destroy(self, instance: Rule) -> None:
        claims_services.delete_rule(user=acting_user(self.request), rule=instance)


# ---------------------------------------------------------------------------- claims


class ClaimViewSet(
    PointsViewSetMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Points claims (积分申报): a grid worker or committee member claims points for a resident
    under a rule; a committee member of the resident's community, never the submitter,
    approves (posting the award or deduction) or rejects with a reason."""

    queryset = Claim.objects.all()
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    search_fields = ["resident__name", "note"]
    ordering_fields = ["id", "occurred_on", "submitted_at", "decided_at", "points", "status"]
    action_permissions = {
        "approve": ["points.change_claim"],
        "reject": ["points.change_claim"],
        "bulk_approve": ["points.change_claim"],
        "bulk_reject": ["points.change_claim"],
    }

    def get_queryset(self) -> Any:
        return claims_selectors.claims_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = claims_services.submit_claim(
            user=acting_user(self.request), **serializer.validated_data
        )

    def _decide(self, request: Request, decide: Callable[[Claim], Claim]) -> Response:
        def handler() -> Response:
            claim = decide(self.get_object())
            return Response(ClaimSerializer(claim, context=self.get_serializer_context()).data)

        return run_idempotent(request, handler)

    @extend_schema(request=None, responses=ClaimSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve the claim and post its points to the resident's account."""
        return self._decide(
            request,
            lambda claim: claims_services.approve_claim(claim=claim, approver=acting_user(request)),
        )

    @extend_schema(
        request=ReasonSerializer, responses=ClaimSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject the claim; the reason is required."""

        def decide(claim: Claim) -> Claim:
            reason = validated(ReasonSerializer, request.data)["reason"]
            return claims_services.reject_claim(
                claim=claim, approver=acting_user(request), reason=reason
            )

        return self._decide(request, decide)

    def _selected(self, ids: list[int]) -> QuerySet[Claim]:
        return Claim.objects.filter(id__in=self.get_queryset().filter(id__in=ids).values("id"))

    @extend_schema(
        request=ClaimIdsSerializer,
        responses=BulkApproveResultSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=False, methods=["post"], url_path="bulk-approve", filter_backends=[])
    def bulk_approve(self, request: Request) -> Response:
        """Approve many claims at once. Claims you may not decide are skipped, not refused."""

        def handler() -> Response:
            ids = set(validated(ClaimIdsSerializer, request.data)["ids"])
            result = claims_services.bulk_approve_claims(
                claims=self._selected(list(ids)), approver=acting_user(request)
            )
            return Response({"approved": result.decided, "skipped": len(ids) - result.decided})

        return run_idempotent(request, handler)

    @extend_schema(
        request=BulkRejectSerializer,
        responses=BulkRejectResultSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=False, methods=["post"], url_path="bulk-reject", filter_backends=[])
    def bulk_reject(self, request: Request) -> Response:
        """Reject many claims with one reason. Claims you may not decide are skipped."""

        def handler() -> Response:
            data = validated(BulkRejectSerializer, request.data)
            ids = set(data["ids"])
            result = claims_services.bulk_reject_claims(
                claims=self._selected(list(ids)),
                approver=acting_user(request),
                reason=data["reason"],
            )
            return Response({"rejected": result.decided, "skipped": len(ids) - result.decided})

        return run_idempotent(request, handler)


# ---------------------------------------------------------------------------- rankings


class RankingViewSet(viewsets.GenericViewSet):
    """A community ranked by honour points (荣誉积分) earned in a year (年度积分排名): its
    residents, or where it counts per household (以户为单位) its households; with
    `party_only`, party members among themselves, always per person (the top three are
    recommended)."""

    permission_classes = [IsAuthenticated, HasPermissions]
    required_perms = ["points.view_account"]
    serializer_class = RankingRowSerializer
    filter_backends: list[Any] = []

    def _communities(self) -> set[int]:
        """The communities whose ranking the caller may read: their area's, and a resident's
        own community."""
        return access.ranking_communities_for(self.request.user)

    def _full_names(self, community: Community) -> bool:
        return access.may_run_community(self.request.user, community)

    @extend_schema(parameters=[RankingQuerySerializer])
    def list(self, request: Request) -> Response:
        query = validated(RankingQuerySerializer, request.query_params)
        visible = self._communities()
        community_id = query.get("community")
        if community_id is None:
            if len(visible) != 1:
                raise ValidationError(
                    {"community": [_("Say which community: you see more than one, or none.")]}
                )
            community_id = next(iter(visible))
        elif community_id not in visible:
            raise NotFound(_("No such community in your area."))
        community = Community.objects.get(pk=community_id)
        rows = claims_selectors.ranking(
            community_id=community.pk,
            year=query.get("year") or timezone.localdate().year,
            party_only=query["party_only"],
        )
        page = self.paginate_queryset(rows)
        context = {**self.get_serializer_context(), "full_names": self._full_names(community)}
        return self.get_paginated_response(
            RankingRowSerializer(page, many=True, context=context).data
        )


# ---------------------------------------------------------------------------- objections


class ObjectionViewSet(
    PointsViewSetMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Objections (公示异议): a resident objects to an entry of their own account while the
    notice is open; the committee of the resident's community upholds (reversing the entry or
    posting an adjustment) or dismisses it."""

    queryset = Objection.objects.all()
    serializer_class = ObjectionSerializer
    filterset_class = ObjectionFilter
    search_fields = ["reason"]
    ordering_fields = ["id", "created_at", "decided_at", "status"]
    action_permissions = {
        "uphold": ["points.change_objection"],
        "dismiss": ["points.change_objection"],
    }

    def get_queryset(self) -> Any:
        return claims_selectors.objections_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = objections_services.raise_objection(
            user=acting_user(self.request), **serializer.validated_data
        )

    def _decide(self, request: Request, decide: Callable[[Objection], Objection]) -> Response:
        def handler() -> Response:
            objection = decide(self.get_object())
            return Response(ObjectionSerializer(objection).data)

        return run_idempotent(request, handler)

    @extend_schema(
        request=UpholdSerializer, responses=ObjectionSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def uphold(self, request: Request, pk: str | None = None) -> Response:
        """Uphold: reverse the entry, or with `amount` post an adjustment of that many points."""

        def decide(objection: Objection) -> Objection:
            data = validated(UpholdSerializer, request.data)
            return objections_services.uphold_objection(
                objection=objection,
                user=acting_user(request),
                note=data["note"],
                amount=data.get("amount"),
            )

        return self._decide(request, decide)

    @extend_schema(
        request=NoteSerializer, responses=ObjectionSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        """Dismiss the objection; the note says why."""

        def decide(objection: Objection) -> Objection:
            note = validated(NoteSerializer, request.data)["note"]
            return objections_services.dismiss_objection(
                objection=objection, user=acting_user(request), note=note
            )

        return self._decide(request, decide)
