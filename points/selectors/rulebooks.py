"""Reads for versioned rule books (积分细则 versions, issue 15): which versions a user sees,
which rules are in force on a day, and what changed between two versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from core.scope import scope_for
from core.types import AnyUser
from points.models import Rule, RuleBook

# What a version may change about a rule, compared field by field (the code names the rule).
COMPARED_FIELDS = ("name", "category", "points", "up_to", "cap_per_quarter", "active")


def rule_books_for(user: AnyUser) -> QuerySet[RuleBook]:
    """The versions of the rule books of the user's communities and, for a street admin, of
    the street's default book (which belongs to no community, so no scope path reaches it)."""
    scope = scope_for(user)
    qs = RuleBook.objects.select_related("community", "street", "council")
    if scope.everything:
        return qs
    q = RuleBook.objects.scope_q(scope) or Q(pk__in=[])
    if scope.street_ids:
        q |= Q(street_id__in=scope.street_ids)
    return qs.filter(q)


def versions_of(book: RuleBook) -> QuerySet[RuleBook]:
    """Every version of the same book (the same community's, or the same street's)."""
    if book.community_id is not None:
        return RuleBook.objects.filter(community_id=book.community_id)
    assert book.street_id is not None  # a book belongs to a community or to a street
    return RuleBook.objects.filter(street_id=book.street_id)


def covering(day: dt.date) -> QuerySet[RuleBook]:
    """The adopted versions in force on `day` (at most one per community or street)."""
    return RuleBook.objects.filter(status=RuleBook.Status.ADOPTED, effective_from__lte=day).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=day)
    )


def in_force_q(day: dt.date) -> Q:
    """A filter on Rule: the rules in force on `day`.

    A rule of an adopted version in force that day; or a rule of no version (unversioned: a
    community's rules before its first book is adopted) when no version of its owner is in
    force that day. Rules of drafts, and of versions ended or not yet begun, are not.
    """
    books = covering(day)
    return Q(book__in=books.values("pk")) | (
        Q(book__isnull=True)
        & ~Exists(books.filter(community_id=OuterRef("community_id")))
        & ~Exists(books.filter(street_id=OuterRef("street_id")))
    )


def previous_version(book: RuleBook) -> RuleBook | None:
    """The version before this one (the highest lower number), if any."""
    return versions_of(book).filter(version__lt=book.version).order_by("-version").first()


@dataclass(frozen=True)
class RuleChange:
    """One code's line in a comparison: the rule in each version (None: not in it), and the
    fields that differ."""

    code: str
    old: Rule | None
    new: Rule | None
    changed: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.changed else "same"


@dataclass(frozen=True)
class Comparison:
    old: RuleBook
    new: RuleBook
    lines: list[RuleChange] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[RuleChange]:
        return [line for line in self.lines if line.kind == kind]

    @property
    def added(self) -> list[RuleChange]:
        return self.of_kind("added")

    @property
    def removed(self) -> list[RuleChange]:
        return self.of_kind("removed")

    @property
    def changed(self) -> list[RuleChange]:
        return self.of_kind("changed")


def compare(old: RuleBook, new: RuleBook) -> Comparison:
    """The rules of two versions side by side, by code: added, removed, changed (with the
    fields that differ) and unchanged, in code order. Two queries."""
    before = {r.code: r for r in old.rules.all()}
    after = {r.code: r for r in new.rules.all()}
    lines = []
    for code in sorted(before.keys() | after.keys()):
        a, b = before.get(code), after.get(code)
        changed: tuple[str, ...] = ()
        if a is not None and b is not None:
            changed = tuple(f for f in COMPARED_FIELDS if getattr(a, f) != getattr(b, f))
        lines.append(RuleChange(code=code, old=a, new=b, changed=changed))
    return Comparison(old=old, new=new, lines=lines)


def changes_since_previous(book: RuleBook) -> tuple[RuleBook | None, Comparison | None]:
    """The version before `book` and what changed since (None, None for a first version)."""
    previous = previous_version(book)
    if previous is None:
        return None, None
    return previous, compare(previous, book)
