"""The six roles as Django groups, with the model permissions each one needs.

Groups say what a role may do (view, add, change); the user's posts (street admin, committee
seat, grid assignment, partner contact, resident login) say where: see core.scope.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

STREET_ADMIN = "street_admin"
COMMITTEE = "committee"
GRID_WORKER = "grid_worker"
PARTNER = "partner"
TEAM_LEADER = "team_leader"
RESIDENT = "resident"

_CRUD = ("view", "add", "change", "delete")
_RW = ("view", "add", "change")

# role → {"app.model": actions}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    STREET_ADMIN: {
        "grids.street": ("view", "change"),
        "grids.community": _CRUD,
        "grids.grid": _CRUD,
        "grids.gridworker": _CRUD,
        "grids.gridassignment": _CRUD,
        "grids.committeemember": _CRUD,
        "grids.partnerunit": _CRUD,
        "grids.partneragreement": _CRUD,
        "residents.household": _CRUD,
        "residents.resident": _CRUD,
        "residents.tag": _CRUD,
        "residents.visit": ("view",),
        "points.rule": _CRUD,
        "points.claim": _RW,
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.objection": ("view", "change"),
        "points.catalogitem": ("view",),
        "points.redemptionwindow": ("view", "add"),
        "points.order": ("view",),
        "points.orderline": ("view",),
    },
    COMMITTEE: {
        "grids.street": ("view",),
        "grids.community": ("view",),
        "grids.grid": ("view", "change"),
        "grids.gridworker": _RW,
        "grids.gridassignment": _CRUD,
        "grids.committeemember": ("view",),
        "grids.partnerunit": ("view",),
        "grids.partneragreement": ("view",),
        "residents.household": _CRUD,
        "residents.resident": _CRUD,
        "residents.tag": ("view",),
        "residents.visit": ("view",),
        "points.rule": _RW,
        "points.claim": _RW,
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.objection": ("view", "change"),
        "points.catalogitem": _CRUD,
        "points.redemptionwindow": ("view",),
        "points.order": _RW,
        "points.orderline": ("view",),
    },
    GRID_WORKER: {
        "grids.street": ("view",),
        "grids.community": ("view",),
        "grids.grid": ("view",),
        "grids.gridworker": ("view",),
        "grids.partnerunit": ("view",),
        "residents.household": _RW,
        "residents.resident": _RW,
        "residents.tag": ("view",),
        "residents.visit": _RW,
        "points.rule": ("view",),
        "points.claim": ("view", "add"),
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.catalogitem": ("view",),
        "points.redemptionwindow": ("view",),
        "points.order": _RW,
        "points.orderline": ("view",),
    },
    PARTNER: {
        "grids.community": ("view",),
        "grids.partnerunit": ("view",),
    },
    TEAM_LEADER: {
        "grids.community": ("view",),
    },
    RESIDENT: {
        "residents.household": ("view",),
        "residents.resident": ("view",),
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.objection": ("view", "add"),
        "points.catalogitem": ("view",),
        "points.redemptionwindow": ("view",),
        "points.order": ("view", "add"),
        "points.orderline": ("view",),
    },
}


def ensure_role_groups(*, using: str = "default", **kwargs: Any) -> None:
    """Create the role groups and set exactly their permissions. Safe to run any number of times."""
    # post_migrate reaches this app before the apps listed after it have their permissions.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for label, actions in grants.items():
            app_label, model = label.split(".")
            wanted += list(
                Permission.objects.filter(
                    content_type__app_label=app_label,
                    codename__in=[f"{a}_{model}" for a in actions],
                )
            )
        group.permissions.set(wanted)
