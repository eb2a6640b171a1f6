"""What the parts of seed_demo share: the run's context, its report, and how a demo user is written.

This module imports no other demo module (the parts and the orchestrator import it), so the
import graph of the demo app stays a tree: demo.seed → demo.parts.* → demo.tables/demo.context.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models

from core import roles
from core.types import User

if TYPE_CHECKING:
    from grids.models import Community, Grid, GridWorker, Street
    from residents.models import Tag


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    password: str
    sees: str


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)  # model label → rows created
    logins: list[DemoLogin] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def role_groups() -> dict[str, Group]:
    names = list(roles.ROLE_PERMISSIONS)
    groups = {g.name: g for g in Group.objects.filter(name__in=names)}
    if len(groups) < len(names):  # migrate makes them; make sure anyway
        roles.ensure_role_groups()
        groups = {g.name: g for g in Group.objects.filter(name__in=names)}
    return groups


@dataclass
class DemoContext:
    """One run of seed_demo: its inputs, its report, and what the earlier parts made (filled
    in by demo.parts.grids and demo.parts.residents.seed_tags, read by the parts after them)."""

    seed: int
    today: dt.date
    report: SeedReport
    groups: dict[str, Group]
    street: Street | None = None
    communities: dict[str, Community] = field(default_factory=dict)
    grids: dict[tuple[str, str], Grid] = field(default_factory=dict)  # (community, code)
    workers: dict[str, GridWorker] = field(default_factory=dict)  # by username
    tags: dict[str, Tag] = field(default_factory=dict)  # by name

    def count(self, obj: models.Model, created: bool) -> None:
        if created:
            self.report.created[obj._meta.label] += 1

    def user(
        self,
        *,
        username: str,
        name: str,
        group: Group,
        superuser: bool = False,
        login: bool = True,
    ) -> User:
        """Create or refresh a demo user in one role group. With `login`, its password is
        reset to DEMO_PASSWORD; without, it cannot log in."""
        staff_site = group.name in (
            roles.STREET_ADMIN,
            roles.COMMITTEE,
            roles.GRID_WORKER,
            roles.INSPECTOR,
        )
        user, created = get_user_model().objects.get_or_create(username=username)
        self.count(user, created)
        user.first_name = name
        user.is_active = True
        user.is_staff = staff_site or superuser
        user.is_superuser = superuser
        if login:
            user.set_password(settings.DEMO_PASSWORD)
        elif created or user.has_usable_password():
            user.set_unusable_password()
        user.save()
        user.groups.set([group])
        return user
