"""The one tag vocabulary volunteers pick from: the published taxonomy when there is one.

The taxonomy app sits above annotations, so it registers the vocabulary here at start-up
(TaxonomyConfig.ready) rather than annotations importing it. A workflow's tag task lists its
own names only as the fallback for a platform without a published taxonomy.

Every submit with a tag task checks its picks against the vocabulary, so it is read once per
process and kept VOCABULARY_CACHE_SECONDS; publishing forgets it in the publishing process at
once (the taxonomy app calls vocabulary_forget), other web processes within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

VOCABULARY_CACHE_SECONDS = 30.0
_provider: Callable[[], list[dict]] | None = None
_cached: tuple[float, list[dict]] | None = None


def vocabulary_provider_register(provider: Callable[[], list[dict]]) -> None:
    """``provider()`` returns ``[{"name", "description"}]``, or ``[]`` when nothing is published."""
    global _provider
    _provider = provider
    vocabulary_forget()


def vocabulary_forget() -> None:
    global _cached
    _cached = None


def published_tags() -> list[dict]:
    global _cached
    if _provider is None:
        return []
    now = time.monotonic()
    if _cached is None or now - _cached[0] >= VOCABULARY_CACHE_SECONDS:
        _cached = (now, list(_provider()))
    return list(_cached[1])


def tag_task_choices(task: dict) -> list[dict]:
    """The tags a volunteer may pick in a tag task: ``[{"name", "description"}]``."""
    published = published_tags()
    if published:
        return published
    return [{"name": name, "description": ""} for name in task.get("tags", [])]


def tag_task_names(task: dict) -> set[str] | None:
    """Lower-cased names a tag task accepts; None when it accepts any (no list, nothing published)."""
    if "tags" not in task and not published_tags():
        return None
    return {choice["name"].lower() for choice in tag_task_choices(task)}
