"""residents.access, per persona: who logs a visit as made by which grid worker (the API,
the admin's worker choices and residents.services.record_visit all ask it)."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import PermissionDenied

from residents import access
from tests.api_helpers import fresh


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("committee1", True), ("admin1", True), ("superuser", True), ("committee3", True),
     ("worker1", False), ("resident_user", False), ("partner_user", False),
     ("stranger", False)],
)  # fmt: skip
def test_who_logs_visits_for_other_workers(world, who, allowed):
    assert access.may_log_visits_for_others(fresh(getattr(world, who))) is allowed


@pytest.mark.parametrize(
    ("who", "allowed"),
    # owner: the worker themselves, their community's committee, their street's admin;
    # colleague with another scope: a fellow worker, another street's committee and admin;
    # outsider: a resident, a stranger.
    [("worker1", True), ("committee1", True), ("admin1", True), ("worker2", False),
     ("committee3", False), ("admin2", False), ("resident_user", False), ("stranger", False)],
)  # fmt: skip
def test_who_logs_a_visit_as_made_by_worker1(world, who, allowed):
    user = fresh(getattr(world, who))
    if allowed:
        access.access_log_visit_for(user, world.worker1)
    else:
        with pytest.raises(PermissionDenied):
            access.access_log_visit_for(user, world.worker1)


def test_an_anonymous_visitor_logs_for_no_one(world):
    assert not access.may_log_visits_for_others(None)
