"""Labelling-queue load test: N simulated volunteers against gunicorn on loopback, beside the
bare limit of the same stack, and the Done -> next image time in a real browser.

Each volunteer loops GET /api/queue/next/?n=BATCH (a batch of leases, as the classify page asks)
then POST /api/classifications/ for each subject of the batch, for a fixed time; a share of the
classifications (``--descriptions``, default 1/3) carries a description from real volunteers'
words and tag picks, which queue tagging work through the Redis broker to a Celery worker that
runs beside gunicorn. Then the same volunteers loop over the bare-limit pair (one indexed SELECT,
one INSERT: annotations/bench_limit.py) under the same gunicorn and database, and Chromium
classifies on the real page. Reports classifications/s, p50/p99 latency, ``lost``
(acknowledged submissions missing from the database, must be 0), ``over_served``
(classifications stored beyond a subject's retirement limit, must be 0), the limit's rate and
the ratio. The last line printed is one JSON object.

    python bench/queue_load.py [--volunteers 100] [--seconds 30] [--web-instances 2]
                               [--database sqlite] [--descriptions 0.333] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from fractions import Fraction
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402
from _queue_report import report  # noqa: E402

DESCRIPTIONS_CSV = _setup.ROOT.parent / "shared" / "data" / "text2tag" / "english_annotations.csv"
TAG_PICKS = [["lobe"], ["jet"], ["core", "lobe"], ["bent"], ["double"]]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volunteers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--limit-seconds", type=float, default=None, help="bare-limit run (default: --seconds)")
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--retirement", type=int, default=15)
    parser.add_argument("--batch", type=int, default=10, help="subjects leased per GET queue/next (n)")
    parser.add_argument("--descriptions", type=lambda v: float(Fraction(v)), default=1 / 3, help="share (e.g. 1/3)")
    parser.add_argument("--gunicorn-workers", type=int, default=4, help="per web instance")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--web-instances", type=int, default=1, help="gunicorn instances against one database")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument(
        "--database", default="rgz_bench_queue", help="scratch PostgreSQL database name, or 'sqlite' (embedded)"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis server (broker and cache)")
    parser.add_argument("--broker-db", type=int, default=10)
    parser.add_argument("--cache-db", type=int, default=11)
    parser.add_argument("--browser", type=int, default=50, help="classifications timed in Chromium (0: none)")
    parser.add_argument("--drain-seconds", type=float, default=60.0, help="longest wait for the tagging backlog")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="20 volunteers, 6 s + 4 s, 1,000 subjects, 2 workers, 10 in Chromium (a check)",
    )
    args = parser.parse_args()
    if args.quick:
        args.volunteers, args.seconds, args.subjects, args.warmup = min(args.volunteers, 20), 6.0, 1000, 1.0
        args.limit_seconds, args.browser, args.drain_seconds = 4.0, min(args.browser, 10), 5.0
        args.gunicorn_workers = min(args.gunicorn_workers, 2)  # each worker's start costs seconds of CPU
    if args.limit_seconds is None:
        args.limit_seconds = args.seconds
    return args


def descriptions() -> list[str]:
    with DESCRIPTIONS_CSV.open(newline="") as handle:
        texts = [row["annotations"].strip() for row in csv.DictReader(handle)]
    return [t for t in texts if t]


def seed(subjects: int, retirement: int) -> dict:
    """The bench workflow (``subjects`` cutouts, one shared image), the bare-limit workflow and the
    browser's workflow over the same cutouts."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import connection

    from annotations import ml
    from annotations.models import Cutout, SubjectSet, Survey, WorkflowVersion
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
    made = {}
    for name, count in (("bench", retirement), ("limit", 1_000_000), ("browser", retirement)):
        workflow = workflow_create(display_name=name, tasks=tasks, strings=strings, retirement_count=count)
        workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
        made[name] = workflow.pk
    made["limit_version"] = WorkflowVersion.objects.get(workflow_id=made["limit"]).pk
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics after a bulk load, as autovacuum would gather
    return made


def answer(rng: random.Random, texts: list[str], share: float) -> list[dict]:
    annotations = [{"task": "T0", "value": rng.randrange(5)}]
    if rng.random() < share:
        annotations += [{"task": "T1", "value": rng.choice(texts)}, {"task": "T2", "value": rng.choice(TAG_PICKS)}]
    return annotations


_addresses = itertools.count(1)


def own_address() -> dict:
    """Each simulated volunteer comes from its own address, as behind the production proxy (the
    benchmark's servers trust loopback as that proxy), so per-address bounds apply per volunteer."""
    n = next(_addresses)
    return {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


async def volunteer(base: str, workflow: int, stop_at: float, stats: dict, args, texts, rng) -> None:
    # unsafe=True: keep cookies from an IP address host, so each volunteer keeps one identity.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar, headers=own_address()) as session:
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            params = {"workflow": str(workflow), "n": str(args.batch)}
            async with session.get("/api/queue/next/", params=params) as response:
                body = await response.json()
            stats["next_ms"].append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                stats["errors"] += 1
                continue
            if not body["subjects"]:
                if body.get("retry_after"):  # all left are leased to others: ask again shortly
                    await asyncio.sleep(0.5)
                    continue
                return
            for item in body["subjects"]:
                if time.monotonic() >= stop_at:
                    return
                annotations = answer(rng, texts, args.descriptions)
                payload = {"workflow": workflow, "subject": item["subject"]["id"], "annotations": annotations}
                t0 = time.perf_counter()
                headers = {"Idempotency-Key": uuid.uuid4().hex}
                async with session.post("/api/classifications/", json=payload, headers=headers) as reply:
                    result = await reply.json()
                stats["submit_ms"].append((time.perf_counter() - t0) * 1000)
                if reply.status == 201:
                    stats["acked"].append(result["id"])
                    stats["described"] += len(annotations) > 1
                elif reply.status == 409:
                    stats["conflicts"] += 1
                else:
                    stats["errors"] += 1


async def limit_volunteer(base: str, seeded: dict, stop_at: float, stats: dict, args, texts, rng) -> None:
    """The same loop over the bare-limit pair: one SELECT, then one INSERT, per classification."""
    async with aiohttp.ClientSession(base_url=base, headers=own_address()) as session:
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            params = {"workflow": str(seeded["limit"]), "offset": str(rng.randrange(min(args.subjects, 1000)))}
            async with session.get("/bench/limit/next/", params=params) as response:
                body = await response.json()
            stats["next_ms"].append((time.perf_counter() - t0) * 1000)
            payload = {
                "workflow": seeded["limit"],
                "version": seeded["limit_version"],
                "subject": body["subject"],
                "volunteer": uuid.uuid4().hex,  # never the same (subject, volunteer) twice
                "annotations": answer(rng, texts, args.descriptions),
            }
            t0 = time.perf_counter()
            async with session.post("/bench/limit/store/", json=payload) as reply:
                await reply.read()
            stats["submit_ms"].append((time.perf_counter() - t0) * 1000)
            if reply.status == 201:
                stats["acked"].append(1)
            else:
                stats["errors"] += 1


async def drive(kind, bases: list[str], seeded: dict, seconds: float, args, texts) -> tuple[dict, float]:
    stats = {"next_ms": [], "submit_ms": [], "acked": [], "conflicts": 0, "errors": 0, "described": 0}
    start = time.monotonic()
    loops = [
        kind(
            bases[i % len(bases)],
            seeded if kind is limit_volunteer else seeded["bench"],
            start + seconds,
            stats,
            args,
            texts,
            random.Random(i),
        )  # fmt: skip
        for i in range(args.volunteers)
    ]
    await asyncio.gather(*loops)
    return stats, time.monotonic() - start


def wait_for_server(base: str, process, timeout: float = 240) -> None:
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


def measured(phase, bases, seeded, args, texts, seconds, servers, worker) -> dict:
    """Run one phase; its stats with the CPU seconds of each part of the machine."""
    machine0, client0 = _setup.machine_cpu_seconds(), time.process_time()
    server0 = sum(_setup.process_tree_cpu_seconds(s.pid) for s in servers)
    worker0 = _setup.process_tree_cpu_seconds(worker.pid) if worker else 0.0
    stats, elapsed = asyncio.run(drive(phase, bases, seeded, seconds, args, texts))
    stats["elapsed"] = elapsed
    stats["cpu_machine"] = _setup.machine_cpu_seconds() - machine0
    stats["cpu_client"] = time.process_time() - client0
    stats["cpu_web"] = sum(_setup.process_tree_cpu_seconds(s.pid) for s in servers) - server0
    stats["cpu_worker"] = (_setup.process_tree_cpu_seconds(worker.pid) if worker else 0.0) - worker0
    return stats


def start_processes(args, env) -> tuple[list, object | None, list[str]]:
    worker = None
    if args.descriptions > 0:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "rgzplatform",
                "worker",
                "-Q",
                "default",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],  # fmt: skip
            cwd=_setup.ROOT,
            env=env,
        )
    servers, bases = [], []
    for i in range(args.web_instances):
        port = args.port + i
        command = [sys.executable, "-m", "gunicorn", "rgzplatform.wsgi", "--workers", str(args.gunicorn_workers)]
        command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--backlog", "2048"]
        if args.threads > 1:
            command += ["--threads", str(args.threads)]
        servers.append(subprocess.Popen(command, cwd=_setup.ROOT, env=env))
        bases.append(f"http://127.0.0.1:{port}")
    return servers, worker, bases


def environment(args, media: Path) -> dict:
    env = _setup.hot_path_environment(args, media, submits_per_minute=10_000)
    env["DJANGO_STATIC_ROOT"] = str(_setup.ROOT / "var" / "staticfiles")
    return env


def drain(workflow: int, sent: int, seconds: float) -> tuple[int, float]:
    """Wait (at most ``seconds``) until the worker has read every description sent."""
    from taxonomy.models import Description

    start = time.monotonic()
    read = Description.objects.filter(classification__workflow_id=workflow)
    indexed = read.count()
    while indexed < sent and time.monotonic() - start < seconds:
        time.sleep(0.5)
        indexed = read.count()
    return indexed, time.monotonic() - start


def main() -> None:
    args = parse_args()
    media = Path(tempfile.mkdtemp(prefix="rgz-bench-media-"))
    env = environment(args, media)
    _setup.migrate(env)
    if args.browser:
        subprocess.run(
            # the classify page's script and styles for whitenoise (copied, not compressed: loopback)
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--no-post-process", "-v0"],
            cwd=_setup.ROOT,
            env=env,
            check=True,
        )
    _setup.setup_django(env)
    seeded = seed(args.subjects, args.retirement)
    texts = descriptions()
    servers, worker, bases = start_processes(args, env)
    limit, browser_ms = None, []
    try:
        for base, server in zip(bases, servers, strict=True):
            wait_for_server(base, server)
        warm, _ = asyncio.run(drive(volunteer, bases, seeded, args.warmup, args, texts))  # imports, connections
        if worker:  # the worker's start (imports, the text pipeline) is not tagging work: wait it out
            drain(seeded["bench"], warm["described"], args.drain_seconds)
        load = measured(volunteer, bases, seeded, args, texts, args.seconds, servers, worker)
        if args.limit_seconds > 0:
            asyncio.run(drive(limit_volunteer, bases, seeded, min(args.warmup, 1.0), args, texts))
            limit = measured(limit_volunteer, bases, seeded, args, texts, args.limit_seconds, servers, worker)
        if args.browser:
            from _queue_browser import done_to_next_times

            browser_ms = done_to_next_times(bases[0], seeded["browser"], args.browser)
        sent = warm["described"] + load["described"]
        indexed, drain_s = drain(seeded["bench"], sent, args.drain_seconds) if worker else (0, 0.0)
    finally:
        for process in [*servers, worker]:
            if process is not None:
                process.terminate()
        for process in [*servers, worker]:
            if process is not None:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    print(json.dumps(report(args, seeded, load, limit, warm, browser_ms, indexed, drain_s)))


if __name__ == "__main__":
    main()
