"""Import speed of Zooniverse classification exports, side by side with panoptes_aggregation.

Builds an export of N rows (default 1,000,000) by repeating the real rows of
../shared/data/zooniverse_exports/slsn_question_classifications.csv with new classification ids
(and new volunteers, so every row is a valid, distinct classification), imports it into a
scratch PostgreSQL database with ``import_zooniverse`` in a child process, and runs
``panoptes_aggregation extract`` (its question extractor, configured from the real workflow
export) on the same file in the same run. Peak memory is each child's VmHWM.
The last line printed is one JSON object.

    python bench/zooniverse_import.py [--rows 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _data
import _setup

EXPORTS = _data.SHARED / "zooniverse_exports"
AGGREGATION = _data.ROOT / ".venv-aggregation" / "bin" / "panoptes_aggregation"
HWM = 'next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]'


def build_export(path: Path, rows: int) -> None:
    with open(EXPORTS / "slsn_question_classifications.csv", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        real = list(reader)
    cid, uname, ip = header.index("classification_id"), header.index("user_name"), header.index("user_ip")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            row = list(real[n % len(real)])
            row[cid] = str(1_000_000_000 + n)
            row[uname], row[ip] = f"not-logged-in-{n:x}", f"{n:x}"
            writer.writerow(row)


IMPORT_CHILD = """
import json, os, sys, time
sys.path.insert(0, {root!r})
os.environ.update({env!r})
import django
django.setup()
from zooniverse.importer import import_classifications
t0 = time.perf_counter()
report = import_classifications(classifications={path!r}, workflows={workflows!r})
print(json.dumps({{"seconds": time.perf_counter() - t0, "imported": report.imported, "bad": report.bad_count,
    "peak_rss_mb": int({hwm}) / 1024}}))
"""

EXTRACT_CHILD = """
import json, subprocess, sys, time, resource
t0 = time.perf_counter()
process = subprocess.run({command!r}, cwd={cwd!r}, capture_output=True, text=True)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "code": process.returncode, "peak_rss_mb": peak, "err": process.stderr[-500:]}}))
"""


def run_child(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    args = parser.parse_args()
    rows = 20_000 if args.quick else args.rows
    if not AGGREGATION.exists():
        raise SystemExit("panoptes_aggregation is not installed: run `make aggregation-env` first")
    with tempfile.TemporaryDirectory(prefix="rgz-zooniverse-") as folder:
        folder = Path(folder)
        export = folder / "classifications.csv"
        t0 = time.perf_counter()
        build_export(export, rows)
        print(f"built {rows} rows ({export.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s")

        env = _setup.django_environment(_setup.scratch_database("rgz_bench_zooniverse"), folder / "media")
        _setup.migrate(env)
        env = {k: v for k, v in env.items() if k.startswith(("DJANGO", "DATABASE", "DB_", "RGZ"))}
        ours = run_child(
            IMPORT_CHILD.format(
                root=str(_data.ROOT), env=env, path=str(export), hwm=HWM, workflows=str(EXPORTS / "slsn_workflows.csv")
            )
        )
        print(f"import_zooniverse: {ours}")

        subprocess.run(
            [str(AGGREGATION), "config", str(EXPORTS / "slsn_workflows.csv"), "10", "-v", "16.55", "-d", str(folder)],
            check=True,
            capture_output=True,
        )
        config = folder / "Extractor_config_workflow_10_V16.55.yaml"
        command = [str(AGGREGATION), "extract", str(export), str(config), "-d", str(folder), "-o", "bench"]
        theirs = run_child(EXTRACT_CHILD.format(command=command, cwd=str(folder)))
        if theirs["code"] != 0:
            raise SystemExit(f"panoptes_aggregation extract failed: {theirs['err']}")
        print(f"panoptes_aggregation extract: { {k: v for k, v in theirs.items() if k != 'err'} }")
    ours_rate, theirs_rate = rows / ours["seconds"], rows / theirs["seconds"]
    print(
        json.dumps(
            {
                "rows": rows,
                "rows_per_s": round(ours_rate),
                "peak_rss_mb": round(ours["peak_rss_mb"]),
                "panoptes_aggregation_rows_per_s": round(theirs_rate),
                "panoptes_aggregation_peak_rss_mb": round(theirs["peak_rss_mb"]),
                "ratio_vs_panoptes_aggregation": round(ours_rate / theirs_rate, 2),
                "imported": ours["imported"],
                "bad_rows": ours["bad"],
                "machine": _setup.machine(),
                # Other work on the machine slows both sides; the load says how quiet it was.
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
