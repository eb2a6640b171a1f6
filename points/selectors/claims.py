"""Reads for claims and what the residents see of them: rule books, claims, objections, the
quarter's public notice (季度公示) and the yearly ranking (年度积分排名)."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Rank
from django.utils import timezone
from django.utils.translation import pgettext

from core.masking import mask_name
from core.scope import scope_for
from core.types import AnyUser
from grids.models import Grid
from points.models import Claim, Entry, Objection, Period, Policy, Rule
from points.selectors.ledger import EARNED
from points.selectors.rulebooks import in_force_q
from residents.models import Resident


def rules_for(user: AnyUser) -> QuerySet[Rule]:
    """The rule books of the user's communities and, for a street admin, the street's default
    book (rules with a street and no community, which the scope paths cannot reach)."""
    scope = scope_for(user)
    if scope.everything:
        return Rule.objects.select_related("community", "book")
    q = Rule.objects.scope_q(scope) or Q(pk__in=[])
    if scope.street_ids:
        q |= Q(street_id__in=scope.street_ids)
    return Rule.objects.filter(q).select_related("community", "book")


def community_rules(*, community_id: int) -> QuerySet[Rule]:
    """The active rule book of one community, as its residents read it (/me/rules/): the
    rules in force today (issue 15: the version in force, not drafts or past versions)."""
    return Rule.objects.filter(
        in_force_q(timezone.localdate()), community_id=community_id, active=True
    ).order_by("category", "code")


def claims_for(user: AnyUser) -> QuerySet[Claim]:
    return Claim.objects.for_user(user).select_related("rule", "resident", "period")


def objections_for(user: AnyUser) -> QuerySet[Objection]:
    return Objection.objects.for_user(user).select_related("entry__period")


# ---------------------------------------------------------------------------- households


def counts_households(community_id: int | None) -> bool:
    """Whether the community counts points per household (Policy.account_unit; the same read
    as points.services.ledger.counts_households)."""
    if community_id is None:
        return False
    return Policy.objects.filter(
        community_id=community_id, account_unit=Policy.AccountUnit.HOUSEHOLD
    ).exists()


def household_label(name: str) -> str:
    """A household as the notice, the rankings and the cards name it: its head's name (masked
    or not, as given) and 户, e.g. 赵*名户 (Account.holder_name's wording)."""
    return pgettext("household account holder", "%(head)s household") % {"head": name}


def household_label_affixes() -> tuple[str, str]:
    """What household_label puts before and after the name (for SQL that builds it)."""
    label = pgettext("household account holder", "%(head)s household")
    before, _sep, after = (label % {"head": "\0"}).partition("\0")
    return before, after


def household_representatives(residents: QuerySet[Resident]) -> QuerySet[Resident]:
    """One resident per household: its head (户主), or the member with the smallest id when
    it has none (or a head living elsewhere). The rows of a household on the notice and in
    the ranking stand on this resident (NoticeLine names a resident)."""
    head_is_member = Exists(
        Resident.objects.filter(
            household_id=OuterRef("household_id"), pk=OuterRef("household__head_id")
        )
    )
    first = Resident.objects.filter(household_id=OuterRef("household_id")).order_by("id")
    return residents.filter(
        Q(household__head_id=F("pk")) | (~head_is_member & Q(pk=Subquery(first.values("id")[:1])))
    )


# ---------------------------------------------------------------------------- notice, ranking


def _earned_subquery(periods: QuerySet[Period], *, per_household: bool = False) -> Coalesce:
    """Points earned (EARNED) in `periods` by the resident's own account or, `per_household`,
    by every account of the resident's household together (its shared account, and its
    members' own from before a switch of unit)."""
    if per_household:
        entries = Entry.objects.filter(account__household=OuterRef("household_id"))
        group = "account__household"
    else:
        entries = Entry.objects.filter(account__resident=OuterRef("pk"))
        group = "account__resident"
    total = (
        entries.filter(EARNED, period__in=periods)
        .order_by()
        .values(group)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def _honour_subquery(entries: QuerySet[Entry]) -> Coalesce:
    """The honour points (荣誉积分) of `entries` (correlated to the outer row), transfers
    between units left out: what the holder earned, not what a switch of unit moved. One SUM
    without GROUP BY, whichever accounts the entries are on."""
    total = (
        entries.exclude(kind=Entry.Kind.TRANSFER)
        .order_by()
        .annotate(total=Func(F("honour"), function="SUM"))
        .values("total")[:1]
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def notice_rows(*, period: Period, grid_id: int) -> QuerySet[Resident]:
    """The quarter's public notice (季度公示) of one grid: every resident with the points earned
    in the quarter and their balance; in a community that counts per household (以户为单位)
    one row per household instead, on its head (household_representatives), with the
    household's points earned and its shared account's balance (`per_household` True). Names
    are masked by the serializer or the page (notice_name)."""
    community_id = Grid.objects.filter(pk=grid_id).values_list("community_id", flat=True).first()
    quarter = Period.objects.filter(pk=period.pk)
    residents = Resident.objects.filter(household__grid_id=grid_id)
    rows: QuerySet[Any]
    if counts_households(community_id):
        rows = household_representatives(residents).annotate(
            earned=_earned_subquery(quarter, per_household=True),
            balance=Coalesce("household__point_account__balance", Value(0)),
            per_household=Value(True),
        )
    else:
        rows = residents.annotate(
            earned=_earned_subquery(quarter),
            balance=Coalesce("point_account__balance", Value(0)),
            per_household=Value(False),
        )
    return rows.select_related("household").order_by("household_id", "id")


def notice_name(row: Resident) -> str:
    """A notice row's name, masked: the resident's, or for a household 赵*名户."""
    masked = mask_name(row.name)
    return household_label(masked) if getattr(row, "per_household", False) else masked


def ranking(*, community_id: int, year: int, party_only: bool = False) -> QuerySet[Resident]:
    """The community's yearly ranking (年度积分排名) by honour points earned in the year's
    quarters (荣誉积分; transfers between units left out), ranked (ties share a rank), each
    row annotated with `honour`, `rank` and `per_household`.

    - A community that counts per resident ranks its residents by their own account.
    - One that counts per household (以户为单位) ranks households: every account of the
      household together (its shared account, and its members' own from before a switch of
      unit, so the year stays whole across a switch), one row on its head
      (household_representatives, `per_household` True).
    - `party_only`: party members, always each person for themselves (the top three are
      recommended as outstanding members): the honour of the entries of claims made for them,
      and of reversals of those, wherever they were posted (a household's account too), and
      of their own account.
    """
    periods = Period.objects.filter(code__startswith=f"{year}Q")
    qs: QuerySet[Any] = Resident.objects.filter(household__grid__community_id=community_id)
    in_year = Entry.objects.filter(period__in=periods)
    if party_only:
        theirs = Claim.objects.filter(resident=OuterRef(OuterRef("pk"))).values("id")
        entries = in_year.filter(
            Q(account__resident=OuterRef("pk"))
            | Q(source_type="claim", source_id__in=theirs)
            | Q(reverses__source_type="claim", reverses__source_id__in=theirs)
        )
        honour = _honour_subquery(entries)
        qs = qs.filter(is_party_member=True).annotate(per_household=Value(False))
    elif counts_households(community_id):
        entries = in_year.filter(account__household=OuterRef("household_id"))
        honour = _honour_subquery(entries)
        qs = household_representatives(qs).annotate(per_household=Value(True))
    else:
        entries = in_year.filter(account__resident=OuterRef("pk"))
        honour = _honour_subquery(entries)
        qs = qs.annotate(per_household=Value(False))
    return (
        qs.annotate(honour=honour)
        .annotate(rank=Window(expression=Rank(), order_by=F("honour").desc()))
        .select_related("household__grid", "household__head")
        .order_by("rank", "id")
    )


def claims_of_entries(entries: list[Entry], *, members: bool = False) -> dict[int, Claim]:
    """The claim behind each entry posted for one (entry id → claim, with its rule), in one
    query: a statement line names the rule ("cleaning one's section") rather than a kind.
    With `members`, also the resident each claim was for (a household's statement names the
    member)."""
    claim_ids = {e.source_id: e.pk for e in entries if e.source_type == "claim" and e.source_id}
    claims = Claim.objects.filter(pk__in=claim_ids).select_related(
        "rule", *(["resident"] if members else [])
    )
    return {claim_ids[c.pk]: c for c in claims}
