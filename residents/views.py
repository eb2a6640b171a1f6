from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import IdempotentCreateMixin, run_idempotent
from core.permissions import ActionPermissions, RoleModelPermissions
from core.types import acting_user
from core.views import IDEMPOTENCY_PARAMETER, ScopedModelViewSet
from residents import access, selectors
from residents.filters import (
    AbsenceFilter,
    DueVisitFilter,
    HouseholdFilter,
    NeedFilter,
    RectificationFilter,
    ResidentFilter,
    VisitFilter,
)
from residents.models import Absence, Household, Need, Rectification, Resident, Tag, Visit
from residents.serializers import (
    AbsenceSerializer,
    DueVisitSerializer,
    HouseholdSerializer,
    NeedAssignSerializer,
    NeedClaimSerializer,
    NeedEventSerializer,
    NeedNoteSerializer,
    NeedOfferSerializer,
    NeedPhotoSerializer,
    NeedPhotoUploadSerializer,
    NeedRateSerializer,
    NeedRejectSerializer,
    NeedResolveSerializer,
    NeedSerializer,
    RectificationNoteSerializer,
    RectificationSerializer,
    ResidentSerializer,
    TagSerializer,
    VisitSerializer,
)
from residents.services import absences as absences_services
from residents.services import needs as needs_services
from residents.services import people as people_services
from residents.services import ratings as ratings_services
from residents.services import visits as visits_services


class TagViewSet(ScopedModelViewSet):
    """Key-population tags (独居老人, 残疾人, 困难家庭 …) with their visit frequency."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    search_fields = ["name"]
    ordering_fields = ["id", "name", "visit_every_days"]
    filterset_fields = ["visit_every_days"]

    def get_queryset(self) -> Any:
        return selectors.tags_for(self.request.user)


class HouseholdViewSet(ScopedModelViewSet):
    """Households (户) of the caller's grids."""

    queryset = Household.objects.all()
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilter
    search_fields = ["complex", "building", "room", "village_group", "house_number"]
    ordering_fields = ["id", "complex", "village_group", "house_number"]
    scope_parents = ("grid",)

    @staticmethod
    def search_also(queryset: Any, text: str) -> Any:
        """?search= also finds the address as displayed (一组3号)."""
        return selectors.search_by_shown_address(queryset, text)

    def get_queryset(self) -> Any:
        return selectors.households_for(self.request.user)


class ResidentViewSet(ScopedModelViewSet):
    """Residents (居民/村民). ID numbers are masked unless the caller may see them in full."""

    queryset = Resident.objects.all()
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilter
    search_fields = ["name", "phone"]
    ordering_fields = ["id", "name", "birth_date"]
    scope_parents = ("household",)

    def get_queryset(self) -> Any:
        return selectors.residents_for(self.request.user)

    def perform_update(self, serializer: Any) -> None:
        old_household_id = serializer.instance.household_id
        super().perform_update(serializer)
        people_services.release_headship(
            resident=serializer.instance, old_household_id=old_household_id
        )


class VisitViewSet(ScopedModelViewSet):
    """Visits (走访) to households."""

    queryset = Visit.objects.all()
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    search_fields = ["notes"]
    ordering_fields = ["id", "visited_at", "follow_up_on"]
    scope_parents = ("household", "worker")

    def get_queryset(self) -> Any:
        return selectors.visits_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = visits_services.record_visit(
            user=acting_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        # The create rule holds for a change too: a grid worker cannot hand a visit to a colleague.
        worker = serializer.validated_data.get("worker")
        if worker is not None and worker != serializer.instance.worker:
            access.access_log_visit_for(acting_user(self.request), worker)
        super().perform_update(serializer)


class AbsenceViewSet(ScopedModelViewSet):
    """Residents recorded away (外出登记: 外出务工, 住院, 探亲 …). A grid worker records them for
    the residents of their grids; the points anomaly report flags claims dated on those days.
    Not deleted: a wrong span is corrected by changing it."""

    queryset = Absence.objects.all()
    serializer_class = AbsenceSerializer
    filterset_class = AbsenceFilter
    search_fields = ["resident__name", "note"]
    ordering_fields = ["id", "starts_on", "ends_on"]
    scope_parents = ("resident",)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.absences_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = absences_services.record_absence(
            user=acting_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = absences_services.change_absence(
            user=acting_user(self.request),
            absence=serializer.instance,
            **serializer.validated_data,
        )


class DueVisitViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Residents whose tags make a visit due today or overdue, in the caller's area.

    Never-visited residents come first, then the longest-waiting. `within_days` also lists
    visits falling due in the next N days.
    """

    queryset = Resident.objects.all()
    serializer_class = DueVisitSerializer
    permission_classes = [IsAuthenticated, RoleModelPermissions]
    filterset_class = DueVisitFilter
    search_fields = ["name"]
    ordering_fields: list[str] = []

    def get_queryset(self) -> Any:
        field = serializers.IntegerField(min_value=0, max_value=60, required=False)
        try:
            within = field.run_validation(self.request.query_params.get("within_days", 0))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"within_days": exc.detail}) from None
        return selectors.residents_due_for_visit(
            self.request.user, today=self.today, within_days=within
        )

    @cached_property
    def today(self) -> dt.date:
        return timezone.localdate()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": self.today}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "within_days", int, description="Also list visits due in the next N days (0–60)."
            )
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


# ---------------------------------------------------------------------------- needs


class NeedViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Needs (需求) and micro-wishes (微心愿): recorded, accepted, assigned with a due date,
    started, resolved, rated by the resident; rejected with an explanation; escalated.

    Each step is an action with a permission of its own; a step the need's status does not
    allow answers 400 naming the statuses that do. Every change is on the need's timeline
    (`events/`). A partner contact sees what is offered or assigned to their unit; a resident
    the needs about themselves. Needs are kept: there is no delete.
    """

    queryset = Need.objects.all()
    serializer_class = NeedSerializer
    permission_classes = [IsAuthenticated, ActionPermissions]
    filterset_class = NeedFilter
    search_fields = ["title", "text", "resident__name"]
    ordering_fields = ["id", "created_at", "due_on", "priority", "status", "resolved_at"]
    action_permissions = {
        "accept": ["residents.accept_need"],
        "assign": ["residents.assign_need"],
        "offer": ["residents.offer_need"],
        "claim": ["residents.claim_need"],
        "start": ["residents.start_need"],
        "resolve": ["residents.resolve_need"],
        "reject": ["residents.reject_need"],
        "escalate": ["residents.escalate_need"],
        "rate": ["residents.add_rating"],
        "phone_rating": ["residents.phone_rating"],
        "events": ["residents.view_need", "residents.view_needevent"],
        "photos": ["residents.add_needphoto"],
        "photo": ["residents.view_needphoto"],
    }

    def get_queryset(self) -> Any:
        return selectors.needs_for(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = needs_services.record_need(
            user=acting_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = needs_services.update_need(
            user=acting_user(self.request), need=serializer.instance, **serializer.validated_data
        )

    def _step(
        self, request: Request, serializer_class: type | None, do: Callable[..., Need]
    ) -> Response:
        """Run one step of the loop on this need, once per Idempotency-Key."""

        def handler() -> Response:
            need = self.get_object()
            data: dict[str, Any] = {}
            if serializer_class is not None:
                serializer = serializer_class(data=request.data)
                serializer.is_valid(raise_exception=True)
                data = serializer.validated_data
            need = do(need, **data)
            # Read back as the caller sees it (nested rating, photos); the step may have taken
            # it out of their sight (a worker assigning to a colleague of another grid).
            shown = selectors.needs_for(request.user).filter(pk=need.pk).first() or need
            return Response(NeedSerializer(shown, context=self.get_serializer_context()).data)

        return run_idempotent(request, handler)

    @extend_schema(
        request=NeedNoteSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Accept a new need (受理)."""
        return self._step(
            request,
            NeedNoteSerializer,
            lambda need, **d: needs_services.accept_need(user=acting_user(request), need=need, **d),
        )

    @extend_schema(
        request=NeedAssignSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Assign to one of `worker`, `department` or `partner_unit`, with `due_on` (时效责任
        清单); again to hand it on."""
        return self._step(
            request,
            NeedAssignSerializer,
            lambda need, **d: needs_services.assign_need(user=acting_user(request), need=need, **d),
        )

    @extend_schema(
        request=NeedOfferSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def offer(self, request: Request, pk: str | None = None) -> Response:
        """Offer an accepted micro-wish to partner units of its community, with a due date."""
        return self._step(
            request,
            NeedOfferSerializer,
            lambda need, **d: needs_services.offer_need(user=acting_user(request), need=need, **d),
        )

    @extend_schema(
        request=NeedClaimSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        """A partner contact claims (接单) a micro-wish offered to their unit."""
        return self._step(
            request,
            NeedClaimSerializer,
            lambda need, **d: needs_services.claim_need(user=acting_user(request), need=need, **d),
        )

    @extend_schema(
        request=NeedNoteSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Work on an assigned need begins."""
        return self._step(
            request,
            NeedNoteSerializer,
            lambda need, **d: needs_services.start_need(user=acting_user(request), need=need, **d),
        )

    @extend_schema(
        request=NeedResolveSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Resolved (办结): say how; optionally claim points for a resident or volunteer."""

        def do(need: Need, resolution: str, claim: dict[str, Any] | None = None) -> Need:
            claim = claim or {}
            return needs_services.resolve_need(
                user=acting_user(request),
                need=need,
                resolution=resolution,
                claim_resident=claim.get("resident"),
                claim_rule=claim.get("rule"),
                claim_points=claim.get("points"),
                claim_note=claim.get("note", ""),
            )

        return self._step(request, NeedResolveSerializer, do)

    @extend_schema(
        request=NeedRejectSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject (不予受理) with an explanation to the resident."""
        return self._step(
            request,
            NeedRejectSerializer,
            lambda need, **d: needs_services.reject_need(user=acting_user(request), need=need, **d),
        )

    @extend_schema(
        request=NeedNoteSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def escalate(self, request: Request, pk: str | None = None) -> Response:
        """Escalate an open need one level: to the community, then to the street."""
        return self._step(
            request,
            NeedNoteSerializer,
            lambda need, **d: needs_services.escalate_need(
                user=acting_user(request), need=need, **d
            ),
        )

    @extend_schema(
        request=NeedRateSerializer, responses=NeedSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def rate(self, request: Request, pk: str | None = None) -> Response:
        """The resident rates the resolved need (好差评); 不满意 or worse opens a rectification."""
        return self._step(
            request,
            NeedRateSerializer,
            lambda need, **d: ratings_services.rate_need(user=acting_user(request), need=need, **d),
        )

    @extend_schema(
        request=NeedRateSerializer,
        responses=NeedSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        description="A grid worker of the need's grid (or the committee, the street) records "
        "the rating the resident gave on a return call (电话回访). It is marked `source: phone` "
        "with the worker as `rated_by`, and counts as the resident's rating: once per need, "
        "only when resolved, 不满意 or worse opening a rectification.",
    )
    @action(detail=True, methods=["post"], filter_backends=[], url_path="phone-rating")
    def phone_rating(self, request: Request, pk: str | None = None) -> Response:
        """Record a rating taken by phone (回访)."""
        return self._step(
            request,
            NeedRateSerializer,
            lambda need, **d: ratings_services.record_phone_rating(
                user=acting_user(request), need=need, **d
            ),
        )

    @extend_schema(responses=NeedEventSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The need's timeline, oldest first: every change, who made it and when."""
        page = self.paginate_queryset(selectors.need_timeline(need=self.get_object()))
        return self.get_paginated_response(NeedEventSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": NeedPhotoUploadSerializer},
        responses={201: NeedPhotoSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(
        detail=True,
        methods=["post"],
        filter_backends=[],
        parser_classes=[MultiPartParser, FormParser],
    )
    def photos(self, request: Request, pk: str | None = None) -> Response:
        """Add a photo (multipart, field `image`), up to NEED_PHOTO_MAX_BYTES."""

        def handler() -> Response:
            need = self.get_object()
            serializer = NeedPhotoUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            photo = needs_services.add_need_photo(
                user=acting_user(request), need=need, image=serializer.validated_data["image"]
            )
            data = NeedPhotoSerializer(photo, context=self.get_serializer_context()).data
            return Response(data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, handler)

    @extend_schema(
        responses={(200, "image/*"): OpenApiTypes.BINARY, 404: OpenApiTypes.OBJECT},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        url_path=r"photos/(?P<photo_id>[0-9]{1,18})",
    )
    def photo(self, request: Request, pk: str | None = None, photo_id: str = "") -> Any:
        """One photo's file, for those who may see the need (the media folder is not public)."""
        photo = self.get_object().photos.filter(pk=int(photo_id)).first()
        if photo is None:
            raise NotFound(_("No such photo of this need."))
        try:
            return FileResponse(photo.image.open("rb"))
        except OSError:
            raise NotFound(_("The photo's file is missing.")) from None


class RectificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Rectifications (整改) opened by 不满意 and 非常不满意 ratings: done by whoever works on the
    need, then accepted (the need closes) or returned by the committee or the street."""

    queryset = Rectification.objects.all()
    serializer_class = RectificationSerializer
    permission_classes = [IsAuthenticated, ActionPermissions]
    filterset_class = RectificationFilter
    search_fields = ["need__title", "done_note"]
    ordering_fields = ["id", "due_on", "opened_at", "done_at", "accepted_at"]
    action_permissions = {
        "done": ["residents.change_rectification"],
        "accept": ["residents.accept_rectification"],
        "return_": ["residents.accept_rectification"],
    }

    def get_queryset(self) -> Any:
        return selectors.rectifications_for(self.request.user)

    def _step(
        self, request: Request, do: Callable[..., Rectification], note_required: bool
    ) -> Response:
        def handler() -> Response:
            rectification = self.get_object()
            cls = RectificationNoteSerializer if note_required else NeedNoteSerializer
            serializer = cls(data=request.data)
            serializer.is_valid(raise_exception=True)
            rectification = do(rectification, serializer.validated_data["note"])
            return Response(RectificationSerializer(rectification).data)

        return run_idempotent(request, handler)

    @extend_schema(
        request=RectificationNoteSerializer,
        responses=RectificationSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def done(self, request: Request, pk: str | None = None) -> Response:
        """Report the rectification done, saying what was done."""
        return self._step(
            request,
            lambda r, note: ratings_services.complete_rectification(
                user=acting_user(request), rectification=r, note=note
            ),
            note_required=True,
        )

    @extend_schema(
        request=NeedNoteSerializer,
        responses=RectificationSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Accept the rectification (验收): it ends and the need closes."""
        return self._step(
            request,
            lambda r, note: ratings_services.accept_rectification(
                user=acting_user(request), rectification=r, note=note
            ),
            note_required=False,
        )

    @extend_schema(
        request=RectificationNoteSerializer,
        responses=RectificationSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], filter_backends=[], url_path="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        """Send it back, saying why: it is open again."""
        return self._step(
            request,
            lambda r, note: ratings_services.return_rectification(
                user=acting_user(request), rectification=r, note=note
            ),
            note_required=True,
        )
