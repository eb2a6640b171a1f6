from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from grids.models import Community


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = _("Points")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from grids.signals import community_created

        community_created.connect(
            _give_the_rule_book, dispatch_uid="points.give_a_new_community_its_rule_book"
        )
        post_save.connect(
            _follow_a_move,
            sender="residents.Resident",
            dispatch_uid="points.a_resident_account_follows_its_resident",
        )


def _give_the_rule_book(sender: Any, *, community: Community, **kwargs: Any) -> None:
    """A new community (grids.services.create_community) starts with its street's default
    rule book (积分细则)."""
    from points.services.claims import copy_default_rules

    copy_default_rules(community=community)


def _follow_a_move(sender: Any, *, instance: Any, created: bool, **kwargs: Any) -> None:
    """A resident's account belongs to the resident's household (points.Account.household):
    when a resident moves to another household, the account goes along (one UPDATE, nothing
    when they did not move; verify_ledger reports an account left behind)."""
    if created:
        return
    from points.models import Account

    Account.objects.filter(resident_id=instance.pk).exclude(
        household_id=instance.household_id
    ).update(household_id=instance.household_id)
