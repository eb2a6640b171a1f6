"""Change tracking: `updated_at` on the rows the field app keeps on the phone (issue 11).

`Tracked` gives a model `updated_at` (set on every save, indexed) and makes sure nothing
writes the row without moving it: `save(update_fields=[...])` adds `updated_at` to the fields
(Django leaves an auto_now field out of a partial save), and `TrackedQuerySet.update()` and
`bulk_update()` set it too. The field bundle's `?since=` and its ETag read it
(field.selectors).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.scope import ScopedQuerySet

UPDATED_AT = "updated_at"

_M = TypeVar("_M", bound=models.Model)


class TrackedQuerySet(ScopedQuerySet[_M]):
    """A scoped queryset whose bulk writes move `updated_at`."""

    def update(self, **kwargs: Any) -> int:
        kwargs.setdefault(UPDATED_AT, timezone.now())
        return super().update(**kwargs)

    def bulk_update(
        self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        objs = list(objs)
        now = timezone.now()
        for obj in objs:
            setattr(obj, UPDATED_AT, now)
        fields = list(fields)
        if UPDATED_AT not in fields:
            fields.append(UPDATED_AT)
        return super().bulk_update(objs, fields, batch_size=batch_size)


class Tracked(models.Model):
    # The database's default too: rows written by raw SQL (demo.scale's COPY) get the time.
    updated_at = models.DateTimeField(
        _("updated at"), auto_now=True, db_index=True, db_default=Now()
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        fields = kwargs.get("update_fields")
        if fields:  # an empty list saves nothing, and still nothing
            kwargs["update_fields"] = {*fields, UPDATED_AT}
        super().save(*args, **kwargs)


def touch(model: type[models.Model], ids: Iterable[int]) -> int:
    """Move `updated_at` of these rows (e.g. after a change to their many-to-many fields)."""
    return model._base_manager.filter(pk__in=list(ids)).update(**{UPDATED_AT: timezone.now()})
