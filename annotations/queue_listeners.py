"""Who wants to know that a workflow's queue was re-ranked, offered to apps that may not import
each other: an active-learning round (classifiers) re-ranks queues, the Zooniverse sync pushes the
new ranks as ``#priority`` to the linked projects. Listeners register from their AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable

# (workflow ids, progress(done, total, message)) -> what was done, in words (one line each)
Listener = Callable[[list[int], Callable[[int, int, str], None]], list[str]]
_listeners: list[Listener] = []


def register_queue_ranked_listener(listener: Listener) -> None:
    """Be told of re-ranked queues; registering the same listener twice keeps one."""
    if listener not in _listeners:
        _listeners.append(listener)


def queue_ranked_notify(*, workflow_ids: list[int], progress: Callable[[int, int, str], None]) -> list[str]:
    """Tell every listener that these workflows' queues were re-ranked; returns their reports."""
    notes: list[str] = []
    for listener in _listeners:
        notes.extend(listener(list(workflow_ids), progress))
    return notes
