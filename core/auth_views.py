"""The API's login and logout: `auth/token/` (with the failed-login limits of
core.login_protection) and `auth/logout/`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout as session_logout
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.authentication import ExpiringTokenAuthentication, issue_token
from core.types import acting_user


class TokenLoginView(ObtainAuthToken):
    """`POST auth/token/` with username and password: `{"token": …}`.

    Axes counts the failures and refuses a locked-out login; its flag must land on Django's
    HttpRequest (not DRF's wrapper) for AxesMiddleware to turn the answer into the JSON 429."""

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "request": self.request._request}

    @extend_schema(
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            429: OpenApiResponse(
                inline_serializer(
                    "LoginLockedOut",
                    {
                        "detail": serializers.CharField(),
                        "retry_after": serializers.IntegerField(
                            help_text="Seconds until a login may be tried again."
                        ),
                    },
                ),
                description="Too many failed logins for this username or address.",
            ),
        }
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token = issue_token(user=user)
        # A token login is a login: last_login, and axes clears the username's failures.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response({"token": token.key})


class LogoutView(APIView):
    """`POST auth/logout/`: the caller's token is deleted (and a session ended)."""

    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        Token.objects.filter(user=acting_user(request)).delete()
        if request.session.session_key:
            session_logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
