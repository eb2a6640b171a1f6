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
        from grids.signals import community_created

        community_created.connect(
            _give_the_rule_book, dispatch_uid="points.give_a_new_community_its_rule_book"
        )


def _give_the_rule_book(sender: Any, *, community: Community, **kwargs: Any) -> None:
    """A new community (grids.services.create_community) starts with its street's default
    rule book (积分细则)."""
    from points.services.claims import copy_default_rules

    copy_default_rules(community=community)
