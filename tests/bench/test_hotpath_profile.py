"""The hot-path benchmark's loop: leases batches and stores every subject it was served, and
reports CPU per stored classification."""

import random
import sys
from argparse import Namespace
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import hotpath_profile  # noqa: E402
from queue_load import seed  # noqa: E402

from annotations.models import Classification, QueueLease  # noqa: E402

pytestmark = pytest.mark.django_db


def test_real_cycles_store_what_they_lease_and_cost_cpu(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.RGZ_TRUSTED_PROXIES = ["127.0.0.1"]
    seeded = seed(40, retirement=5)
    args = Namespace(batch=5, descriptions=0.5)
    clients = hotpath_profile.volunteers(2)
    texts = ["a double-lobed source with a faint core"]
    ms, stored, failures = hotpath_profile.cpu_ms_per(
        lambda: hotpath_profile.real_cycles(clients, seeded["bench"], 20, args, texts, random.Random(0))
    )
    assert (stored, failures) == (20, 0) and ms > 0
    rows = Classification.objects.filter(workflow_id=seeded["bench"])
    assert rows.count() == 20 and rows.values("volunteer_key").distinct().count() == 2
    assert not QueueLease.objects.filter(status__workflow_id=seeded["bench"]).exists()  # every lease answered
