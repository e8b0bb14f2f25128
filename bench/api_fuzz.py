"""Schemathesis over every API operation as anonymous, volunteer and astronomer.

Counts, per role, the operations and requests sent, server errors (5xx) and responses that do not
match the published OpenAPI schema (both must be 0). Runs in-process against the WSGI app on a
scratch SQLite database, inside one transaction that is rolled back, so jobs the API starts are
answered but never run. The last line printed is one JSON object.

    python bench/api_fuzz.py [--examples 25] [--seed 20261130] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("anonymous", "volunteer", "astronomer")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=25, help="generated requests per operation and role")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--quick", action="store_true", help="4 requests per operation (under 45 s)")
    parser.add_argument("--show", type=int, default=20, help="print at most this many failures per role")
    return parser.parse_args()


def setup(scratch: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="rgzplatform.settings.test",
        RGZ_SQLITE_PATH=str(scratch / "fuzz.sqlite3"),
        DJANGO_MEDIA_ROOT=str(scratch / "media"),
        RGZ_LOG_LEVEL="ERROR",
    )
    for name in ("DATABASE_URL", "CACHE_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)


def role_headers(role: str) -> dict:
    from rest_framework.authtoken.models import Token

    from tests.factories import UserFactory, astronomer

    if role == "anonymous":
        return {}
    user = astronomer("fuzz-astronomer") if role == "astronomer" else UserFactory(username="fuzz-volunteer")
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def main() -> None:
    args = parse_args()
    examples = 4 if args.quick else args.examples
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rgz-fuzz-") as scratch:
        setup(Path(scratch))
        import logging

        from django.core.signals import request_finished, request_started
        from django.core.wsgi import get_wsgi_application
        from django.db import close_old_connections, transaction

        from tests.fuzzing import fuzz_role, load_schema, seed_objects

        logging.disable(logging.WARNING)  # every 4xx is logged; the counts are the result
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        results = {}
        with transaction.atomic():
            known = seed_objects()
            schema = load_schema(get_wsgi_application())
            for role in ROLES:
                report = fuzz_role(
                    schema, headers=role_headers(role), max_examples=examples, seed=args.seed, known=known
                )
                results[role] = report.as_dict()
                for line in report.failures[: args.show]:
                    print(f"[{role}] {line}")
            transaction.set_rollback(True)
    summary = {
        "benchmark": "api_fuzz",
        "examples_per_operation": examples,
        "seed": args.seed,
        "seconds": round(time.monotonic() - started, 1),
        "roles": results,
        "server_errors": sum(r["server_errors"] for r in results.values()),
        "schema_violations": sum(r["schema_violations"] for r in results.values()),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
