"""ID numbers are personal data: shown masked unless the viewer holds the explicit permission."""

from __future__ import annotations

from contextvars import ContextVar

from core.types import AnyUser

# The full ID numbers shown during the current request, with who saw them: the audit
# middleware (audit.middleware) starts the list and records it as audit rows when the response
# is ready. None outside a request (commands, tasks): nothing is collected.
revealed_id_numbers: ContextVar[list[tuple[AnyUser, str]] | None] = ContextVar(
    "revealed_id_numbers", default=None
)

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
    if not can_see_full_id(user):
        return mask_id_number(value)
    shown = revealed_id_numbers.get()
    if shown is not None and value and user is not None:
        shown.append((user, value))
    return value or ""


def mask_name(name: str | None) -> str:
    """Names on a public notice: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
