"""The OpenAPI schema's error answers: every operation documents the errors it can give.

drf-spectacular documents only the success answer of an operation. A client generated from the
schema (and schemathesis' `status_code_conformance` check, issue 17) then meets a 400, 401, 403,
404 or 409 that the schema never named. Every error leaves through one handler
(`config.exceptions`), so their shapes are few: `{"detail": "..."}`, or for a 400 the field
messages (`{"field": ["..."], "non_field_errors": ["..."]}`); always JSON, also where the
success is a workbook or a page (core.views.ErrorsAsJsonMixin).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import is_list_serializer
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin


class ErrorSerializer(serializers.Serializer[Any]):
    """An error with one message: not signed in, not allowed, not found, a conflict."""

    detail = serializers.CharField(help_text="The message, in the user's language.")


# A 400: the message lists per field, `non_field_errors` for the request as a whole; the errors
# of a list item sit under its field as a nested object or list.
VALIDATION_ERROR = OpenApiResponse(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "Field name (or `non_field_errors`, or `detail`) to its messages.",
        "example": {"name": ["该字段是必填项。"]},
    },
    description=str(_("The request is not valid; the messages say why, per field.")),
)

UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer, description="No valid token or session: sign in (POST /api/v1/auth/token/)."
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="Signed in, but this role or scope may not do this."
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="No such object in the caller's scope (or a page number past the last page).",
)
CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description=(
        "Conflicts with the stored data: still referred to, changed by a concurrent request, "
        "or an Idempotency-Key reused with another body."
    ),
)
UNKNOWN_FORMAT = OpenApiResponse(
    ErrorSerializer, description="A `format` this operation does not offer."
)
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(
    ErrorSerializer, description="A body in a content type the operation does not read."
)

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers each operation can give.

    An answer an operation documents itself (`@extend_schema(responses=...)`) is kept.
    """

    def _is_list_view(self, serializer: Any = None) -> bool:
        # A report (reports/needs/, reports/volunteer-hours/, ...) is the hand-written `list`
        # of a viewset that answers one object: not DRF's ListModelMixin, no pagination, an
        # answer that is not `many=True`. drf-spectacular would document an array of them.
        if (
            getattr(self.view, "action", None) == "list"
            and not isinstance(self.view, ListModelMixin)
            and getattr(self.view, "pagination_class", None) is None
        ):
            response = self.get_response_serializers() if serializer is None else serializer
            if isinstance(response, dict) and response:
                response = {str(code): s for code, s in response.items()}
                response = response[min(response)]
            return is_list_serializer(response)
        return bool(super()._is_list_view(serializer))

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        # DRF answers a `format` that no renderer offers with a 404, before the view runs.
        takes_format = any(
            p.get("in") == "query" and p.get("name") == "format"
            for p in operation.get("parameters", [])
        )
        if takes_format and "404" not in operation["responses"]:
            operation["responses"]["404"] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                UNKNOWN_FORMAT, "404", ["application/json"]
            )
        return operation

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, ["application/json"], direction
                )
        return responses

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        errors: dict[str, OpenApiResponse] = {}
        has_path_parameters = "{" in self.path
        paginated = self.method == "GET" and bool(self._get_paginator())  # type: ignore[no-untyped-call]
        takes_input = (
            self.method in _WRITE_METHODS
            or paginated
            or bool(self._get_filter_parameters())  # type: ignore[no-untyped-call]
            or bool(self.get_override_parameters())
        )
        if takes_input or has_path_parameters:
            errors["400"] = VALIDATION_ERROR
        if self.view.authentication_classes:
            # A wrong or expired token is refused even where no sign-in is needed.
            errors["401"] = UNAUTHORIZED
        if self.view.permission_classes or self.method in _WRITE_METHODS:
            # Also the CSRF refusal of a session-authenticated write.
            errors["403"] = FORBIDDEN
        if has_path_parameters or paginated:
            errors["404"] = NOT_FOUND
        if self.method in _WRITE_METHODS and getattr(self.view, "queryset", None) is not None:
            errors["409"] = CONFLICT
        if self.method in {"POST", "PUT", "PATCH"}:
            errors["415"] = UNSUPPORTED_MEDIA_TYPE
        return errors
