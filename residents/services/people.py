"""Households and residents: tags given and taken set-based, headship released on moving out."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from residents.models import Household, Resident, Tag

# Set-based: one statement for the whole selection, however many residents it holds.


@transaction.atomic
def add_tag(*, residents: QuerySet[Resident], tag: Tag) -> int:
    """Give `tag` to every resident of `residents` who lacks it. Returns how many got it."""
    through = Resident.tags.through
    missing = list(
        residents.exclude(pk__in=through.objects.filter(tag=tag).values("resident_id"))
        .order_by()
        .values_list("pk", flat=True)
    )
    through.objects.bulk_create(
        [through(resident_id=pk, tag_id=tag.pk) for pk in missing],
        batch_size=1000,
        ignore_conflicts=True,  # a colleague tagging the same resident at the same moment
    )
    return len(missing)


@transaction.atomic
def remove_tag(*, residents: QuerySet[Resident], tag: Tag) -> int:
    """Take `tag` away from every resident of `residents`. Returns how many lost it."""
    through = Resident.tags.through
    pks = residents.order_by().values("pk")
    removed, _detail = through.objects.filter(tag=tag, resident_id__in=pks).delete()
    return removed


def release_headship(*, resident: Resident, old_household_id: int) -> None:
    """A resident who moved out no longer heads the household they left."""
    if resident.household_id != old_household_id:
        Household.objects.filter(pk=old_household_id, head=resident).update(head=None)
