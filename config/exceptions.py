"""One error path for the API: every failure is JSON, validation errors carry field messages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.dispatch import BrokerUnavailable


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _from_django_validation(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()
        }
        return exceptions.ValidationError(detail)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise Django's ValidationError / PermissionDenied; they leave here as 400 / 403."""
    if isinstance(exc, BrokerUnavailable):  # not the client's fault: 503, retry later
        exc = exceptions.APIException(exc.messages[0], code="broker_unavailable")
        exc.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    elif isinstance(exc, DjangoValidationError):
        exc = _from_django_validation(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict(_("This record is still referred to by others and cannot be deleted."))
    elif isinstance(exc, IntegrityError):
        # A uniqueness race lost to a concurrent request: the client should re-read and retry.
        exc = Conflict(_("This conflicts with data saved at the same moment; please retry."))
    elif isinstance(exc, DataError):
        # The database refused a value no validator caught (PostgreSQL: a NUL byte in a token
        # or session cookie, a number out of range): bad input, not a server fault.
        exc = exceptions.ValidationError({"non_field_errors": [_("A value sent is not valid.")]})
    elif isinstance(exc, RecursionError) and "JSON" in str(exc):
        # json.loads raises RecursionError, not ValueError, on deeply nested input, so DRF's
        # JSONParser lets it through as a 500.
        exc = exceptions.ParseError(_("JSON parse error - the body is nested too deeply."))
    return drf_exception_handler(exc, context)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("Server error.")}, status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)


def bad_request(
    request: HttpRequest, exception: Exception, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Errors Django raises before DRF sees the request, such as a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig)."""
    if _wants_json(request):
        return JsonResponse({"detail": _("Bad request.")}, status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)


def permission_denied(
    request: HttpRequest, exception: Exception, *args: Any, **kwargs: Any
) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("Permission denied.")}, status=403)
    from django.views.defaults import permission_denied as html_permission_denied

    return html_permission_denied(request, exception)


def not_found(
    request: HttpRequest, exception: Exception, *args: Any, **kwargs: Any
) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
