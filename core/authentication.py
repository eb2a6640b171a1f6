"""API tokens that expire: refused API_TOKEN_TTL_HOURS after they were issued.

Only what DRF's settings load lives here (no views: they would import rest_framework.views
while DRF's settings are still being read). The endpoints are in core/auth_views.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from core.types import User


def token_expired(token: Token) -> bool:
    ttl: int = settings.API_TOKEN_TTL_HOURS
    return ttl > 0 and token.created <= timezone.now() - timedelta(hours=ttl)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing a token older than API_TOKEN_TTL_HOURS."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed(_("Your login has expired. Please log in again."))
        return user, token


@transaction.atomic
def issue_token(*, user: User) -> Token:
    """The user's token, a new one in place of an expired one."""
    token, created = Token.objects.select_for_update().get_or_create(user=user)
    if not created and token_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token
