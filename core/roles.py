"""The roles as Django groups, with the model permissions each one needs.

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
# 纪检监督 (issue 15): reads a community's points records, decides nothing. Where: an inspector
# seat (grids.CommitteeMember.inspector), which core.scope keeps apart from committee seats.
INSPECTOR = "inspector"

_CRUD = ("view", "add", "change", "delete")
_RW = ("view", "add", "change")
# The steps of a need (the permissions of residents.Need): the community and the street run the
# whole loop; a grid worker takes a need on, hands it on, escalates it and does the work; only the
# community or the street rejects one or offers a micro-wish to partner units.
_NEED_MANAGE = ("accept", "assign", "offer", "reject", "escalate", "start", "resolve")
_NEED_WORK = ("accept", "assign", "escalate", "start", "resolve")

# role → {"app.model": actions}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    STREET_ADMIN: {
        "residents.need": (*_RW, *_NEED_MANAGE),
        "residents.needevent": ("view",),
        "residents.needphoto": ("view", "add"),
        "residents.rating": ("view", "phone"),
        "residents.rectification": ("view", "change", "accept"),
        "grids.resource": _CRUD,
        "grids.project": _CRUD,
        # The street admin may run a community's council too (as 石桥乡 did, town-wide).
        "grids.council": _CRUD,
        "grids.agendaitem": _CRUD,
        "grids.agendaevaluation": ("view", "add"),
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
        "residents.absence": _RW,  # issue 15: residents recorded away (外出登记)
        "points.rule": _CRUD,
        "points.rulebook": _CRUD,  # issue 15: versions; only drafts are ever deleted
        "points.claim": _RW,
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        # The points policy, and switching a community to household accounts at a quarter
        # boundary (issue 15), are the street's call.
        "points.policy": ("view", "change"),
        "points.objection": ("view", "change"),
        "points.catalogitem": ("view",),
        "points.redemptionwindow": ("view", "add", "change"),
        "points.order": ("view",),
        "points.orderline": ("view",),
        "volunteers.team": _CRUD,
        "volunteers.membership": _CRUD,
        "volunteers.activity": _CRUD,
        "volunteers.signup": ("view",),
        "volunteers.attendance": _RW,
        "volunteers.partnerorganisation": _CRUD,
        "audit.auditevent": ("view",),  # the audit log of their street, read-only
        # issue 14: each community's switches, and what was sent (read-only)
        "notifications.notificationsetting": _CRUD,
        "notifications.notification": ("view",),
        "notifications.delivery": ("view",),
    },
    COMMITTEE: {
        "residents.need": (*_RW, *_NEED_MANAGE),
        "residents.needevent": ("view",),
        "residents.needphoto": ("view", "add"),
        "residents.rating": ("view", "phone"),
        "residents.rectification": ("view", "change", "accept"),
        "grids.resource": _CRUD,
        "grids.project": _CRUD,
        "grids.council": _CRUD,
        "grids.agendaitem": _CRUD,
        "grids.agendaevaluation": ("view", "add"),
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
        "residents.absence": _RW,  # issue 15: residents recorded away (外出登记)
        "points.rule": _RW,
        "points.rulebook": _CRUD,  # issue 15: versions; only drafts are ever deleted
        "points.claim": _RW,
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.policy": ("view",),
        "points.objection": ("view", "change"),
        "points.catalogitem": _CRUD,
        "points.redemptionwindow": ("view",),
        "points.order": _RW,
        "points.orderline": ("view",),
        "volunteers.team": _CRUD,
        "volunteers.membership": _CRUD,
        "volunteers.activity": _CRUD,
        "volunteers.signup": ("view",),
        "volunteers.attendance": _RW,
        "volunteers.partnerorganisation": _CRUD,
        "notifications.notificationsetting": _CRUD,  # issue 14: the community's switches
        "notifications.notification": ("view",),
        "notifications.delivery": ("view",),
    },
    GRID_WORKER: {
        "residents.need": (*_RW, *_NEED_WORK),
        "residents.needevent": ("view",),
        "residents.needphoto": ("view", "add"),
        "residents.rating": ("view", "phone"),  # phone: record a rating taken by phone (回访)
        "residents.rectification": ("view", "change"),
        "grids.resource": ("view",),
        "grids.project": ("view",),
        "grids.council": ("view",),
        "grids.agendaitem": ("view",),
        "grids.agendaevaluation": ("view",),
        "grids.street": ("view",),
        "grids.community": ("view",),
        "grids.grid": ("view",),
        "grids.gridworker": ("view",),
        "grids.partnerunit": ("view",),
        "residents.household": _RW,
        "residents.resident": _RW,
        "residents.tag": ("view",),
        "residents.visit": _RW,
        "residents.absence": _RW,  # issue 15: a worker records who is away (外出登记)
        "points.rule": ("view",),
        "points.rulebook": ("view",),  # issue 15
        "points.claim": ("view", "add"),
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.catalogitem": ("view",),
        "points.redemptionwindow": ("view",),
        "points.order": _RW,
        "points.orderline": ("view",),
        "volunteers.team": ("view",),
        "volunteers.membership": ("view",),
        "volunteers.activity": ("view",),
        "volunteers.partnerorganisation": ("view",),
    },
    PARTNER: {
        "residents.need": ("view", "change", "claim", "start", "resolve"),
        # A micro-wish it delivered and the resident rated low: the unit does the rectification.
        "residents.rectification": ("view", "change"),
        "residents.needevent": ("view",),
        "residents.needphoto": ("view", "add"),
        "grids.resource": ("view",),
        "grids.community": ("view",),
        "grids.partnerunit": ("view",),
    },
    TEAM_LEADER: {
        "grids.community": ("view",),
        # Their own team only (core.scope: team_ids); creating teams is the committee's.
        "volunteers.team": ("view", "change"),
        "volunteers.membership": _CRUD,
        "volunteers.activity": _CRUD,
        "volunteers.signup": ("view",),
        "volunteers.attendance": _RW,
        "volunteers.partnerorganisation": ("view",),
    },
    RESIDENT: {
        "residents.need": ("view", "add"),
        "residents.needevent": ("view",),
        "residents.needphoto": ("view", "add"),
        "residents.rating": ("view", "add"),
        "residents.rectification": ("view",),
        "residents.household": ("view",),
        "residents.resident": ("view",),
        "residents.absence": ("view",),  # their own (core.scope: resident)
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.objection": ("view", "add"),
        "points.catalogitem": ("view",),
        "points.redemptionwindow": ("view",),
        "points.order": ("view", "add"),
        "points.orderline": ("view",),
        # Their own teams; signing up, checking in and out are actions on an activity.
        "volunteers.team": ("view",),
        "volunteers.membership": ("view",),
        "volunteers.activity": ("view",),
        "volunteers.signup": ("view",),
        "volunteers.attendance": ("view",),
        "volunteers.partnerorganisation": ("view",),
    },
    INSPECTOR: {
        "grids.street": ("view",),
        "grids.community": ("view",),
        "grids.grid": ("view",),
        "points.rulebook": ("view",),
        "points.rule": ("view",),
        "points.policy": ("view",),
        "points.claim": ("view",),
        "points.account": ("view",),
        "points.entry": ("view",),
        "points.period": ("view",),
        "points.objection": ("view",),
        "points.unitswitch": ("view",),
        "points.exchangereset": ("view",),
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
