"""ID numbers are personal data: shown masked unless the viewer holds the explicit permission."""

from __future__ import annotations

from core.types import AnyUser

FULL_ID_PERMISSION = "residents.view_full_id_number"


def mask_id_number(value: str | None) -> str:
    """411102199001011234 → 411102********123X style: the region and the last four stay."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def can_see_full_id(user: AnyUser | None) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(FULL_ID_PERMISSION))


def id_number_for(user: AnyUser | None, value: str | None) -> str:
    return (value or "") if can_see_full_id(user) else mask_id_number(value)


def mask_name(name: str | None) -> str:
    """Names on a public notice: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
