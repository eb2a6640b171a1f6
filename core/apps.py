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
