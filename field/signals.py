"""A resident's tags are part of what the phone keeps: changing them moves the resident's
`updated_at` (a many-to-many change saves no row of its own), so `?since=` sends it again."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed

from core.tracking import touch
from residents.models import Resident


def resident_tags_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:  # resident.tags.add(...)
        if action != "pre_clear":
            touch(Resident, [instance.pk])
    elif action == "pre_clear":  # tag.residents.clear(): the residents are known only before
        touch(Resident, list(instance.residents.values_list("pk", flat=True)))
    elif action != "post_clear" and pk_set:  # tag.residents.add(...)
        touch(Resident, pk_set)


def connect() -> None:
    m2m_changed.connect(
        resident_tags_changed, sender=Resident.tags.through, dispatch_uid="field-resident-tags"
    )
