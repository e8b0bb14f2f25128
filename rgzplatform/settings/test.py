"""The test suite: the same database and broker choice as production (from the environment)."""

import os
from pathlib import Path

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool

SECRET_KEY = "test-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "test-media"))
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "volunteer_submit": "1000/min",
    "anon_address_submit": "5000/min",
}
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Unit tests run tasks in-process; the integration tests start a real worker and turn this off
# (in their own process, and with RGZ_TEST_CELERY_EAGER=false in the servers they start).
CELERY_TASK_ALWAYS_EAGER = env_bool("RGZ_TEST_CELERY_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True

# Tests keep their own broker folder and queue, apart from a `make run` worker on this machine.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("RGZ_TEST_QUEUE", "rgz-test")
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "test-broker")  # noqa: F405

# The Zooniverse sync runs against the loopback Panoptes stand-in: short pauses, quick polls.
ZOONIVERSE_RETRY_ATTEMPTS = 2
ZOONIVERSE_RETRY_BACKOFF_SECONDS = 1  # the least the client's retry helper accepts
ZOONIVERSE_EXPORT_POLL_SECONDS = 0.05
ZOONIVERSE_EXPORT_TIMEOUT_SECONDS = 30

# The active-learning loop stays off unless a test turns it on (it would retrain after labels).
RGZ_ACTIVE_RETRAIN_AFTER = 0
