"""Celery: a file-based broker by default (nothing to install), Redis when configured."""

import os
from pathlib import Path

_var = Path(os.environ.get("RGZ_VAR_DIR", Path(__file__).resolve().parent.parent.parent / "var"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost/")


def filesystem_broker_options(folder: Path) -> dict:
    """Transport options of the file broker: one folder in and out, processed messages dropped.
    The folder is made when the Celery app is configured (``rgzplatform.celery``), not here."""
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(folder / "processed"),
        # Exchange tables; kombu's default is a `control` folder in the working directory.
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(Path(os.environ.get("RGZ_BROKER_DIR", _var / "broker")))
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis hands an unacknowledged task (all are acknowledged late) to another worker after this
    # many seconds even while the first still runs it: it must exceed the longest training.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("RGZ_CELERY_VISIBILITY_TIMEOUT", 7 * 24 * 3600))
    }
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
