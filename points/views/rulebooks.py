"""The rule books API (issue 15): versions of a community's (or a street's default) rule book
(积分细则), read-only, with their rules and approval record. Versions are made, changed and
adopted in the admin; their rules are also the point-rules endpoint's (`book`, `version`)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from points.filters import RuleBookFilter
from points.models import RuleBook
from points.selectors import rulebooks as rulebook_selectors
from points.serializers import RuleBookSerializer
from points.views.common import PointsViewSetMixin


class RuleBookViewSet(PointsViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Versions of rule books (积分细则): each with its rules, its approval record (the meeting
    that adopted it, its date, the council meeting, the attachment) and the days it is in
    force. A claim is made under the version in force on its date; an adopted version never
    changes (a change is a new version)."""

    queryset = RuleBook.objects.all()
    serializer_class = RuleBookSerializer
    filterset_class = RuleBookFilter
    search_fields = ["title", "adopted_by", "note"]
    ordering_fields = ["id", "version", "effective_from", "adopted_on"]
    ordering = ["id"]
    action_permissions = {"attachment": ["points.view_rulebook"]}

    def get_queryset(self) -> Any:
        return rulebook_selectors.rule_books_for(self.request.user).prefetch_related("rules")

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def attachment(self, request: Request, pk: str | None = None) -> Any:
        """The attached resolution or minutes, for those who may read the version (the media
        folder is not public)."""
        book = self.get_object()
        if not book.attachment:
            raise NotFound(_("This version has no attachment."))
        try:
            return FileResponse(book.attachment.open("rb"), filename=book.attachment.name or "")
        except OSError:
            raise NotFound(_("The attachment's file is missing.")) from None
