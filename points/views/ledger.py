"""The ledger API: accounts (积分账户) with their card numbers, and the append-only entries
(积分流水), corrected by a reversal."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import run_idempotent
from core.types import acting_user
from core.views import (
    IDEMPOTENCY_PARAMETER,
    validated,
)
from points.filters import (
    AccountFilter,
    EntryFilter,
)
from points.models.ledger import Account, Entry
from points.selectors import ledger as ledger_selectors
from points.serializers import (
    AccountSerializer,
    EntrySerializer,
    ReasonSerializer,
)
from points.services import ledger as ledger_services
from points.views.common import PointsViewSetMixin

# ---------------------------------------------------------------------------- accounts, ledger


class AccountViewSet(PointsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Points accounts (积分账户), one per resident, with the card number (积分卡)."""

    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    search_fields = ["resident__name", "card_number"]
    ordering_fields = ["id", "balance", "card_number"]
    action_permissions = {"entries": ["points.view_account", "points.view_entry"]}

    def get_queryset(self) -> Any:
        return ledger_selectors.accounts_for(self.request.user)

    @extend_schema(responses=EntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def entries(self, request: Request, pk: str | None = None) -> Response:
        """The account's statement, newest entry first."""
        statement = ledger_selectors.account_statement(account=self.get_object())
        page = self.paginate_queryset(statement)
        return self.get_paginated_response(EntrySerializer(page, many=True).data)


class EntryViewSet(PointsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The ledger (积分流水): append-only. A mistake is corrected by a reversal."""

    queryset = Entry.objects.all()
    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    search_fields = ["note"]
    ordering_fields = ["id", "seq", "created_at", "amount"]
    ordering = ["-id"]
    action_permissions = {"reverse": ["points.view_entry"]}

    def get_queryset(self) -> Any:
        return ledger_selectors.entries_for(self.request.user)

    @extend_schema(
        request=ReasonSerializer,
        responses={201: EntrySerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reverse(self, request: Request, pk: str | None = None) -> Response:
        """Post the opposite of this entry (committee of the resident's community only)."""

        def handler() -> Response:
            entry = self.get_object()
            reason = validated(ReasonSerializer, request.data)["reason"]
            reversal = ledger_services.reverse_entry(
                entry=entry, user=acting_user(request), reason=reason
            )
            return Response(EntrySerializer(reversal).data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, handler)
