"""Labelling-queue load test: N simulated volunteers against gunicorn + PostgreSQL on loopback.

Each volunteer loops GET /api/queue/next/ then POST /api/classifications/ for a fixed time.
Reports classifications/s, p50/p99 latency of each call, ``lost`` (acknowledged submissions
missing from the database, must be 0) and ``over_served`` (classifications stored beyond a
subject's retirement limit, must be 0). The last line printed is one JSON object.

    python bench/queue_load.py [--volunteers 100] [--seconds 30] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402

GOAL_PER_S = 800.0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volunteers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--retirement", type=int, default=15)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (gthread; keeps connections alive)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of load before measuring (every worker warm)"
    )
    parser.add_argument("--database", default="rgz_bench_queue")
    parser.add_argument("--quick", action="store_true", help="20 volunteers, 10 s, 1,000 subjects")
    args = parser.parse_args()
    if args.quick:
        args.volunteers, args.seconds, args.subjects, args.warmup = min(args.volunteers, 20), 10.0, 1000, 2.0
    return args


def seed(subjects: int, retirement: int) -> int:
    """A workflow with ``subjects`` cutouts in its queue (one shared rendered image for all)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import connection

    from annotations import ml
    from annotations.models import Cutout, SubjectSet, Survey
    from annotations.services import workflow_create, workflow_link_subject_set
    from annotations.task_definitions import demo_workflow_definition
    from tests.factories import blob_array, fits_bytes

    raw = fits_bytes(blob_array(64))
    prepared = ml.prepare_cutout(ml.read_cutout_image(raw), source_bytes=raw)
    paths = [
        default_storage.save(f"bench/{n}", ContentFile(b))
        for n, b in (("s.fits", raw), ("s.png", prepared.png), ("s.u16", prepared.pixels))
    ]
    survey = Survey.objects.create(name="bench")
    subject_set = SubjectSet.objects.create(survey=survey, display_name="bench")
    rows = [
        Cutout(
            survey=survey,
            name=f"b{i}",
            width=64,
            height=64,
            source_format="fits",
            source_file=paths[0],
            image=paths[1],
            pixels=paths[2],
            contours=prepared.contours,
        )
        for i in range(subjects)
    ]
    Cutout.objects.bulk_create(rows, batch_size=1000)
    subject_set.cutouts.add(*Cutout.objects.filter(survey=survey))
    tasks, strings = demo_workflow_definition()
    workflow = workflow_create(display_name="bench", tasks=tasks, strings=strings, retirement_count=retirement)
    workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics after a bulk load, as autovacuum would gather
    return workflow.pk


async def volunteer(base: str, workflow: int, stop_at: float, stats: dict) -> None:
    # unsafe=True: keep cookies from an IP address host, so each volunteer keeps one session.
    async with aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            async with session.get("/api/queue/next/", params={"workflow": str(workflow)}) as response:
                body = await response.json()
            stats["next_ms"].append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                stats["errors"] += 1
                continue
            if body["subject"] is None:
                if body.get("retry_after"):  # all left are leased to others: ask again shortly
                    await asyncio.sleep(0.5)
                    continue
                return
            answer = [{"task": "T0", "value": 2}]
            payload = {"workflow": workflow, "subject": body["subject"]["id"], "annotations": answer}
            key = uuid.uuid4().hex
            t0 = time.perf_counter()
            async with session.post("/api/classifications/", json=payload, headers={"Idempotency-Key": key}) as reply:
                result = await reply.json()
            stats["submit_ms"].append((time.perf_counter() - t0) * 1000)
            if reply.status == 201:
                stats["acked"].append(result["id"])
            elif reply.status == 409:
                stats["conflicts"] += 1
            else:
                stats["errors"] += 1


async def drive(base: str, workflow: int, volunteers: int, seconds: float) -> tuple[dict, float]:
    stats = {"next_ms": [], "submit_ms": [], "acked": [], "conflicts": 0, "errors": 0}
    start = time.monotonic()
    await asyncio.gather(*(volunteer(base, workflow, start + seconds, stats) for _ in range(volunteers)))
    return stats, time.monotonic() - start


def wait_for_server(base: str, process, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before it was ready")
        try:
            urllib.request.urlopen(f"{base}/api/workflows/", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start in time")


def cpu_of(process) -> float:
    return _setup.process_tree_cpu_seconds(process.pid)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    args = parse_args()
    media = Path(tempfile.mkdtemp(prefix="rgz-bench-media-"))
    env = _setup.django_environment(_setup.scratch_database(args.database), media)
    env["RGZ_THROTTLE_VOLUNTEER_SUBMIT"] = "100000/min"  # simulated volunteers click faster than people
    env["RGZ_THROTTLE_ANON_ADDRESS_SUBMIT"] = "10000000/min"
    env["RGZ_QUEUE_MAX_LEASES_PER_ADDRESS"] = "100000"  # every simulated volunteer is on loopback
    _setup.migrate(env)
    _setup.setup_django(env)
    workflow = seed(args.subjects, args.retirement)
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "rgzplatform.wsgi",
            "--workers",
            str(args.gunicorn_workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ],
        cwd=_setup.ROOT,
        env=env,
    )
    try:
        wait_for_server(base, server)
        warm, _ = asyncio.run(drive(base, workflow, args.volunteers, args.warmup))  # lazy imports, connections
        machine0, client0, server0 = _setup.machine_cpu_seconds(), time.process_time(), cpu_of(server)
        stats, elapsed = asyncio.run(drive(base, workflow, args.volunteers, args.seconds))
        machine_cpu = _setup.machine_cpu_seconds() - machine0
        client_cpu, server_cpu = time.process_time() - client0, cpu_of(server) - server0
    finally:
        server.terminate()
        server.wait(timeout=30)

    from django.db.models import Count

    from annotations.models import Classification

    stored_ids = set(Classification.objects.filter(workflow_id=workflow).values_list("id", flat=True))
    acked = warm["acked"] + stats["acked"]
    lost = sum(1 for i in acked if i not in stored_ids)
    per_subject = Classification.objects.filter(workflow_id=workflow).values("subject").annotate(n=Count("id"))
    over_served = sum(max(0, row["n"] - args.retirement) for row in per_subject)
    both = stats["next_ms"] + stats["submit_ms"]
    rate = len(stats["acked"]) / elapsed
    result = {
        "classifications_per_s": round(rate, 1),
        "p50_ms": round(percentile(both, 50), 2),
        "p99_ms": round(percentile(both, 99), 2),
        "next_p50_ms": round(percentile(stats["next_ms"], 50), 2),
        "next_p99_ms": round(percentile(stats["next_ms"], 99), 2),
        "submit_p50_ms": round(percentile(stats["submit_ms"], 50), 2),
        "submit_p99_ms": round(percentile(stats["submit_ms"], 99), 2),
        "lost": lost,
        "over_served": over_served,
        "acknowledged": len(acked),
        "stored": len(stored_ids),
        "conflicts_409": stats["conflicts"],
        "errors": stats["errors"],
        "ratio_vs_goal_800_per_s": round(rate / GOAL_PER_S, 3),
        # Where the two cores went: the load generator, gunicorn, and the rest (PostgreSQL mostly).
        "cpu_busy_fraction": round(machine_cpu / (elapsed * (os.cpu_count() or 1)), 2),
        "cpu_s_load_generator": round(client_cpu, 1),
        "cpu_s_gunicorn": round(server_cpu, 1),
        "cpu_s_other": round(machine_cpu - client_cpu - server_cpu, 1),
        "gunicorn_cpu_ms_per_classification": round(1000 * server_cpu / max(1, len(stats["acked"])), 1),
        "volunteers": args.volunteers,
        "seconds": round(elapsed, 1),
        "gunicorn_workers": args.gunicorn_workers,
        "gunicorn_threads": args.threads,
        "subjects": args.subjects,
        "retirement": args.retirement,
        "machine": _setup.machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
