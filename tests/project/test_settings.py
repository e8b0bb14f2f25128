"""Settings have no side effects: importing them makes no folder; the processes that use the
embedded database and the file broker make their folders."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fresh_environment(var: Path, settings_module: str) -> dict:
    """The embedded defaults (SQLite, file broker) under a var folder that does not exist yet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RGZ_", "CELERY_", "DATABASE_"))}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, RGZ_VAR_DIR=str(var), DJANGO_SECRET_KEY="k" * 50)
    env.pop("CACHE_URL", None)
    return env


def run_python(code: str, env: dict) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module", ["local", "test", "production"])
def test_importing_the_settings_creates_no_folder(tmp_path, module):
    var = tmp_path / "var"
    run_python(f"import rgzplatform.settings.{module}", fresh_environment(var, f"rgzplatform.settings.{module}"))
    assert not var.exists(), sorted(str(p.relative_to(tmp_path)) for p in var.rglob("*"))


def test_the_embedded_database_and_broker_folders_are_made_by_their_users(tmp_path):
    var = tmp_path / "var"
    code = (
        "import django; django.setup()\n"
        "from django.db import connection; connection.ensure_connection()\n"
        "from rgzplatform.celery import app\n"
        "app.send_task('rgz.probe', queue='probe')\n"
    )
    run_python(code, fresh_environment(var, "rgzplatform.settings.local"))
    assert (var / "db.sqlite3").is_file()
    assert [p.name for p in (var / "broker").glob("*.msg")], "the task never reached the file broker"
