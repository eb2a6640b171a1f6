from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("System")

    def ready(self) -> None:
        from core.roles import ensure_role_groups

        # Groups and their permissions are data every environment needs; permissions only
        # exist after migrate, so the groups are (re)made right after it, idempotently.
        post_migrate.connect(ensure_role_groups, sender=self)

        # A person is shown by their name (姓名, kept in first_name), not their login, wherever
        # Django prints a user: the admin's lists, read-only fields and choices, the history.
        from django.contrib.auth.models import User

        User.__str__ = display_name  # type: ignore[method-assign]


def display_name(user: Any) -> str:
    """A user's full name, or their login when they have none."""
    return str(user.get_full_name() or user.get_username())
