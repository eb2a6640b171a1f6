"""What the grids app announces to the apps built on it.

grids sits below points, residents and volunteers: they import grids, never the other way
round. When something made here needs setting up in an upper app (a new community gets its
street's default rule book, 积分细则, from points), grids sends a signal and the upper app
connects its receiver in its AppConfig.ready(). The signal is sent explicitly by the service
that makes the thing (`grids.services.create_community`), inside its transaction, so the
set-up commits or rolls back with it; a bare `Community.objects.create` (factories, fixtures,
migrations) sends nothing.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by grids.services.create_community once the new community is saved:
# `community_created.send(sender=Community, community=community)`.
community_created = Signal()
