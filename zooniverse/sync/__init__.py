"""Sync with a live Zooniverse project through panoptes-client.

Push: make the subject set, upload each open subject with hidden metadata (``#rgz_cutout_id``,
``#priority``), add them to the set, link the set to the Zooniverse workflow, keep ``#priority``
in step with the platform's ranking and retire on Zooniverse what the platform retired.
Pull: ask for a classification export, wait for it, download it and import it through the same
code path as ``import_zooniverse``.

Every step records its result at once (a subject row right after its creation, the upload and
set membership as flags), so a failure half-way keeps what was done and the next run goes on
from there without making anything twice.
"""

from .links import KEEP_PULLS, PULL_JOB, PUSH_JOB, UNRANKED_ON_ZOONIVERSE, link_create, link_get
from .pull import sync_pull
from .push import platform_priorities, priorities_push_after_rerank, sync_push, zooniverse_priority
from .schedule import link_sync_start, links_due, links_with_new_ranking, sync_schedule

__all__ = [
    "KEEP_PULLS",
    "PULL_JOB",
    "PUSH_JOB",
    "UNRANKED_ON_ZOONIVERSE",
    "link_create",
    "link_get",
    "link_sync_start",
    "links_due",
    "links_with_new_ranking",
    "platform_priorities",
    "priorities_push_after_rerank",
    "sync_pull",
    "sync_push",
    "sync_schedule",
    "zooniverse_priority",
]
