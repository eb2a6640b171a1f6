"""Reads for claims and what the residents see of them: rule books, claims, objections, the
quarter's public notice (季度公示) and the yearly ranking (年度积分排名)."""

from __future__ import annotations

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce, Rank

from core.scope import scope_for
from core.types import AnyUser
from points.models import Claim, Entry, Objection, Period, Rule
from points.selectors.ledger import EARNED
from residents.models import Resident


def rules_for(user: AnyUser) -> QuerySet[Rule]:
    """The rule books of the user's communities and, for a street admin, the street's default
    book (rules with a street and no community, which the scope paths cannot reach)."""
    scope = scope_for(user)
    if scope.everything:
        return Rule.objects.select_related("community")
    q = Rule.objects.scope_q(scope) or Q(pk__in=[])
    if scope.street_ids:
        q |= Q(street_id__in=scope.street_ids)
    return Rule.objects.filter(q).select_related("community")


def community_rules(*, community_id: int) -> QuerySet[Rule]:
    """The active rule book of one community, as its residents read it (/me/rules/)."""
    return Rule.objects.filter(community_id=community_id, active=True).order_by("category", "code")


def claims_for(user: AnyUser) -> QuerySet[Claim]:
    return Claim.objects.for_user(user).select_related("rule", "resident", "period")


def objections_for(user: AnyUser) -> QuerySet[Objection]:
    return Objection.objects.for_user(user).select_related("entry__period")


def _earned_subquery(periods: QuerySet[Period]) -> Coalesce:
    per_resident = (
        Entry.objects.filter(EARNED, account__resident=OuterRef("pk"), period__in=periods)
        .order_by()
        .values("account__resident")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(per_resident, output_field=IntegerField()), Value(0))


def notice_rows(*, period: Period, grid_id: int) -> QuerySet[Resident]:
    """The quarter's public notice (季度公示) of one grid: every resident with the points earned
    in the quarter and their balance. Names are masked by the serializer or the page."""
    return (
        Resident.objects.filter(household__grid_id=grid_id)
        .annotate(
            earned=_earned_subquery(Period.objects.filter(pk=period.pk)),
            balance=Coalesce("point_account__balance", Value(0)),
        )
        .select_related("household")
        .order_by("household_id", "id")
    )


def ranking(*, community_id: int, year: int, party_only: bool = False) -> QuerySet[Resident]:
    """Residents of a community by points earned in the year, ranked (ties share a rank)."""
    periods = Period.objects.filter(code__startswith=f"{year}Q")
    qs = Resident.objects.filter(household__grid__community_id=community_id)
    if party_only:
        qs = qs.filter(is_party_member=True)
    return (
        qs.annotate(earned=_earned_subquery(periods))
        .annotate(rank=Window(expression=Rank(), order_by=F("earned").desc()))
        .select_related("household__grid")
        .order_by("rank", "id")
    )


def claims_of_entries(entries: list[Entry]) -> dict[int, Claim]:
    """The claim behind each entry posted for one (entry id → claim, with its rule), in one
    query: a statement line names the rule ("cleaning one's section") rather than a kind."""
    claim_ids = {e.source_id: e.pk for e in entries if e.source_type == "claim" and e.source_id}
    claims = Claim.objects.filter(pk__in=claim_ids).select_related("rule")
    return {claim_ids[c.pk]: c for c in claims}
