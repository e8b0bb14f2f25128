"""Replays the attacks of the hardening review against a real server, as an outsider would: gunicorn
with production settings, PostgreSQL and a Redis cache on loopback, requests over HTTP.

A TLS-terminating proxy is emulated: the server trusts 127.0.0.1 as its proxy
(``RGZ_TRUSTED_PROXIES``), and each request carries the ``X-Forwarded-For`` entry that proxy
would append (the client's real address). An attacker may write anything to the left of it.

Each attack prints one line and ends up in the JSON (last line): what was sent, what came back,
whether the hole is closed (``held``).

    python bench/attack_replay.py            # the review's counts (900 forged posts, 300 passwords...)
    python bench/attack_replay.py --quick    # smaller counts, under 45 s
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402

ATTACKER, VOLUNTEER_ADDRESS, OWNER_ADDRESS = "203.0.113.7", "198.51.100.9", "192.0.2.44"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--database", default="rgz_attack_replay")
    parser.add_argument("--cache", default="redis://127.0.0.1:6379/13")
    return parser.parse_args()


def seed(root: Path) -> dict:
    """Users, three workflows and the files the attacks aim at."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from annotations.services import subject_set_get_or_create, workflow_create, workflow_link_subject_set
    from annotations.task_definitions import demo_workflow_definition
    from core.roles import astronomer_group
    from tests.factories import SurveyFactory, blob_array, fits_bytes, make_cutout

    user = get_user_model().objects.create_user("astro", password="correct horse battery staple")
    user.groups.add(astronomer_group())
    token = Token.objects.create(user=user).key
    tasks, strings = demo_workflow_definition()
    workflows = {}
    for name, subjects, retirement in (("small", 4, 5), ("target", 1, 15), ("large", 60, 15)):
        survey = SurveyFactory(name=f"attack-{name}")
        workflow = workflow_create(display_name=name, tasks=tasks, strings=strings, retirement_count=retirement)
        subject_set = subject_set_get_or_create(survey=survey, display_name=name)
        workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
        cutouts = [make_cutout(survey, f"{name}-{i}", subject_set=subject_set, seed=i) for i in range(subjects)]
        workflows[name] = {"id": workflow.pk, "subjects": [c.pk for c in cutouts]}
    imports = root / "imports"
    imports.mkdir()
    (imports / "mosaic.fits").write_bytes(fits_bytes(blob_array(256)))
    secret = root / "private"
    secret.mkdir()
    (secret / "private.png").write_bytes((root / "imports" / "mosaic.fits").read_bytes()[:10])
    victim = root / "important.conf"
    victim.write_text("keep me\n")
    return {"token": token, "workflows": workflows, "imports": imports, "secret": secret, "victim": victim}


def client(address: str, forged: str | None = None) -> requests.Session:
    session = requests.Session()
    chain = f"{forged}, {address}" if forged else address
    session.headers["X-Forwarded-For"] = chain  # what our proxy would append, after the client's own text
    return session


def cookieless(address: str, forged: str | None = None) -> dict:
    return {"X-Forwarded-For": f"{forged}, {address}" if forged else address}


def outcome(name: str, sent: str, before: str, after: str, held: bool, **figures) -> dict:
    row = {"attack": name, "sent": sent, "before": before, "after": after, "held": held, **figures}
    print(f"{'held' if held else 'OPEN'}  {name}: {after}", flush=True)
    return row


def scan_out(base, ctx) -> dict:
    astronomer = {"Authorization": f"Token {ctx['token']}", "X-Forwarded-For": OWNER_ADDRESS}
    body = {"mosaic": str(ctx["imports"] / "mosaic.fits"), "out": str(ctx["victim"])}
    r = requests.post(f"{base}/api/scans/", json=body, headers=astronomer, timeout=30)
    intact = ctx["victim"].read_text() == "keep me\n"
    return outcome(
        "1. scan writes over any file (out)",
        "POST /api/scans/ with out=/path/important.conf",
        "202; the worker replaced the file",
        f"HTTP {r.status_code}; file intact: {intact}",
        r.status_code == 400 and intact,
    )


def server_paths(base, ctx) -> dict:
    astronomer = {"Authorization": f"Token {ctx['token']}", "X-Forwarded-For": OWNER_ADDRESS}
    listing = requests.post(
        f"{base}/api/jobs/",
        json={"kind": "ingest_images", "parameters": {"survey_name": "x", "paths": [str(ctx["secret"])]}},
        headers=astronomer,
        timeout=30,
    )
    probes = [
        requests.post(f"{base}/api/scans/", json={"mosaic": path}, headers=astronomer, timeout=30)
        for path in ("/etc/hostname", "/etc/no-such-file")
    ]
    alike = probes[0].status_code == probes[1].status_code and probes[0].json() == probes[1].json()
    return outcome(
        "2. server folders listed, private images published, existence probed",
        "POST /api/jobs/ ingest_images paths=[private dir]; scan mosaic=/etc/hostname vs a missing path",
        "202 and a public cutout; different answers",
        f"HTTP {listing.status_code}; probes {probes[0].status_code}/{probes[1].status_code}, alike: {alike}",
        listing.status_code == 400 and alike and probes[0].status_code == 400,
    )


def forged_answers(base, ctx, posts: int) -> dict:
    from django.db.models import Count

    from annotations.models import Classification, SubjectWorkflowStatus

    large = ctx["workflows"]["large"]
    statuses = Counter()
    started = time.perf_counter()
    for _ in range(posts):
        forged = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(256)}"
        body = {
            "workflow": large["id"],
            "subject": random.choice(large["subjects"]),
            "annotations": [{"task": "T0", "value": 2}],
        }
        r = requests.post(f"{base}/api/classifications/", json=body, headers=cookieless(ATTACKER, forged), timeout=30)
        statuses[r.status_code] += 1
    seconds = time.perf_counter() - started
    stored = Classification.objects.filter(workflow_id=large["id"]).count()
    target = ctx["workflows"]["target"]
    for _ in range(15):
        body = {"workflow": target["id"], "subject": target["subjects"][0], "annotations": [{"task": "T0", "value": 4}]}
        requests.post(f"{base}/api/classifications/", json=body, headers=cookieless(ATTACKER), timeout=30)
    retired = SubjectWorkflowStatus.objects.filter(workflow_id=target["id"], retired_at__isnull=False).count()
    per_subject = Classification.objects.filter(workflow_id=target["id"]).aggregate(n=Count("id"))["n"]
    return outcome(
        "3. forged X-Forwarded-For and cookie-less answers",
        f"{posts} cookie-less posts with forged X-Forwarded-For; 15 more at one chosen subject",
        "900 stored in 46 s, no 429; 61 subjects retired; the chosen subject retired",
        f"{stored} stored of {posts} in {seconds:.0f} s ({dict(statuses)}); chosen subject: {per_subject} stored, "
        f"{retired} retired",
        stored == 0 and retired == 0,
        statuses=dict(statuses),
    )


def starvation(base, ctx, requests_sent: int) -> dict:
    small = ctx["workflows"]["small"]
    served = Counter()
    for _ in range(requests_sent):
        r = requests.get(f"{base}/api/queue/next/", params={"workflow": small["id"]}, headers=cookieless(ATTACKER))
        served["subject" if r.ok and r.json().get("subject") else r.status_code] += 1
    volunteer = client(VOLUNTEER_ADDRESS)
    answer = volunteer.get(f"{base}/api/queue/next/", params={"workflow": small["id"]}).json()
    real_served = answer.get("subject") is not None
    told = "served" if real_served else answer.get("detail", "")
    return outcome(
        "4. cookie-less clients starve the queue",
        f"{requests_sent} cookie-less GET /api/queue/next/ on a 20-slot workflow, then a volunteer elsewhere",
        "all 20 slots taken for 15 min; 'No subjects left'",
        f"attacker {dict(served)}; volunteer: {told}",
        real_served and "No subjects left" not in told,
    )


def bombs(base, ctx) -> dict:
    from PIL import Image

    astronomer = {"Authorization": f"Token {ctx['token']}", "X-Forwarded-For": OWNER_ADDRESS}
    buffer = io.BytesIO()
    Image.new("L", (13_000, 13_000)).save(buffer, format="PNG", optimize=True)
    started = time.perf_counter()
    r = requests.post(
        f"{base}/api/cutouts/upload/",
        data={"survey": "bombs"},
        files={"file": ("bomb.png", buffer.getvalue(), "image/png")},
        headers=astronomer,
        timeout=120,
    )
    seconds = time.perf_counter() - started
    return outcome(
        "5. decompression bomb",
        f"upload of a {len(buffer.getvalue()) // 1024} KB PNG of 13,000 x 13,000 px",
        "decoded first: 6.9 s and 1.76 GB, then a 400",
        f"HTTP {r.status_code} in {seconds:.2f} s",
        r.status_code == 400 and seconds < 2,
        seconds=round(seconds, 3),
    )


def password_guessing(base, ctx, guesses: int) -> dict:
    statuses = Counter()
    for _ in range(guesses):
        r = requests.post(
            f"{base}/api/auth/token/",
            json={"username": "astro", "password": "wrong"},
            headers={"X-Forwarded-For": ATTACKER},
            timeout=30,
        )
        statuses[r.status_code] += 1
    owner = requests.post(
        f"{base}/api/auth/token/",
        json={"username": "astro", "password": "correct horse battery staple"},
        headers={"X-Forwarded-For": OWNER_ADDRESS},
        timeout=30,
    )
    page = client(ATTACKER)
    page_statuses = Counter()
    for _ in range(max(1, guesses // 3)):
        page.get(f"{base}/accounts/login/")
        form = {"username": "astro", "password": "wrong", "csrfmiddlewaretoken": page.cookies.get("csrftoken", "")}
        r = page.post(f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"})
        page_statuses[r.status_code] += 1
    return outcome(
        "6. password guessing",
        f"{guesses} wrong passwords to /api/auth/token/, {max(1, guesses // 3)} to /accounts/login/",
        "none refused",
        f"token {dict(statuses)}, login page {dict(page_statuses)}; owner from elsewhere: HTTP {owner.status_code}",
        statuses[429] >= guesses - 10 and page_statuses[429] > 0 and owner.status_code == 200,
    )


def malformed(base, ctx) -> dict:
    astronomer = {"Authorization": f"Token {ctx['token']}", "X-Forwarded-For": OWNER_ADDRESS}
    anon = {"X-Forwarded-For": VOLUNTEER_ADDRESS}
    small = ctx["workflows"]["small"]
    deep = "[" * 1000 + "]" * 1000
    body = {"workflow": small["id"], "subject": small["subjects"][0]}
    cases = [
        (
            "Idempotency-Key of 65+ characters",
            "post",
            "/api/classifications/",
            {
                "json": {**body, "annotations": [{"task": "T0", "value": 1}]},
                "headers": {**anon, "Idempotency-Key": "k" * 80},
            },
        ),
        (
            "annotation task that is a list",
            "post",
            "/api/classifications/",
            {"json": {**body, "annotations": [{"task": ["T0"], "value": 1}]}, "headers": anon},
        ),
        (
            "NUL in metadata",
            "post",
            "/api/classifications/",
            {
                "json": {**body, "annotations": [{"task": "T0", "value": 1}], "metadata": {"a\u0000": "b"}},
                "headers": anon,
            },
        ),
        (
            "lone surrogate in a description",
            "post",
            "/api/classifications/",
            {
                "data": json.dumps({**body, "annotations": [{"task": "T1", "value": "SURROGATE"}]}).replace(
                    "SURROGATE", "\\ud800"
                ),
                "headers": {**anon, "Content-Type": "application/json"},
            },
        ),
        (
            "JSON nested 1,000 levels",
            "post",
            "/api/classifications/",
            {"data": deep, "headers": {**anon, "Content-Type": "application/json"}},
        ),
        (
            "JSON nested 1,000 levels, token endpoint",
            "post",
            "/api/auth/token/",
            {"data": deep, "headers": {**anon, "Content-Type": "application/json"}},
        ),
        ("NUL in a query parameter", "get", "/api/cutouts/?survey=%00", {"headers": anon}),
        (
            "4 MiB of metadata",
            "post",
            "/api/classifications/",
            {
                "json": {**body, "annotations": [{"task": "T0", "value": 1}], "metadata": {"x": "y" * (4 << 20)}},
                "headers": anon,
            },
        ),
        ("tag events ?tag=abc", "get", "/api/tags/events/?tag=abc", {"headers": astronomer}),
        (
            "NUL in job parameters",
            "post",
            "/api/jobs/",
            {"json": {"kind": "score_complexity", "parameters": {"survey_name": "a\u0000"}}, "headers": astronomer},
        ),
        (
            "job parameter the job cannot take",
            "post",
            "/api/jobs/",
            {
                "json": {"kind": "score_complexity", "parameters": {"survey_name": "a", "bogus": 1}},
                "headers": astronomer,
            },
        ),
    ]
    results = {}
    for label, method, path, kwargs in cases:
        r = getattr(requests, method)(f"{base}{path}", timeout=60, **kwargs)
        results[label] = r.status_code
    errors = {k: v for k, v in results.items() if v >= 500 or v < 400}
    return outcome(
        "7-8. malformed and oversized input",
        f"{len(cases)} requests that answered 500 (or stored 4 MiB)",
        "HTTP 500 (201 for 4 MiB of metadata)",
        "all 4xx" if not errors else f"not a 4xx: {errors}",
        not errors,
        statuses=results,
    )


def job_page(base, ctx) -> dict:
    from jobs.models import Job

    job = Job.objects.create(kind="score_complexity", parameters={}, status="failed", errors=["/srv/secret/path"])
    r = requests.get(f"{base}/jobs/{job.pk}/", headers={"X-Forwarded-For": VOLUNTEER_ADDRESS}, allow_redirects=False)
    return outcome(
        "9. job pages public",
        "GET /jobs/<uuid>/ without signing in",
        "200 with server paths in errors",
        f"HTTP {r.status_code} to {r.headers.get('Location', '-')}",
        r.status_code in (302, 403) and "/srv/secret" not in r.text,
    )


def headers(base, ctx) -> dict:
    r = requests.get(f"{base}/", headers={"X-Forwarded-For": VOLUNTEER_ADDRESS})
    csp = r.headers.get("Content-Security-Policy", "")
    return outcome(
        "10. Content-Security-Policy",
        "GET / (production settings)",
        "no policy",
        csp or "no policy",
        "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0],
    )


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="rgz-attack-"))
    env = _setup.django_environment(_setup.scratch_database(args.database), root / "media")
    env.update(
        CACHE_URL=args.cache,
        CELERY_BROKER_URL=args.cache.rsplit("/", 1)[0] + "/12",
        RGZ_TRUSTED_PROXIES="127.0.0.1",
        RGZ_IMPORT_ROOTS=str(root / "imports"),
        RGZ_EXPORT_ROOT=str(root / "exports"),
    )
    subprocess.run(["redis-cli", "-u", args.cache, "flushdb"], check=False, capture_output=True)
    _setup.migrate(env)
    _setup.setup_django(env)
    random.seed(0)
    np.random.seed(0)
    ctx = seed(root)
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "rgzplatform.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=_setup.ROOT,
        env=env,
    )
    rows = []
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/api/schema/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        rows.append(scan_out(base, ctx))
        rows.append(server_paths(base, ctx))
        rows.append(forged_answers(base, ctx, 120 if args.quick else 900))
        rows.append(starvation(base, ctx, 25))
        rows.append(bombs(base, ctx))
        rows.append(password_guessing(base, ctx, 30 if args.quick else 300))
        rows.append(malformed(base, ctx))
        rows.append(job_page(base, ctx))
        rows.append(headers(base, ctx))
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "bench": "attack_replay",
        "quick": args.quick,
        "machine": _setup.machine(),
        "attacks": len(rows),
        "held": sum(r["held"] for r in rows),
        "open": [r["attack"] for r in rows if not r["held"]],
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
