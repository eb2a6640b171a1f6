"""Types every app shares.

`User` is the account model (Django's own; `AUTH_USER_MODEL` is not swapped). Services take a
`User`: a write always has someone who makes it. Selectors and scope helpers take `AnyUser`,
since they are also asked about the anonymous visitor (and answer with nothing).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

AnyUser = User | AnonymousUser


def acting_user(request: HttpRequest) -> User:
    """The signed-in user making `request` (a DRF Request too), to hand to a service.

    For views whose permissions (or `login_required`) already turned the anonymous visitor
    away, so this never refuses in practice; if it is reached without a login it answers 403
    rather than letting a service act for nobody.
    """
    user = request.user
    if not isinstance(user, User):  # AnonymousUser
        raise PermissionDenied
    return user


__all__ = ["AnyUser", "User", "acting_user"]
