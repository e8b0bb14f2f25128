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
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_MEDIA_ROOT": str(media_root),
        "DB_CONN_MAX_AGE": "600",
        "RGZ_LOG_LEVEL": "WARNING",
    }


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
