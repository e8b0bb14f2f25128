"""Import speed of Zooniverse classification exports, side by side with panoptes_aggregation.

Builds an export of N rows (default 1,000,000) by repeating the real rows of
../shared/data/zooniverse_exports/slsn_question_classifications.csv with new classification ids,
new volunteers and distinct subjects (one per 15 rows by default, as in real exports; each row's
subject_data re-keyed to its subject), so every row is a valid, distinct classification and the
import makes one placeholder per subject. In the same run: a bare ``COPY`` of the file into an
unindexed table with the export's column types (the database's own limit for this file:
PostgreSQL only, the embedded SQLite has no COPY), the import into a scratch PostgreSQL database
with ``import_zooniverse``'s code in a child process, and ``panoptes_aggregation extract`` (its
question extractor, configured from the real workflow export) on the same file. Peak memory is
each child's VmHWM. The last line printed is one JSON object.

    python bench/zooniverse_import.py [--rows 1000000] [--rows-per-subject 15] [--quick] [--database NAME] [--workers N]
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


FIRST_SUBJECT = 500_000_000


def build_export(path: Path, rows: int, rows_per_subject: int) -> int:
    """Write the export; returns how many distinct subjects it names."""
    with open(EXPORTS / "slsn_question_classifications.csv", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        real = list(reader)
    cid, uname, ip = header.index("classification_id"), header.index("user_name"), header.index("user_ip")
    sid, sdata = header.index("subject_ids"), header.index("subject_data")
    # Each real row's subject metadata, to be re-keyed to the row's new subject id.
    inner = [json.dumps(next(iter(json.loads(row[sdata]).values()))) for row in real]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            row = list(real[n % len(real)])
            subject = FIRST_SUBJECT + n // rows_per_subject
            row[cid] = str(1_000_000_000 + n)
            row[uname], row[ip] = f"not-logged-in-{n:x}", f"{n:x}"
            row[sid], row[sdata] = str(subject), f'{{"{subject}": {inner[n % len(real)]}}}'
            writer.writerow(row)
    return (rows + rows_per_subject - 1) // rows_per_subject


# The export's columns with the types their values have: three jsonb values a row, as stored.
COPY_TYPES = {
    "classification_id": "bigint",
    "user_id": "bigint",
    "workflow_id": "bigint",
    "created_at": "timestamptz",
    "gold_standard": "boolean",
    "metadata": "jsonb",
    "annotations": "jsonb",
    "subject_data": "jsonb",
}


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a local process, such as the PostgreSQL backend of a connection;
    unlike wall time, it hardly moves with other work on the machine. NaN when not local."""
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def backends_cpu_seconds(database: str) -> dict[int, float]:
    """{pid: CPU seconds} of the local PostgreSQL backends serving ``database`` (an import may use
    several connections at once); read from their process titles in /proc."""
    found = {}
    name = f" {database} ".encode()  # titles read "postgres: [cluster: ]user database host state"
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes()
            if title.startswith(b"postgres: ") and name in title and b"autovacuum" not in title:
                found[int(cmdline.parent.name)] = process_cpu_seconds(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    return found


class BackendSampler:
    """CPU seconds spent by a database's backends while it runs, sampled every ``every`` seconds
    (a backend that ends between two samples loses at most that much of its time)."""

    def __init__(self, database: str, every: float = 0.2):
        import threading

        self.database, self.every = database, every
        self.start = backends_cpu_seconds(database)
        self.last = dict(self.start)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self.last.update(backends_cpu_seconds(self.database))

    def stop(self) -> float:
        self.stopped.set()
        self.thread.join()
        self.last.update(backends_cpu_seconds(self.database))
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())


def bare_copy(database_url: str, path: Path) -> dict:
    """Seconds for PostgreSQL to COPY the file into an unindexed table: the limit an import can reach."""
    import psycopg

    with open(path, newline="") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{name}" {COPY_TYPES.get(name, "text")}' for name in header)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare_copy")
        conn.execute(f"CREATE TABLE bench_bare_copy ({columns})")
        backend = conn.info.backend_pid
        cpu0, own0, t0 = process_cpu_seconds(backend), time.process_time(), time.perf_counter()
        with conn.cursor() as cursor, open(path, "rb") as data:
            with cursor.copy("COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while block := data.read(1 << 20):
                    copy.write(block)
        seconds = time.perf_counter() - t0
        cpu = process_cpu_seconds(backend) - cpu0 + time.process_time() - own0
        (stored,) = conn.execute("SELECT count(*) FROM bench_bare_copy").fetchone()
        conn.execute("DROP TABLE bench_bare_copy")
    return {"seconds": seconds, "rows": stored, "cpu_seconds": cpu}


IMPORT_CHILD = """
import json, os, sys, time
sys.path.insert(0, {root!r})
os.environ.update({env!r})
import resource
import django
django.setup()
from django.db import connection
from zooniverse.importer import import_classifications
from zooniverse.staged_import import workers_for
sys.path.insert(0, {bench!r})
from zooniverse_import import BackendSampler
connection.ensure_connection()
sampler, own = BackendSampler(connection.settings_dict["NAME"]), resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
report = import_classifications(classifications={path!r}, workflows={workflows!r}, workers={workers!r})
seconds = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = sampler.stop() + (after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime)
print(json.dumps({{"seconds": seconds, "imported": report.imported, "bad": report.bad_count,
    "placeholders": len(report.placeholders), "cpu_seconds": cpu,
    "workers": workers_for({workers!r}), "peak_rss_mb": int({hwm}) / 1024}}))
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
    parser.add_argument("--rows-per-subject", type=int, default=15, help="classifications per distinct subject")
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    parser.add_argument(
        "--database", default="rgz_bench_zooniverse", help="scratch PostgreSQL database (dropped and made again)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="connections the import uses at once (default: its own choice)"
    )
    args = parser.parse_args()
    if args.rows_per_subject < 1:
        parser.error("--rows-per-subject must be at least 1")
    rows = 20_000 if args.quick else args.rows
    if not AGGREGATION.exists():
        raise SystemExit("panoptes_aggregation is not installed: run `make aggregation-env` first")
    with tempfile.TemporaryDirectory(prefix="rgz-zooniverse-") as folder:
        folder = Path(folder)
        export = folder / "classifications.csv"
        t0 = time.perf_counter()
        subjects = build_export(export, rows, args.rows_per_subject)
        print(
            f"built {rows} rows over {subjects} subjects ({export.stat().st_size / 2**20:.0f} MiB) "
            f"in {time.perf_counter() - t0:.1f} s"
        )

        database_url = _setup.scratch_database(args.database)
        env = _setup.django_environment(database_url, folder / "media")
        _setup.migrate(env)
        copied = bare_copy(database_url, export)
        if copied["rows"] != rows:
            raise SystemExit(f"bare COPY stored {copied['rows']} of {rows} rows")
        print(f"bare COPY: {copied}")
        env = {k: v for k, v in env.items() if k.startswith(("DJANGO", "DATABASE", "DB_", "RGZ"))}
        ours = run_child(
            IMPORT_CHILD.format(
                root=str(_data.ROOT),
                bench=str(Path(__file__).resolve().parent),
                env=env,
                path=str(export),
                hwm=HWM,
                workflows=str(EXPORTS / "slsn_workflows.csv"),
                workers=args.workers,
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
    ours_rate, theirs_rate, copy_rate = rows / ours["seconds"], rows / theirs["seconds"], rows / copied["seconds"]
    print(
        json.dumps(
            {
                "rows": rows,
                "subjects": subjects,
                "rows_per_s": round(ours_rate),
                "peak_rss_mb": round(ours["peak_rss_mb"]),
                "copy_rows_per_s": round(copy_rate),
                "ratio_vs_copy": round(ours_rate / copy_rate, 2),
                # CPU seconds (client + its PostgreSQL backends): the same comparison, little moved by other load.
                "cpu_s": round(ours["cpu_seconds"], 2),
                "copy_cpu_s": round(copied["cpu_seconds"], 2),
                "cpu_ratio_vs_copy": round(copied["cpu_seconds"] / ours["cpu_seconds"], 2),
                "panoptes_aggregation_rows_per_s": round(theirs_rate),
                "panoptes_aggregation_peak_rss_mb": round(theirs["peak_rss_mb"]),
                "ratio_vs_panoptes_aggregation": round(ours_rate / theirs_rate, 2),
                "imported": ours["imported"],
                "bad_rows": ours["bad"],
                "placeholders": ours["placeholders"],
                "workers": ours["workers"],
                "machine": _setup.machine(),
                # Other work on the machine slows both sides; the load says how quiet it was.
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
