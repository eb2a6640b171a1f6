"""Who may do what in residents: each rule written once, here.

Services call the `access_*` helpers, which raise PermissionDenied (a 403 in the API, a form
error in the admin) with the reason; views and the admin ask the `may_*` helpers, which answer
the same rule as a bool (to narrow a choice list). A service refuses an unauthorised user
itself, whoever calls it. Where something is (the scope of a user's posts) is core.scope's.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied

from core.permissions import ensure_in_scope
from core.scope import scope_for
from core.types import AnyUser
from grids.models import GridWorker


def may_log_visits_for_others(user: AnyUser | None) -> bool:
    """A committee member or a street admin (the superuser too) logs a visit for any grid
    worker of their area; a grid worker logs only their own."""
    scope = scope_for(user)
    return bool(scope.everything or scope.community_ids or scope.street_ids)


def access_log_visit_for(user: AnyUser, worker: GridWorker) -> None:
    """May the user log (or hand) a visit as made by `worker`? Raises PermissionDenied."""
    if worker.user_id == user.pk:
        return
    if not may_log_visits_for_others(user):
        raise PermissionDenied(_("A grid worker logs only their own visits."))
    ensure_in_scope(user, worker)
