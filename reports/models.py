"""The reports app reads; its one table keeps the figures that are too dear to compute on
every request.

DashboardSnapshot (看板快照): the dashboard of a whole street for the current quarter, as
reports.dashboard.dashboard computed it, rebuilt by the Celery beat task
reports.tasks.refresh_dashboard_snapshots (every DASHBOARD_SNAPSHOT_MINUTES) and read by the
dashboard API while it is younger than DASHBOARD_SNAPSHOT_MAX_AGE. A street of a million
residents takes tens of seconds to add up (bench/dashboard.py); reading its snapshot takes one
indexed row. Communities and grids are computed live: they are small at any district size.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DashboardSnapshot(models.Model):  # 看板快照
    level = models.CharField(_("level"), max_length=16)  # street (see DASHBOARD_SNAPSHOT_LEVELS)
    unit_id = models.BigIntegerField(_("unit"))
    quarter = models.CharField(_("quarter"), max_length=6)
    # The answer of reports/dashboard/ as rendered JSON text, sent as it is: parsing and
    # rendering again the figures of a thousand grids would cost more than reading them.
    body = models.TextField(_("figures (JSON)"))
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(_("seconds to compute"), default=0)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "unit_id", "quarter"], name="one_snapshot_per_unit_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.unit_id} {self.quarter} @ {self.computed_at:%Y-%m-%d %H:%M}"
