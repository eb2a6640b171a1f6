"""Where each role lands: the phone pages made for a partner contact (共建单位), a volunteer
team leader (志愿服务队队长) and a resident, in one list read by the login redirect (`home`)
and by the bar of every phone page (the links between one's pages, for a user with several).

Core imports no app: the pages are named by their URL names only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from core.scope import scope_for
from core.types import AnyUser


@dataclass(frozen=True)
class RolePage:
    label: str | Promise
    url: str


def role_pages(user: AnyUser | None) -> list[RolePage]:
    """The pages of the user's posts outside the admin, the work first: a partner unit's
    needs, the teams they lead, then their own points. Staff work in the admin: none."""
    if user is None or not user.is_authenticated or user.is_staff:
        return []
    scope = scope_for(user)
    pages = []
    if scope.partner_unit_ids:
        pages.append(RolePage(_("Partner unit"), reverse("partners:home")))
    if scope.team_ids:
        pages.append(RolePage(_("My teams"), reverse("volunteers:leader_home")))
    if scope.resident_id:
        pages.append(RolePage(_("My points"), reverse("points:me")))
    return pages


def role_pages_context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: `role_pages`, read only by the pages that show it."""
    return {"role_pages": SimpleLazyObject(lambda: role_pages(getattr(request, "user", None)))}
