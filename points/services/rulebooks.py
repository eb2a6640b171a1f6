"""Writes for versioned rule books (积分细则 as a village decision, issue 15).

A community's rules (and a street's default book) belong to a RuleBook version. A version is a
draft while it is prepared — its rules may be added, changed and removed — and is then adopted
at a meeting (村民代表大会, a council …), from a date: from then on it is history and never
changes (the model, the services, the admin and the API refuse, and on PostgreSQL the
database). Changing a rule, deactivating it included, is done in a new version: `new_version`
copies a version's rules into the next draft, `adopt` puts it in force from its
`effective_from` and ends the version before it the day before. A claim is made under the
rule of the same code in the version in force on the day it happened (`rule_for_claim`).

Rules of no version (`book` empty) are *unversioned*: a community's rules before it has a
book (fixtures, a community just set up, a copy of the street's book into a community without
one). They are in force on any day no adopted version of their owner covers, and may be
edited as before. Migration 0010 made the rules in use version 1 of every book.

A community with no book of its own does *not* fall back to its street's default book: today
a street's book is a template copied into each community (copy_default_book, the admin's
"copy the street's default book", and every new community through grids'
`community_created` signal), and claims are made under a community's own rules only.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Count, Max, ProtectedError, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.types import AnyUser, User
from grids.models import Community, Council, Street
from points import access
from points.models import Claim, Rule, RuleBook
from points.models.governance import adopted_rule_message, refuse_change_of_adopted
from points.selectors import rulebooks as selectors

# What a new version copies of each rule.
RULE_FIELDS = ("code", "name", "category", "points", "up_to", "cap_per_quarter", "active")
# What may be completed on an adopted version: its approval record, never its rules or dates.
RECORD_FIELDS = ("title", "adopted_on", "adopted_by", "council", "attachment", "note")
DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------------------- owners


def _owner(*, community: Community | int | None = None, street: Street | int | None = None) -> Q:
    """The filter for one owner's books or rules (a community's, or a street's)."""
    if community is not None:
        return Q(community_id=getattr(community, "pk", community))
    assert street is not None, "a book belongs to a community or to a street"
    return Q(street_id=getattr(street, "pk", street))


def _owner_of(book: RuleBook) -> Q:
    return _owner(community=book.community_id, street=book.street_id)


def _lock_owner(book_or_owner: RuleBook | Community | Street) -> None:
    """Serialise the writes of one owner's versions (numbering, the one draft, adoption) on
    the owner's row."""
    if isinstance(book_or_owner, RuleBook):
        if book_or_owner.community_id is not None:
            Community.objects.select_for_update().filter(pk=book_or_owner.community_id).get()
        else:
            assert book_or_owner.street_id is not None
            Street.objects.select_for_update().filter(pk=book_or_owner.street_id).get()
    else:
        type(book_or_owner).objects.select_for_update().filter(pk=book_or_owner.pk).get()


def _latest_adopted(owner: Q) -> RuleBook | None:
    return (
        RuleBook.objects.filter(owner, status=RuleBook.Status.ADOPTED)
        .order_by("-effective_from")
        .first()
    )


def _planned_start(owner: Q) -> dt.date:
    """A new draft's planned first day: tomorrow, or the day after the latest adopted version
    takes effect if that is later (adoption may set another)."""
    tomorrow = timezone.localdate() + DAY
    latest = _latest_adopted(owner)
    return max(tomorrow, latest.effective_from + DAY) if latest else tomorrow


def _owner_label(book: RuleBook) -> str:
    if book.community_id is not None:
        assert book.community is not None
        return book.community.name
    assert book.street is not None
    return book.street.name


# ---------------------------------------------------------------------------- in force


def book_in_force(community: Community | int, day: dt.date) -> RuleBook | None:
    """The adopted version of the community's own rule book in force on `day`, or None (no
    book yet, or the day is before its first version: its unversioned rules apply)."""
    return selectors.covering(day).filter(_owner(community=community)).first()


def default_book_in_force(street: Street | int, day: dt.date) -> RuleBook | None:
    """The adopted version of the street's default book in force on `day`, or None."""
    return selectors.covering(day).filter(_owner(street=street)).first()


def rule_in_force(
    rule_or_code: Rule | str, community: Community | int, day: dt.date
) -> Rule | None:
    """The community's rule of this code in force on `day` (active or not): the one of the
    version in force, or with no version in force the unversioned one; None if there is none."""
    code = rule_or_code.code if isinstance(rule_or_code, Rule) else rule_or_code
    book = book_in_force(community, day)
    if book is not None:
        return book.rules.filter(code=code).first()
    return Rule.objects.filter(_owner(community=community), book__isnull=True, code=code).first()


def rule_for_claim(*, rule: Rule, community_id: int, day: dt.date) -> Rule:
    """The rule a claim dated `day` is made under: the rule of the same code in the version
    of the community's book in force that day. The field app may send the id of a rule from a
    version it cached earlier (or from the next one): the code says which rule is meant.

    Refused (a 400 on `rule`) when that version has no such rule or it is not active in it. A
    rule of another community is returned as it is, for the caller to refuse.
    """
    if rule.community_id != community_id:
        return rule
    book = book_in_force(community_id, day)
    if book is not None and rule.book_id == book.pk:
        found: Rule | None = rule
    elif book is None and rule.book_id is None:
        found = rule  # unversioned, as before versions
    else:
        found = rule_in_force(rule.code, community_id, day)
    if found is None:
        if book is None:
            message = _(
                "No version of the community's rule book is in force on %(day)s: a claim on "
                "that day cannot be made under “%(rule)s”."
            ) % {"day": day.isoformat(), "rule": rule.name}
        else:
            message = _(
                "The rule book in force on %(day)s (%(book)s) has no rule “%(rule)s” (%(code)s): "
                "choose a rule of that version."
            ) % {"day": day.isoformat(), "book": book, "rule": rule.name, "code": rule.code}
        raise ValidationError({"rule": [message]}, code="rule_not_in_force")
    if not found.active:
        raise ValidationError(
            {
                "rule": [
                    _("“%(rule)s” is not active in the rule book in force on %(day)s.")
                    % {"rule": found.name, "day": day.isoformat()}
                ]
            },
            code="rule_not_in_force",
        )
    return found


# ---------------------------------------------------------------------------- versions


def _copy_rules(rules: QuerySet[Rule] | list[Rule], into: RuleBook) -> int:
    copies = [
        Rule(
            community_id=into.community_id,
            street_id=into.street_id,
            book=into,
            **{name: getattr(rule, name) for name in RULE_FIELDS},
        )
        for rule in rules
    ]
    Rule.objects.bulk_create(copies)
    return len(copies)


def _new_draft(source: RuleBook, by: User | None) -> RuleBook:
    """The next version (a draft, numbered after the highest) with copies of `source`'s
    rules; the owner is locked and has no draft (checked by the caller)."""
    owner = _owner_of(source)
    number = RuleBook.objects.filter(owner).aggregate(top=Max("version"))["top"] or 0
    draft = RuleBook.objects.create(
        community_id=source.community_id,
        street_id=source.street_id,
        version=number + 1,
        title=source.title,
        status=RuleBook.Status.DRAFT,
        effective_from=_planned_start(owner),
        created_by=by,
    )
    _copy_rules(source.rules.order_by("code"), draft)
    return draft


def _refuse_second_draft(owner: Q) -> None:
    draft = RuleBook.objects.filter(owner, status=RuleBook.Status.DRAFT).first()
    if draft is not None:
        raise ValidationError(
            _(
                "Version %(version)d is a draft already: change it and adopt it, or delete it "
                "before making another."
            )
            % {"version": draft.version},
            code="draft_exists",
        )


@transaction.atomic
def start_book(
    *,
    user: User,
    community: Community | None = None,
    street: Street | None = None,
    title: str = "",
    note: str = "",
    effective_from: dt.date | None = None,
) -> RuleBook:
    """The first version of a community's (or a street's default) rule book: a draft holding
    copies of its unversioned rules, which stay in force until the draft is adopted."""
    owner_obj: Community | Street | None = community or street
    assert owner_obj is not None and not (community and street), "one owner"
    owner = _owner(community=community, street=street)
    book = RuleBook(community=community, street=street, version=1, title="", note=note)
    access.access_write_rule_book(user, book)
    _lock_owner(owner_obj)
    if RuleBook.objects.filter(owner).exists():
        raise ValidationError(
            _("%(owner)s has a rule book already: make a new version of it.")
            % {"owner": owner_obj.name},
            code="book_exists",
        )
    book.title = title.strip() or f"{owner_obj.name}积分细则"
    book.effective_from = effective_from or _planned_start(owner)
    book.created_by = user
    book.save()
    _copy_rules(Rule.objects.filter(owner, book__isnull=True).order_by("code"), book)
    return book


@transaction.atomic
def new_version(*, book: RuleBook, by: User) -> RuleBook:
    """A new draft (the next version number) with copies of `book`'s rules, to change and
    adopt. One draft at a time per book."""
    access.access_write_rule_book(by, book)
    _lock_owner(book)
    _refuse_second_draft(_owner_of(book))
    return _new_draft(book, by)


@transaction.atomic
def adopt(
    *,
    draft: RuleBook,
    adopted_on: dt.date | None,
    effective_from: dt.date,
    by: User,
    adopted_by: str = "",
    council: Council | None = None,
    attachment: File | None = None,
    note: str | None = None,
) -> RuleBook:
    """Record that a meeting adopted the draft, in force from `effective_from`; the version in
    force before it then ends the day before (its effective_to).

    Refused unless: the meeting date is known (or the council's) and not in the future; the
    meeting is named (adopted_by or a council meeting of the community); the version has
    rules; it takes effect on or after the meeting, and after the latest adopted version took
    effect; and no claim (not rejected) dated on or after `effective_from` was already made
    under the version before — those were made, and perhaps approved and posted, under it, so
    a new version cannot take effect under them: adopt it from the day after the latest, or
    reject those claims first.
    """
    access.access_write_rule_book(by, draft)
    _lock_owner(draft)
    draft = RuleBook.objects.select_for_update().get(pk=draft.pk)
    if draft.status != RuleBook.Status.DRAFT:
        raise ValidationError(
            _("Version %(version)d is adopted already.") % {"version": draft.version},
            code="adopted",
        )
    errors: dict[str, list[str]] = {}
    if council is not None:
        if draft.community_id is None or council.community_id != draft.community_id:
            errors.setdefault("council", []).append(
                _("Choose a council meeting of the book's community.")
            )
        elif adopted_on is None:
            adopted_on = council.held_on
    adopted_by = (adopted_by or "").strip()
    if not adopted_by and council is None:
        errors.setdefault("adopted_by", []).append(
            _("Say which meeting adopted it (e.g. 村民代表大会), or choose the council meeting.")
        )
    today = timezone.localdate()
    if adopted_on is None:
        errors.setdefault("adopted_on", []).append(_("Give the date of the meeting."))
    elif adopted_on > today:
        errors.setdefault("adopted_on", []).append(_("The meeting date cannot be in the future."))
    elif effective_from < adopted_on:
        errors.setdefault("effective_from", []).append(
            _("A version takes effect on or after the meeting that adopted it (%(day)s).")
            % {"day": adopted_on.isoformat()}
        )
    if not draft.rules.exists():
        errors.setdefault("__all__", []).append(_("A version with no rules cannot be adopted."))
    owner = _owner_of(draft)
    previous = _latest_adopted(owner)
    if previous is not None and effective_from <= previous.effective_from:
        errors.setdefault("effective_from", []).append(
            _(
                "Version %(version)d takes effect on %(day)s: the new version takes effect after "
                "it, from %(earliest)s at the earliest."
            )
            % {
                "version": previous.version,
                "day": previous.effective_from.isoformat(),
                "earliest": (previous.effective_from + DAY).isoformat(),
            }
        )
    elif "effective_from" not in errors:
        _refuse_claims_already_made(owner, previous, effective_from, errors)
    if errors:
        raise ValidationError(errors)
    assert adopted_on is not None
    if previous is not None:
        previous.effective_to = effective_from - DAY
        previous.save(update_fields=["effective_to"])
    draft.status = RuleBook.Status.ADOPTED
    draft.adopted_on = adopted_on
    draft.adopted_by = adopted_by
    draft.council = council
    draft.effective_from = effective_from
    draft.effective_to = None
    if attachment is not None:
        draft.attachment = attachment
    if note is not None:
        draft.note = note
    draft.save()
    return draft


def _refuse_claims_already_made(
    owner: Q, previous: RuleBook | None, effective_from: dt.date, errors: dict[str, list[str]]
) -> None:
    """The claims dated on or after `effective_from` made under the rules in force before (the
    previous version's, or with none the unversioned rules) forbid that date."""
    before: QuerySet[Rule] = (
        previous.rules.all() if previous else Rule.objects.filter(owner, book__isnull=True)
    )
    late = (
        Claim.objects.filter(rule__in=before.values("pk"), occurred_on__gte=effective_from)
        .exclude(status=Claim.Status.REJECTED)
        .aggregate(count=Count("pk"), latest=Max("occurred_on"))
    )
    if late["count"]:
        errors.setdefault("effective_from", []).append(
            _(
                "%(count)d claims dated from %(day)s on (the latest on %(latest)s) were already "
                "made under the rules in force before: the new version can take effect from "
                "%(earliest)s at the earliest, or reject those claims first."
            )
            % {
                "count": late["count"],
                "day": effective_from.isoformat(),
                "latest": late["latest"].isoformat(),
                "earliest": (late["latest"] + DAY).isoformat(),
            }
        )


@transaction.atomic
def save_record(*, book: RuleBook, by: User, changed: list[str] | None = None) -> RuleBook:
    """Save what the admin's form changed on a version: on a draft its title, note and planned
    start; on an adopted version only its approval record (RECORD_FIELDS) — its rules, status
    and dates never change."""
    access.access_write_rule_book(by, book)
    stored = RuleBook.objects.select_for_update().get(pk=book.pk)
    fields = list(changed) if changed is not None else [*RECORD_FIELDS, "effective_from"]
    if stored.status == RuleBook.Status.ADOPTED:
        refused = [name for name in fields if name not in RECORD_FIELDS]
        if refused:
            raise ValidationError(
                _(
                    "Version %(version)d is adopted: only its approval record may be completed; "
                    "make a new version to change anything else."
                )
                % {"version": stored.version}
            )
        if book.adopted_on is None or book.adopted_on > book.effective_from:
            raise ValidationError(
                {
                    "adopted_on": [
                        _("The meeting date is needed, on or before the version took effect.")
                    ]
                }
            )
    if book.council is not None and book.council.community_id != book.community_id:
        raise ValidationError({"council": [_("Choose a council meeting of the book's community.")]})
    allowed = [*RECORD_FIELDS, "effective_from"]
    update = [name for name in fields if name in allowed]
    if update:
        book.save(update_fields=update)
    return book


@transaction.atomic
def delete_draft(*, book: RuleBook, by: User) -> None:
    """Delete a draft and its rules (an adopted version is kept for good)."""
    access.access_write_rule_book(by, book)
    _lock_owner(book)
    stored = RuleBook.objects.select_for_update().get(pk=book.pk)
    if stored.status != RuleBook.Status.DRAFT:
        raise ValidationError(
            _("Version %(version)d is adopted: it is kept for good.") % {"version": stored.version}
        )
    try:
        stored.rules.all().delete()
        stored.delete()
    except ProtectedError:
        raise ValidationError(
            _(
                "A rule of this draft is still referred to (a volunteer team's hours rule, say): "
                "choose another rule there first."
            )
        ) from None


# ---------------------------------------------------------------------------- rules of a draft


def book_for_new_rule(
    *, community: Community | None = None, street: Street | None = None
) -> RuleBook | None:
    """Where a rule added without naming a version goes: the owner's draft; with no book at
    all, nowhere (an unversioned rule, as before versions). Refused when the owner's book is
    adopted and has no draft: rules are added only in a new version."""
    owner = _owner(community=community, street=street)
    books = RuleBook.objects.filter(owner).select_related("community", "street")
    draft = books.filter(status=RuleBook.Status.DRAFT).order_by("-version").first()
    if draft is not None:
        return draft
    latest = books.order_by("-version").first()
    if latest is None:
        return None
    raise ValidationError(
        {
            "book": [
                _(
                    "The rule book of %(owner)s is adopted (version %(version)d): rules are added "
                    "and changed only in a new version. Make a new version and add the rule there."
                )
                % {"owner": _owner_label(latest), "version": latest.version}
            ]
        },
        code="rule_book_adopted",
    )


def check_book_for_rule(
    *, book: RuleBook, community: Community | None, street: Street | None
) -> None:
    """A rule added to a version named by the client: a draft of the rule's own book."""
    if book.community_id != getattr(community, "pk", None) or book.street_id != getattr(
        street, "pk", None
    ):
        raise ValidationError(
            {"book": [_("This version belongs to another rule book.")]}, code="other_book"
        )
    if book.status != RuleBook.Status.DRAFT:
        raise ValidationError({"book": [adopted_rule_message(book)]}, code="rule_book_adopted")


def frozen_book(rule: Rule) -> RuleBook | None:
    """The adopted version the rule belongs to, if any (its rule can then not change)."""
    if rule.book_id is None:
        return None
    return RuleBook.objects.filter(pk=rule.book_id, status=RuleBook.Status.ADOPTED).first()


def ensure_rule_changeable(rule: Rule) -> None:
    """Refuse (ValidationError) a change to a rule of an adopted version."""
    refuse_change_of_adopted(rule)


@transaction.atomic
def save_rule(*, user: User, rule: Rule) -> Rule:
    """Add or change a rule of a draft version (or an unversioned rule)."""
    access.access_write_rule(user, rule)
    if rule.book_id is not None:
        book = RuleBook.objects.get(pk=rule.book_id)
        if (book.community_id, book.street_id) != (rule.community_id, rule.street_id):
            raise ValidationError({"book": [_("This version belongs to another rule book.")]})
    refuse_change_of_adopted(rule)
    rule.save()
    return rule


@transaction.atomic
def copy_default_book(*, community: Community, by: AnyUser | None = None) -> int:
    """Give a community the rules of its street's default book it does not have (by code).

    The street's version in force today is copied (or its unversioned rules). The copies go
    to the community's draft; with an adopted book and no draft, into a new version (a draft,
    to adopt); with no book at all they are unversioned rules, in force at once, as before
    versions. Nothing missing: nothing is made (no empty draft).
    """
    street_book = default_book_in_force(community.street_id, timezone.localdate())
    source = list(
        street_book.rules.all()
        if street_book is not None
        else Rule.objects.filter(street_id=community.street_id, book__isnull=True)
    )
    owner = _owner(community=community)
    _lock_owner(community)
    draft = RuleBook.objects.filter(owner, status=RuleBook.Status.DRAFT).first()
    latest = _latest_adopted(owner)
    if draft is not None:
        have = draft.rules.all()
    elif latest is not None:
        have = latest.rules.all()
    else:
        have = Rule.objects.filter(owner, book__isnull=True)
    codes = set(have.values_list("code", flat=True))
    missing = [rule for rule in source if rule.code not in codes]
    if not missing:
        return 0
    if draft is None and latest is not None:
        draft = _new_draft(latest, by if isinstance(by, User) else None)
    if draft is None:
        unversioned = [
            Rule(community=community, **{name: getattr(rule, name) for name in RULE_FIELDS})
            for rule in missing
        ]
        Rule.objects.bulk_create(unversioned)
        return len(unversioned)
    return _copy_rules(missing, draft)
