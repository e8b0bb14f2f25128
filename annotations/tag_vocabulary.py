"""The one tag vocabulary volunteers pick from: the published taxonomy when there is one.

The taxonomy app sits above annotations, so it registers the vocabulary here at start-up
(TaxonomyConfig.ready) rather than annotations importing it. A workflow's tag task lists its
own names only as the fallback for a platform without a published taxonomy.
"""

from __future__ import annotations

from collections.abc import Callable

_provider: Callable[[], list[dict]] | None = None


def vocabulary_provider_register(provider: Callable[[], list[dict]]) -> None:
    """``provider()`` returns ``[{"name", "description"}]``, or ``[]`` when nothing is published."""
    global _provider
    _provider = provider


def published_tags() -> list[dict]:
    return list(_provider()) if _provider is not None else []


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
