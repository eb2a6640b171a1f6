"""The demo street's frame: 沙北街道, its communities and grids, the staff and their posts
(street admin, committee seats, grid workers with their assignments and the grids they lead),
and the partner units (共建单位) with their agreements (共建协议).

Written with get_or_create / update_or_create on natural keys (codes, names, usernames), so a
second run creates nothing; the demo logins' passwords are reset to DEMO_PASSWORD.
"""

from __future__ import annotations

import zlib

from django.conf import settings

from core import roles
from core.types import User
from demo.context import DemoContext, DemoLogin
from demo.tables import (
    ASSIGNMENTS_START,
    COMMUNITIES,
    GRIDS,
    MOBILE_PREFIXES,
    PARTNERS,
    STAFF,
    STREET,
)
from grids.models import (
    CommitteeMember,
    Community,
    Grid,
    GridAssignment,
    GridWorker,
    PartnerAgreement,
    PartnerUnit,
    Street,
    StreetAdmin,
)


def stable_phone(key: str) -> str:
    """A valid mobile number that depends only on `key` (the same on every run)."""
    digest = zlib.crc32(key.encode())
    return MOBILE_PREFIXES[digest % len(MOBILE_PREFIXES)] + f"{digest % 10**8:08d}"


def seed_grids(ctx: DemoContext) -> None:
    """The street, communities, grids, staff and partner units; fills ctx.street,
    ctx.communities, ctx.grids and ctx.workers, and adds the staff's demo logins."""
    street, created = Street.objects.update_or_create(
        code=STREET["code"], defaults={"name": STREET["name"]}
    )
    ctx.count(street, created)
    ctx.street = street
    communities = ctx.communities
    for c in COMMUNITIES:
        communities[c.code], created = Community.objects.update_or_create(
            code=c.code, defaults={"street": street, "name": c.name, "kind": c.kind}
        )
        ctx.count(communities[c.code], created)
    grids = ctx.grids
    for g in GRIDS:
        grid, created = Grid.objects.update_or_create(
            community=communities[g.community],
            code=g.code,
            defaults={"name": g.name, "kind": g.kind},
        )
        grids[(g.community, g.code)] = grid
        ctx.count(grid, created)

    # --- staff: logins and their posts
    workers = ctx.workers
    partner_logins: dict[str, list[User]] = {}
    for s in STAFF:
        user = ctx.user(
            username=s.username,
            name=s.name,
            group=ctx.groups[s.role],
            superuser=s.superuser,
            login=s.login,
        )
        if s.street:
            admin, created = StreetAdmin.objects.get_or_create(user=user, street=street)
            ctx.count(admin, created)
        if s.role in (roles.COMMITTEE, roles.INSPECTOR):
            # An inspector's seat is marked so: it reads the community and decides nothing.
            member, created = CommitteeMember.objects.update_or_create(
                user=user,
                community=communities[s.community],
                defaults={"title": s.title, "inspector": s.role == roles.INSPECTOR},
            )
            ctx.count(member, created)
        if s.role == roles.GRID_WORKER:
            worker, created = GridWorker.objects.update_or_create(
                user=user,
                defaults={
                    "community": communities[s.community],
                    "name": s.name,
                    "kind": s.worker_kind,
                    "phone": stable_phone(s.username),
                    "is_party_member": s.party_member,
                },
            )
            ctx.count(worker, created)
            workers[s.username] = worker
            for code in s.grids:
                grid = grids[(s.community, code)]
                if (
                    not GridAssignment.objects.current(ctx.today)
                    .filter(worker=worker, grid=grid)
                    .exists()
                ):
                    assignment = GridAssignment.objects.create(
                        worker=worker, grid=grid, start_date=ASSIGNMENTS_START
                    )
                    ctx.count(assignment, True)
            for code in s.leads:
                Grid.objects.filter(pk=grids[(s.community, code)].pk).update(leader=worker)
        if s.partner:
            partner_logins.setdefault(s.partner, []).append(user)
        if s.login:
            ctx.report.logins.append(DemoLogin(s.username, s.role, settings.DEMO_PASSWORD, s.sees))

    # --- partner units (共建单位) and their agreements (共建协议)
    for p in PARTNERS:
        unit, created = PartnerUnit.objects.update_or_create(
            name=p.name,
            defaults={"contact_name": p.contact_name, "contact_phone": stable_phone(p.name)},
        )
        ctx.count(unit, created)
        if p.name in partner_logins:
            unit.contacts.add(*partner_logins[p.name])
        for code in p.communities:
            obj, created = PartnerAgreement.objects.update_or_create(
                unit=unit, community=communities[code], defaults={"signed_on": p.signed_on}
            )
            ctx.count(obj, created)
