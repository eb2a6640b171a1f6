"""seed_demo: the demo street 沙北街道 (泰山社区 and 新庄赵村) from the source articles, part by
part.

The data is the tables of demo.tables; each part of demo.parts writes the rows of one app, in
this order, because each stands on the ones before it:

1. residents.seed_tags — the key-population tags;
2. grids — the street, communities, grids, staff (the demo logins) and partner units;
3. residents.seed_residents — households, residents (赵银名's `resident` login) and visits,
   and seed_absences — a few residents recorded away;
   then map.seed_map — the grids' boundaries and a few households on the map;
4. points — the street's rule book copied into each community, accounts, catalog, claims;
   then households — 泰山社区's claims and its switch to household accounts (以户为单位);
5. volunteers — 泰山社区's teams, activities and 公益合伙人;
6. needs — both communities' needs lists, in every state, through the services;
7. councils — the resources and projects lists and 新庄赵村's councils; last, so that a need
   flagged for the council by then goes on the next agenda.

Every part writes with get_or_create / update_or_create on natural keys or skips what exists,
so running it again creates nothing new; it only resets what drifted (the demo users'
passwords, and the dates of the demo visits, which are kept relative to today).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from demo.context import DemoContext, SeedReport, role_groups
from demo.parts import councils, grids, households, map, needs, points, residents, volunteers
from demo.tables import COMMITTEE_APPROVERS, RANDOM_SEED

__all__ = ["SeedReport", "seed_demo"]


@transaction.atomic
def seed_demo(*, seed: int = RANDOM_SEED, today: dt.date | None = None) -> SeedReport:
    """Create or refresh the demo street. Idempotent: a second run creates nothing new."""
    ctx = DemoContext(
        seed=seed,
        today=today or timezone.localdate(),
        report=SeedReport(),
        groups=role_groups(),
    )
    created = ctx.report.created
    residents.seed_tags(ctx)
    grids.seed_grids(ctx)
    residents.seed_residents(ctx)
    residents.seed_absences(ctx)  # a few residents recorded away (issue 15)
    # --- the grid map: boundaries, a few households placed, 新庄赵村's public page (issue 12)
    map.seed_map(ctx)
    assert ctx.street is not None
    # --- points: the street's rule book, copied into each community; accounts; claims
    created.update(
        points.seed_points(
            street=ctx.street, today=ctx.today, committee_usernames=COMMITTEE_APPROVERS
        )
    )
    # --- 泰山社区 counts points per household (以户为单位): switched by the service (issue 15)
    created.update(
        households.seed_household_accounts(
            street=ctx.street, today=ctx.today, committee_usernames=COMMITTEE_APPROVERS
        )
    )
    # --- volunteers: 泰山社区's teams (银龄调解队 led by the `leader` login), activities, partners
    created.update(
        volunteers.seed_volunteers(
            today=ctx.today,
            leader_username="leader",
            manager_username="admin",
            approver_username=COMMITTEE_APPROVERS["taishan"],
        )
    )
    # --- needs (需求清单, 微心愿): both communities' lists in every state, through the services
    created.update(needs.seed_needs(today=ctx.today))
    # --- the resources and projects lists, and 新庄赵村's councils (议事会)
    created.update(councils.seed_lists_and_councils(today=ctx.today))
    return ctx.report
