"""Keeps the current request for the audit log and records the full ID numbers it showed."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit import services
from core.masking import revealed_id_numbers
from core.types import AnyUser


class AuditMiddleware:
    """After the authentication middleware. The full ID numbers shown while answering
    (core.masking.id_number_for) are recorded once the response is ready, if it succeeded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        shown: list[tuple[AnyUser, str]] = []
        shown_token = revealed_id_numbers.set(shown)
        request_token = services.current_request.set(request)
        try:
            response = self.get_response(request)
            if shown and response.status_code < 400:
                services.record_reveals(request=request, shown=shown)
        finally:
            revealed_id_numbers.reset(shown_token)
            services.current_request.reset(request_token)
        return response
