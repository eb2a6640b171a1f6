"""ID numbers are personal data: shown masked unless the viewer holds the explicit permission."""

from __future__ import annotations

from typing import Any

FULL_ID_PERMISSION = "residents.view_full_id_number"


def mask_id_number(value: str | None) -> str:
    """411102199001011234 → 411102********123X style: the region and the last four stay."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def can_see_full_id(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(FULL_ID_PERMISSION))


def id_number_for(user: Any, value: str | None) -> str:
    return (value or "") if can_see_full_id(user) else mask_id_number(value)
