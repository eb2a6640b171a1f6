"""Who may see what, resolved in one place.

A user's scope is the union of what their posts give them: a street admin their street, a
committee member their community, a grid worker the grids they are assigned to today, a partner
contact their unit, a volunteer team leader their team, a resident themselves, a discipline
inspector (纪检监督, an inspector seat) the community they inspect, to read. Every scoped
model names, in `scope_paths`, the lookup from itself to a street, community, grid, team,
resident, user or partner unit (or a tuple of lookups, any of which admits a row);
`for_user()` turns the scope into one filter. Views, the admin and selectors all go through
`for_user()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, TypeVar

from django.apps import apps
from django.db import models
from django.db.models import Q

from core.types import AnyUser

_M = TypeVar("_M", bound=models.Model)


class CommunityLike(Protocol):
    """What runs_community reads of a grids.Community (core imports no app)."""

    @property
    def pk(self) -> Any: ...

    @property
    def street_id(self) -> int: ...


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    street_ids: frozenset[int] = field(default_factory=frozenset)
    community_ids: frozenset[int] = field(default_factory=frozenset)
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    partner_unit_ids: frozenset[int] = field(default_factory=frozenset)
    # Volunteer teams the user leads (an active leader membership, by its login or the
    # resident's own).
    team_ids: frozenset[int] = field(default_factory=frozenset)
    # Communities the user inspects (纪检监督, an inspector seat: CommitteeMember.inspector):
    # their rows are read through for_user(), but the seat is not a committee seat, so
    # nothing that asks for `community_ids` (deciding, reversing, running) admits it.
    inspected_community_ids: frozenset[int] = field(default_factory=frozenset)
    resident_id: int | None = None
    user_id: int | None = None

    @property
    def has_area(self) -> bool:
        """A post over territory (a street, a community or a grid): partners, team leaders and
        residents hold none."""
        return bool(self.everything or self.street_ids or self.community_ids or self.grid_ids)

    def runs_community(self, community: CommunityLike) -> bool:
        """The community's committee and its street's admins run it (its council, its
        volunteer teams' settings, its partner organisations)."""
        return (
            self.everything
            or community.pk in self.community_ids
            or community.street_id in self.street_ids
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.everything
            or self.street_ids
            or self.community_ids
            or self.grid_ids
            or self.partner_unit_ids
            or self.team_ids
            or self.inspected_community_ids
            or self.resident_id
        )


def _ids(qs: models.QuerySet[Any], column: str) -> frozenset[int]:
    return frozenset(qs.values_list(column, flat=True))


def resolve_scope(user: AnyUser | None) -> Scope:
    """Read a user's posts from the database. Prefer `scope_for`, which caches per request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(everything=True, user_id=user.pk)
    StreetAdmin = apps.get_model("grids", "StreetAdmin")
    CommitteeMember = apps.get_model("grids", "CommitteeMember")
    GridAssignment = apps.get_model("grids", "GridAssignment")
    PartnerUnit = apps.get_model("grids", "PartnerUnit")
    Resident = apps.get_model("residents", "Resident")
    Membership = apps.get_model("volunteers", "Membership")
    resident_id = Resident.objects.filter(user=user).values_list("id", flat=True).first()
    seats = list(CommitteeMember.objects.filter(user=user).values_list("community_id", "inspector"))
    return Scope(
        street_ids=_ids(StreetAdmin.objects.filter(user=user), "street_id"),
        community_ids=frozenset(c for c, inspector in seats if not inspector),
        inspected_community_ids=frozenset(c for c, inspector in seats if inspector),
        grid_ids=_ids(GridAssignment.objects.current().filter(worker__user=user), "grid_id"),
        partner_unit_ids=_ids(PartnerUnit.objects.filter(contacts=user), "id"),
        team_ids=_ids(
            Membership.objects.filter(Q(user=user) | Q(resident__user=user))
            .filter(role=Membership.Role.LEADER, active=True)
            .order_by(),
            "team_id",
        ),
        resident_id=resident_id,
        user_id=user.pk,
    )


def scope_for(user: AnyUser | None) -> Scope:
    """The user's scope, computed once per user object (that is, once per request)."""
    cached = getattr(user, "_gridpoints_scope", None)
    if cached is None:
        cached = resolve_scope(user)
        if user is not None:
            user._gridpoints_scope = cached  # type: ignore[union-attr]  # a per-request memo
    return cached


def _is_multi_valued(model: type[models.Model], path: str) -> bool:
    """Does following `path` from `model` cross a to-many relation (and so duplicate rows)?"""
    for name in path.split("__"):
        try:
            f = model._meta.get_field(name)
        except Exception:  # an attname such as street_id, or the end of the path
            return False
        if f.many_to_many or f.one_to_many:
            return True
        if not f.is_relation or f.related_model is None:
            return False
        model = f.related_model
    return False


def paths_through_resident(to_resident: str) -> dict[str, str]:
    """`scope_paths` for a model that belongs to one resident, reached through `to_resident`
    (e.g. "resident", or "account__resident"): the resident's grid, community and street."""
    household = f"{to_resident}__household"
    return {
        "street": f"{household}__grid__community__street_id",
        "community": f"{household}__grid__community_id",
        "grid": f"{household}__grid_id",
        "resident": f"{to_resident}_id",
    }


def paths_through_community(to_community: str) -> dict[str, str]:
    """`scope_paths` for a model that belongs to one community, reached through `to_community`
    (e.g. "community", or "team__community"): its street, itself, and every grid of it (a grid
    worker sees what the whole community has)."""
    return {
        "street": f"{to_community}__street_id",
        "community": f"{to_community}_id",
        "grid": f"{to_community}__grids",
    }


def paths_through(
    parent: str, paths: Mapping[str, str | Sequence[str]]
) -> dict[str, str | tuple[str, ...]]:
    """`scope_paths` for a model that belongs to one `parent` row (a need's photo, a council's
    agenda item): the parent's own paths, reached through it."""

    def through(path: str) -> str:
        return f"{parent}_id" if path == "id" else f"{parent}__{path}"

    return {
        key: through(path) if isinstance(path, str) else tuple(through(p) for p in path)
        for key, path in paths.items()
    }


def scoped(qs: models.QuerySet[_M]) -> ScopedQuerySet[_M]:
    """`qs` as the ScopedQuerySet that a model with `scope_paths` has, for code handed any model
    (the admin's choice lists, `ensure_in_scope`)."""
    if not isinstance(qs, ScopedQuerySet):
        raise TypeError(f"{qs.model.__name__} is not scoped: its manager is no ScopedQuerySet")
    return qs


class ScopedQuerySet(models.QuerySet[_M]):
    """`Model.objects.for_user(user)`: the rows the user may see; nothing for a stranger."""

    def scope_q(self, scope: Scope) -> Q | None:
        """The filter for `scope`, or None when the scope gives this model nothing."""
        paths: dict[str, str | tuple[str, ...]] = getattr(self.model, "scope_paths", {})
        wanted: list[tuple[str, object]] = []
        if scope.street_ids:
            wanted.append(("street", scope.street_ids))
        if scope.community_ids:
            wanted.append(("community", scope.community_ids))
        if scope.inspected_community_ids:  # read by an inspector; roles grant only views
            wanted.append(("community", scope.inspected_community_ids))
        if scope.grid_ids:
            wanted.append(("grid", scope.grid_ids))
        if scope.partner_unit_ids:
            wanted.append(("partner", scope.partner_unit_ids))
        if scope.team_ids:
            wanted.append(("team", scope.team_ids))
        if scope.resident_id:
            wanted.append(("resident", [scope.resident_id]))
        if scope.user_id:
            wanted.append(("user", [scope.user_id]))
        parts: list[tuple[str, object]] = []
        for key, ids in wanted:
            # A key may name several paths (e.g. a need offered to a partner or assigned to it).
            found = paths.get(key, ())
            parts += [(path, ids) for path in ((found,) if isinstance(found, str) else found)]
        q: Q | None = None
        for path, ids in parts:
            if _is_multi_valued(self.model, path):
                # Keep one row per object: filter by a subquery, not by a duplicating join.
                inner = self.model._base_manager.filter(**{f"{path}__in": ids}).values("pk")
                part = Q(pk__in=inner)
            else:
                part = Q(**{f"{path}__in": ids})
            q = part if q is None else q | part
        return q

    def for_scope(self, scope: Scope) -> Self:
        if scope.everything:
            return self.all()
        q = self.scope_q(scope)
        return self.none() if q is None else self.filter(q)

    def for_user(self, user: AnyUser | None) -> Self:
        return self.for_scope(scope_for(user))
