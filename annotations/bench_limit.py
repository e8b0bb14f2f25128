"""The bare limit of this stack, for bench/queue_load.py: two endpoints under the same gunicorn,
middleware and database as the queue, doing one indexed SELECT and one INSERT and nothing else.

Served only when RGZ_BENCH_LIMIT_ENDPOINTS is set (rgzplatform/urls.py); never in production by
default. No validation, no leases, no limit: these views exist to measure what a request that
touches the database once for each call costs here, and nothing should ever call them otherwise.
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Classification, SubjectWorkflowStatus

_STATUS = SubjectWorkflowStatus._meta.db_table
_CLASSIFICATION = Classification._meta.db_table


def limit_next_subject(*, workflow_id: int, offset: int) -> int | None:
    """One read in the queue's own index order (``queue_order``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT subject_id FROM {_STATUS} WHERE workflow_id = %s AND retired_at IS NULL "
            "ORDER BY priority DESC, random_key LIMIT 1 OFFSET %s",
            [workflow_id, offset],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def limit_store(*, workflow_id: int, version_id: int, subject_id: int, volunteer_key: str, annotations) -> int:
    """One INSERT of a classification row, as the real submit writes it."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_CLASSIFICATION} (workflow_id, workflow_version_id, subject_id, session_key, volunteer_key, "
            "annotations, metadata, finished_at, created_at, user_agent, gold_standard, expert, source) "
            "VALUES (%s, %s, %s, '', %s, %s, '{}', %s, %s, '', %s, %s, 'platform') RETURNING id",
            [workflow_id, version_id, subject_id, volunteer_key[:64], json.dumps(annotations), now, now, False, False],
        )
        return cursor.fetchone()[0]


@require_GET
def limit_next_view(request):
    try:
        workflow_id = int(request.GET["workflow"])
        offset = int(request.GET.get("offset", 0))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("workflow and offset are integers")
    return JsonResponse({"subject": limit_next_subject(workflow_id=workflow_id, offset=offset)})


@csrf_exempt
@require_POST
def limit_store_view(request):
    try:
        body = json.loads(request.body)
        ids = {name: int(body[name]) for name in ("workflow", "version", "subject")}
        volunteer = str(body["volunteer"])
    except (KeyError, ValueError, TypeError):
        return HttpResponseBadRequest("workflow, version, subject (integers), volunteer and annotations")
    stored = limit_store(
        workflow_id=ids["workflow"],
        version_id=ids["version"],
        subject_id=ids["subject"],
        volunteer_key=volunteer,
        annotations=body.get("annotations", []),
    )
    return JsonResponse({"id": stored}, status=201)
