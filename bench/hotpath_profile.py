"""Web CPU per classification on the volunteer hot path, measured in one process with no server.

Django's test Client drives the real endpoints (one batched lease ``GET /api/queue/next/?n=BATCH``
then one ``POST /api/classifications/`` per subject) and then the bare-limit pair
(``annotations/bench_limit.py``: one SELECT, one INSERT) under the same settings, middleware,
database and Redis. Reports the process CPU milliseconds per classification of each, their
ratio, the worker's CPU per described classification (the tagging inbox drained in batches,
against one call per classification), and writes a cProfile top-20 (by cumulative time) of the real submits to
``bench/out/hotpath_profile.txt``. The last line printed is one JSON object.

    python bench/hotpath_profile.py [--classifications 600] [--database sqlite|NAME] [--quick]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402
from queue_load import answer, descriptions, seed  # noqa: E402

OUT = _setup.ROOT / "bench" / "out"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classifications", type=int, default=600, help="measured, for each of the two paths")
    parser.add_argument("--volunteers", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--descriptions", type=float, default=1 / 3, help="share carrying a description and tags")
    parser.add_argument("--database", default="sqlite", help="'sqlite' (a scratch file) or a scratch PostgreSQL name")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--broker-db", type=int, default=12)
    parser.add_argument("--cache-db", type=int, default=13)
    parser.add_argument("--quick", action="store_true", help="150 classifications per path (a check)")
    args = parser.parse_args()
    if args.quick:
        args.classifications = min(args.classifications, 150)
    return args


def environment(args, media: Path) -> dict:
    env = _setup.hot_path_environment(args, media, submits_per_minute=100_000)
    env["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"  # the test Client's host
    return env


def volunteers(count: int) -> list:
    from django.test import Client

    return [Client(HTTP_X_FORWARDED_FOR=f"10.1.{n // 250}.{n % 250 + 1}") for n in range(count)]


def real_cycles(clients, workflow: int, wanted: int, args, texts, rng, profiler=None) -> tuple[int, int]:
    """Lease a batch, submit each subject; returns (classifications stored, failures)."""
    stored = failures = 0
    while stored < wanted:
        for client in clients:
            reply = client.get("/api/queue/next/", {"workflow": workflow, "n": args.batch})
            subjects = reply.json()["subjects"] if reply.status_code == 200 else []
            if not subjects:
                raise SystemExit(f"no subjects served (status {reply.status_code}): seed more subjects")
            for item in subjects:
                payload = {
                    "workflow": workflow,
                    "subject": item["subject"]["id"],
                    "annotations": answer(rng, texts, args.descriptions),
                }
                if profiler:
                    profiler.enable()
                reply = client.post(
                    "/api/classifications/",
                    payload,
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
                )
                if profiler:
                    profiler.disable()
                stored += reply.status_code == 201
                failures += reply.status_code != 201
            if stored >= wanted:
                break
    return stored, failures


def limit_cycles(clients, seeded: dict, wanted: int, args, texts, rng) -> tuple[int, int]:
    stored = failures = 0
    while stored < wanted:
        for client in clients:
            reply = client.get("/bench/limit/next/", {"workflow": seeded["limit"], "offset": rng.randrange(1000)})
            payload = {
                "workflow": seeded["limit"],
                "version": seeded["limit_version"],
                "subject": reply.json()["subject"],
                "volunteer": uuid.uuid4().hex,
                "annotations": answer(rng, texts, args.descriptions),
            }
            reply = client.post("/bench/limit/store/", payload, content_type="application/json")
            stored += reply.status_code == 201
            failures += reply.status_code != 201
    return stored, failures


def tagging_cost() -> dict:
    """Worker CPU per described classification (this process, the database's own work excluded on
    PostgreSQL): the inbox drained in batches, then the same classifications again with one call
    each, as a task per classification did (Celery's own per-task work not counted)."""
    from taxonomy import dispatch, inbox, ml
    from taxonomy.models import Description, TagLink

    if not inbox.inbox_size():
        return {"descriptions": 0}
    ml.describe_texts(["two lobes and a jet"])  # the text pipeline loads once per process: not timed
    start = time.process_time()
    drained = dispatch.inbox_drain()
    batched = (time.process_time() - start) * 1000 / max(drained, 1)
    ids = list(Description.objects.values_list("classification_id", flat=True))
    Description.objects.all().delete()
    TagLink.objects.filter(origin=TagLink.Origin.PICK).delete()
    start = time.process_time()
    for classification_id in ids:
        dispatch.description_added(classification_id=classification_id)
    each = (time.process_time() - start) * 1000 / max(len(ids), 1)
    return {
        "descriptions": drained,
        "batched_cpu_ms_per_description": round(batched, 2),
        "one_call_each_cpu_ms_per_description": round(each, 2),
    }


def cpu_ms_per(run) -> tuple[float, int, int]:
    start = time.process_time()
    stored, failures = run()
    return (time.process_time() - start) * 1000 / max(stored, 1), stored, failures


def main() -> None:
    args = parse_args()
    media = Path(tempfile.mkdtemp(prefix="rgz-hotpath-"))
    env = environment(args, media)
    _setup.migrate(env)
    _setup.setup_django(env)
    # Every volunteer answers each subject once: warm-up, measured and profiled runs all need theirs.
    per_volunteer = 3 * (args.classifications // args.volunteers + args.batch) + 2 * args.batch
    seeded = seed(max(per_volunteer, 1000), retirement=args.volunteers + 1)
    texts, rng = descriptions(), random.Random(0)
    clients = volunteers(args.volunteers)
    limit_clients = volunteers(args.volunteers)
    warm = min(args.classifications, 60)
    real_cycles(clients, seeded["bench"], warm, args, texts, rng)  # imports, connections, caches
    limit_cycles(limit_clients, seeded, warm, args, texts, rng)
    real_ms, real_n, real_failed = cpu_ms_per(
        lambda: real_cycles(clients, seeded["bench"], args.classifications, args, texts, rng)
    )
    limit_ms, limit_n, limit_failed = cpu_ms_per(
        lambda: limit_cycles(limit_clients, seeded, args.classifications, args, texts, rng)
    )
    profiler = cProfile.Profile()
    real_cycles(clients, seeded["bench"], args.classifications, args, texts, rng, profiler)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(20)
    stats.sort_stats("tottime").print_stats(20)  # where the time is spent, not only who spends it
    tagging = tagging_cost()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hotpath_profile.txt").write_text(text.getvalue())
    profiler.dump_stats(OUT / "hotpath_profile.prof")  # for pstats or snakeviz
    print(text.getvalue())
    print(
        json.dumps(
            {
                "machine": _setup.machine(),
                "database": args.database,
                "batch": args.batch,
                "volunteers": args.volunteers,
                "real": {
                    "classifications": real_n,
                    "failures": real_failed,
                    "cpu_ms_per_classification": round(real_ms, 2),
                },
                "limit": {
                    "classifications": limit_n,
                    "failures": limit_failed,
                    "cpu_ms_per_classification": round(limit_ms, 2),
                },
                "limit_over_real": round(limit_ms / real_ms, 3),
                "tagging": tagging,
                "profile": str(OUT / "hotpath_profile.txt"),
            }
        )
    )


if __name__ == "__main__":
    main()
