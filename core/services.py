from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from core.models import IdempotencyRecord


def purge_idempotency_records() -> int:
    """Forget Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL; returns how many."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
