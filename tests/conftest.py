import contextlib
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from annotations.roles import Volunteer
from core.cache import CACHE_DOWN

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def _static_root():
    # WhiteNoise warns about a missing STATIC_ROOT; the tests collect no static files into it.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _process_caches():
    """What a web process keeps between requests (workflow versions, the tag vocabulary) starts
    empty in each test, as the database does."""
    from annotations.tag_vocabulary import vocabulary_forget
    from annotations.workflow_versions import versions_forget

    versions_forget()
    vocabulary_forget()
    # The shared cache too (on Redis it outlives a test): sign-up and sign-in limits count per
    # address, and every test's requests come from the same one.
    with contextlib.suppress(*CACHE_DOWN):
        cache.clear()
    yield


@pytest.fixture
def volunteer_factory():
    counter = iter(range(1, 10_000))

    def make() -> Volunteer:
        return Volunteer(user_id=None, session_key=f"session-{next(counter)}")

    return make


def postgres_in_use() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(autouse=True)
def _browser_requests_finished(request):
    """After a browser test, wait for the live server's requests still in flight (a page's
    background fetches outlive its closed tab) before the test database is flushed: on
    PostgreSQL a TRUNCATE beside a transaction that holds queue rows can deadlock."""
    yield
    if request.node.get_closest_marker("browser") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 15
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state NOT IN ('idle')"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


# Fixtures and marks through which a test reaches the database, the broker or the cache; a test
# with none of them runs the same on every backend.
BACKEND_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
)
BACKEND_MARKS = ("django_db", "worker", "browser", "postgres")


def reaches_a_backend(item: pytest.Item) -> bool:
    if BACKEND_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    return any(item.get_closest_marker(mark) is not None for mark in BACKEND_MARKS)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark the tests that touch no backend, so that a second pass over another database and
    broker (CI's PostgreSQL + Redis run) can leave out what it would only repeat:
    ``-m "not backend_independent"``."""
    for item in items:
        if not reaches_a_backend(item):
            item.add_marker(pytest.mark.backend_independent)
