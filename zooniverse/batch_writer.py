"""Writing a batch of imported classifications: COPY on PostgreSQL, a bulk INSERT elsewhere."""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.utils import timezone

from annotations.models import Classification

COPY_COLUMNS = (
    "workflow_id",
    "workflow_version_id",
    "subject_id",
    "session_key",
    "volunteer_key",
    "annotations",
    "metadata",
    "started_at",
    "finished_at",
    "created_at",
    "user_agent",
    "gold_standard",
    "expert",
    "idempotency_key",
    "source",
)


def classifications_insert(rows: list[Classification]) -> None:
    """Store a batch: PostgreSQL's COPY where it runs (several times faster than INSERT for wide
    JSON rows), a bulk INSERT elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Classification.objects.bulk_create(rows, batch_size=500)
        return
    now = timezone.now()
    table = Classification._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for c in rows:
                copy.write_row(
                    (
                        c.workflow_id,
                        c.workflow_version_id,
                        c.subject_id,
                        c.session_key,
                        c.volunteer_key,
                        json.dumps(c.annotations),
                        json.dumps(c.metadata),
                        c.started_at,
                        c.finished_at,
                        now,
                        c.user_agent,
                        c.gold_standard,
                        c.expert,
                        c.idempotency_key,
                        c.source,
                    )
                )
