"""Chunks of an import on several connections at once, their reports merged in file order.

PostgreSQL does most of an import's work (parsing the CSV and the JSON, building rows, keeping
indexes), one core per connection: with one connection an import uses one core whatever the
machine has. Here worker threads (Django gives each thread its own connection) take chunks from
a queue that holds one chunk at most, so memory stays flat: the chunks alive are the one being
read and one per worker. Python's share of the work is small and mostly waits on the
database, so threads are enough.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable

from django.db import connection

_DONE = object()


def run(
    chunks: Iterable,
    *,
    workers: int,
    work: Callable[[object, object, object], None],
    setup: Callable[[], None],
    teardown: Callable[[], None],
    catalogue,
    report,
    on_merged: Callable[[int], None],
) -> None:
    """``work(chunk, catalogue, part)`` for each chunk on ``workers`` threads, each thread with its
    own connection, catalogue (``catalogue.fresh()``) and a fresh report per chunk, merged into
    ``report`` in chunk order (``report.merge``); ``on_merged(chunk.end)`` after each. The first
    error stops the reading of new chunks and is raised once the workers have stopped."""
    inbox: queue.Queue = queue.Queue(maxsize=1)
    results: queue.Queue = queue.Queue()

    def worker() -> None:
        own = catalogue.fresh()
        try:
            setup()
            while (item := inbox.get()) is not _DONE:
                index, chunk = item
                part = type(report)()
                try:
                    work(chunk, own, part)
                except BaseException as exc:  # handed to the main thread, which raises it
                    results.put((index, chunk.end, None, exc))
                else:
                    results.put((index, chunk.end, part, None))
        except BaseException as exc:
            results.put((None, 0, None, exc))
            while inbox.get() is not _DONE:  # keep taking chunks so that the reader never blocks
                pass
        finally:
            try:
                teardown()
            finally:
                connection.close()

    threads = [threading.Thread(target=worker, name=f"import-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    waiting: dict[int, tuple[int, object]] = {}
    merged = 0
    error: BaseException | None = None

    def collect(block: bool) -> None:
        nonlocal merged, error
        while True:
            try:
                index, end, part, exc = results.get(block=block)
            except queue.Empty:
                return
            block = False
            if exc is not None:
                error = error or exc
                continue
            waiting[index] = (end, part)
            while merged in waiting:
                end, part = waiting.pop(merged)
                report.merge(part)
                merged += 1
                on_merged(end)

    submitted = 0
    try:
        for chunk in chunks:
            inbox.put((submitted, chunk))
            submitted += 1
            collect(block=False)
            if error is not None:
                break
    finally:
        for _ in threads:
            inbox.put(_DONE)
        for thread in threads:
            thread.join()
    collect(block=False)  # the workers have stopped: every result is in the queue
    if error is not None:
        raise error
    if merged != submitted:
        raise RuntimeError(f"{submitted - merged} chunk(s) of the import gave no result")
