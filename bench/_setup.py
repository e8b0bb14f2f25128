"""Shared by the benchmarks: a scratch PostgreSQL database and Django pointed at it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def scratch_database(name: str, server: str = DEFAULT_SERVER) -> str:
    """Drop and create database ``name``; returns its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def django_environment(database_url: str, media_root: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "rgzplatform.settings.production",
        "DJANGO_SECRET_KEY": "benchmark-only-key",
        "DJANGO_SECURE_COOKIES": "false",  # plain http on loopback
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_MEDIA_ROOT": str(media_root),
        "DB_CONN_MAX_AGE": "600",
        "RGZ_LOG_LEVEL": "WARNING",
    }


def hot_path_environment(args, media_root: Path, *, submits_per_minute: int) -> dict:
    """The environment of the labelling-queue benchmarks: a scratch database (``args.database``:
    'sqlite' or a PostgreSQL name), their own Redis databases (flushed) as broker and cache, the
    bare-limit endpoints served, submit throttles at ``submits_per_minute`` per volunteer and per
    address (simulated volunteers click faster than people), loopback trusted as the proxy."""
    if args.database == "sqlite":
        env = django_environment("", media_root)
        env.pop("DATABASE_URL")
        env["RGZ_SQLITE_PATH"] = str(media_root / "db.sqlite3")
    else:
        env = django_environment(scratch_database(args.database), media_root)
    import redis

    for db in (args.broker_db, args.cache_db):
        redis.Redis.from_url(f"{args.redis}/{db}").flushdb()
    env.update(
        CELERY_BROKER_URL=f"{args.redis}/{args.broker_db}",
        CACHE_URL=f"{args.redis}/{args.cache_db}",
        RGZ_BENCH_LIMIT_ENDPOINTS="true",
        RGZ_THROTTLE_VOLUNTEER_SUBMIT=f"{submits_per_minute}/min",
        RGZ_THROTTLE_ANON_ADDRESS_SUBMIT=f"{submits_per_minute}/min",
        RGZ_TRUSTED_PROXIES="127.0.0.1",
    )
    return env


def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate(env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def machine() -> str:
    import platform

    cores = os.cpu_count()
    return f"{platform.machine()} {cores} cores, Python {platform.python_version()}"


def machine_cpu_seconds() -> float:
    """CPU seconds spent by the whole machine (all processes, user + system) so far."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system = (int(v) for v in fields[:3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(root_pid: int) -> float:
    """CPU seconds of a process and its live children (read from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(parts[1])
        if pid == root_pid or ppid == root_pid:
            total += (int(parts[11]) + int(parts[12])) / tick
    return total
