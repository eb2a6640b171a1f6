"""Types every app shares.

`User` is the account model (Django's own; `AUTH_USER_MODEL` is not swapped). Services take a
`User`: a write always has someone who makes it. Selectors and scope helpers take `AnyUser`,
since they are also asked about the anonymous visitor (and answer with nothing).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

AnyUser = User | AnonymousUser

__all__ = ["AnyUser", "User"]
