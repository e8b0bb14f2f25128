"""The JSON report of bench/queue_load.py: rates, latencies, the checks (lost, over-served) and
where the machine's CPU went."""

from __future__ import annotations

import os
import statistics

import _setup

GOAL_PER_S = 800.0


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def report(args, seeded, load, limit, warm, browser_ms, indexed, drain_s) -> dict:
    from django.db.models import Count

    from annotations.models import Classification

    rows = Classification.objects.filter(workflow_id=seeded["bench"])
    stored_ids = set(rows.values_list("id", flat=True))
    acked = warm["acked"] + load["acked"]
    per_subject = rows.values("subject").annotate(n=Count("id"))
    rate = len(load["acked"]) / load["elapsed"]
    limit_rate = len(limit["acked"]) / limit["elapsed"] if limit else float("nan")
    both = load["next_ms"] + load["submit_ms"]
    limit_both = limit["next_ms"] + limit["submit_ms"] if limit else []
    done = max(1, len(load["acked"]))
    return {
        "classifications_per_s": round(rate, 1),
        "p50_ms": round(percentile(both, 50), 2),
        "p99_ms": round(percentile(both, 99), 2),
        "lost": sum(1 for i in acked if i not in stored_ids),
        "over_served": sum(max(0, row["n"] - args.retirement) for row in per_subject),
        "limit_classifications_per_s": round(limit_rate, 1),
        "ratio_vs_limit": round(rate / limit_rate, 3) if limit else None,
        "browser_next_image_p50_ms": round(percentile(browser_ms, 50), 1) if browser_ms else None,
        "browser_next_image_p99_ms": round(percentile(browser_ms, 99), 1) if browser_ms else None,
        "browser_classifications": len(browser_ms),
        "limit_p50_ms": round(percentile(limit_both, 50), 2),
        "limit_p99_ms": round(percentile(limit_both, 99), 2),
        "next_p50_ms": round(percentile(load["next_ms"], 50), 2),
        "next_p99_ms": round(percentile(load["next_ms"], 99), 2),
        "submit_p50_ms": round(percentile(load["submit_ms"], 50), 2),
        "submit_p99_ms": round(percentile(load["submit_ms"], 99), 2),
        "acknowledged": len(acked),
        "stored": len(stored_ids),
        "with_description": load["described"],
        "descriptions_sent": warm["described"] + load["described"],
        "descriptions_indexed": indexed,
        "tagging_drain_s": round(drain_s, 1),
        "conflicts_409": load["conflicts"],
        "errors": load["errors"] + (limit["errors"] if limit else 0),
        "ratio_vs_goal_800_per_s": round(rate / GOAL_PER_S, 3),
        "cpu_busy_fraction": round(load["cpu_machine"] / (load["elapsed"] * (os.cpu_count() or 1)), 2),
        "cpu_s_load_generator": round(load["cpu_client"], 1),
        "cpu_s_gunicorn": round(load["cpu_web"], 1),
        "cpu_s_worker": round(load["cpu_worker"], 1),
        "cpu_s_other": round(load["cpu_machine"] - load["cpu_client"] - load["cpu_web"] - load["cpu_worker"], 1),
        "gunicorn_cpu_ms_per_classification": round(1000 * load["cpu_web"] / done, 1),
        "other_cpu_ms_per_classification": round(
            1000 * (load["cpu_machine"] - load["cpu_client"] - load["cpu_web"] - load["cpu_worker"]) / done, 1
        ),
        "volunteers": args.volunteers,
        "seconds": round(load["elapsed"], 1),
        "batch": args.batch,
        "descriptions_share": round(args.descriptions, 3),
        "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "web_instances": args.web_instances,
        "gunicorn_workers": args.gunicorn_workers,
        "gunicorn_threads": args.threads,
        "subjects": args.subjects,
        "retirement": args.retirement,
        "machine": _setup.machine(),
    }
