"""CI's second pass (PostgreSQL + Redis) skips the tests marked backend_independent: the mark must
reach exactly the tests that touch no database, broker or cache."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_FILES = [
    "tests/mlcore/test_mlcore_io.py",  # library code only
    "tests/annotations/test_api.py",  # the database through the test client
    "tests/project/test_fault_redis.py",  # a worker and Redis
    "tests/project/test_browser_walks.py",  # a browser against a live server
]


def collected(*pytest_args: str) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *pytest_args, *SAMPLE_FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode in (0, 5), completed.stdout + completed.stderr
    return {line.split("::")[0] for line in completed.stdout.splitlines() if "::" in line}


def test_only_library_tests_are_marked_backend_independent():
    assert collected("-m", "backend_independent") == {"tests/mlcore/test_mlcore_io.py"}


def test_the_second_pass_keeps_every_test_that_reaches_a_backend():
    assert collected("-m", "not backend_independent") == set(SAMPLE_FILES) - {"tests/mlcore/test_mlcore_io.py"}
