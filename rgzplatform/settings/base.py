"""Settings shared by every environment; everything that differs comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("RGZ_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "jobs",
    "annotations",
    "anomalies",
    "zooniverse",
    "classifiers",
    "taxonomy",
    "generative",
    "explorer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "annotations.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "annotations.middleware.RejectNulInQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "annotations.middleware.VolunteerCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Content-Security-Policy of every response: scripts, styles and data from this site only.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURE_CSP_REPORT_ONLY = env_bool("DJANGO_CSP_REPORT_ONLY", False)

ROOT_URLCONF = "rgzplatform.urls"
WSGI_APPLICATION = "rgzplatform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotations.context_processors.roles",
            ],
        },
    },
]


def database_from_env(default_sqlite_path: Path) -> dict:
    """``DATABASE_URL`` when set (PostgreSQL in production), else an embedded SQLite file."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # Health checks: a persistent connection that the server dropped (a restart, a failover,
        # pg_terminate_backend) is replaced at the next request instead of failing it with a 500.
        config = dj_database_url.parse(
            url,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
        )
        # Server-side binding lets psycopg prepare the statements a process repeats (after 5
        # runs), so PostgreSQL stops parsing and planning the hot path's queries on every request.
        config.setdefault("OPTIONS", {})["server_side_binding"] = env_bool("DB_SERVER_SIDE_BINDING", True)
        config.setdefault("TEST", {})
        if os.environ.get("DATABASE_TEST_NAME"):
            config["TEST"]["NAME"] = os.environ["DATABASE_TEST_NAME"]
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": default_sqlite_path,
        # IMMEDIATE takes the write lock when a transaction starts, so the queue's
        # read-check-write steps cannot interleave; WAL lets readers carry on meanwhile.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": str(default_sqlite_path.with_name("test_" + default_sqlite_path.name))},
    }


DATABASES = {"default": database_from_env(Path(os.environ.get("RGZ_SQLITE_PATH", VAR_DIR / "db.sqlite3")))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
            # An unreachable cache fails fast (throttles then let requests through) instead of
            # holding a request for the operating system's connect timeout.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("RGZ_CACHE_TIMEOUT_SECONDS", 0.5)),
                "socket_timeout": float(os.environ.get("RGZ_CACHE_TIMEOUT_SECONDS", 0.5)),
            },
        }
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "classify"
LOGOUT_REDIRECT_URL = "classify"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated); none by
# default, so every client is its REMOTE_ADDR.
RGZ_TRUSTED_PROXIES = env_list("RGZ_TRUSTED_PROXIES")

# Failed sign-ins (the login page, the admin's and the API token): per account and address, and
# per address, within a cool-off window; past either budget sign-ins are refused until it ends.
RGZ_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("RGZ_LOGIN_FAILURES_PER_ACCOUNT", 5))
RGZ_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("RGZ_LOGIN_FAILURES_PER_ADDRESS", 50))
RGZ_LOGIN_COOLOFF_SECONDS = int(os.environ.get("RGZ_LOGIN_COOLOFF_SECONDS", 10 * 60))
# Accounts made from one address per window: sign-up is open to anyone, so it is bounded too.
RGZ_SIGNUPS_PER_ADDRESS = int(os.environ.get("RGZ_SIGNUPS_PER_ADDRESS", 5))
RGZ_SIGNUP_WINDOW_SECONDS = int(os.environ.get("RGZ_SIGNUP_WINDOW_SECONDS", 3600))

# Uploads: the largest file an astronomer may send through the browser or the API.
RGZ_MAX_UPLOAD_BYTES = int(os.environ.get("RGZ_MAX_UPLOAD_BYTES", 64 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Pixel limits checked from the file's header before any pixel is decoded (decompression bombs):
# a cutout (upload or ingestion), a mosaic read in windows (memory-mapped), and a mosaic that
# must be decoded whole (tile-compressed or gzip'd FITS). Pillow's own bomb guard uses the first.
RGZ_MAX_IMAGE_PIXELS = int(os.environ.get("RGZ_MAX_IMAGE_PIXELS", 8192 * 8192))
RGZ_MAX_MOSAIC_PIXELS = int(os.environ.get("RGZ_MAX_MOSAIC_PIXELS", 65536 * 65536))
RGZ_MAX_DECODED_MOSAIC_PIXELS = int(os.environ.get("RGZ_MAX_DECODED_MOSAIC_PIXELS", 8192 * 8192))

# Server paths: API requests may name files only under these folders (comma-separated; none by
# default, so the API takes uploads only). The command line reads wherever its operator says.
RGZ_IMPORT_ROOTS = env_list("RGZ_IMPORT_ROOTS")
# Files that API-started work writes (scan catalogues), under names the server chooses.
RGZ_EXPORT_ROOT = Path(os.environ.get("RGZ_EXPORT_ROOT", VAR_DIR / "exports"))
# Mosaics uploaded to start a scan from the page (kept for the scan's tiles), and their size limit.
RGZ_SCAN_UPLOAD_DIR = Path(os.environ.get("RGZ_SCAN_UPLOAD_DIR", VAR_DIR / "scan-mosaics"))
RGZ_MAX_MOSAIC_UPLOAD_BYTES = int(os.environ.get("RGZ_MAX_MOSAIC_UPLOAD_BYTES", 1024 * 1024 * 1024))

# The labelling queue.
# Classifications after which a subject retires, for a workflow created without its own count.
RGZ_DEFAULT_RETIREMENT_COUNT = int(os.environ.get("RGZ_DEFAULT_RETIREMENT_COUNT", 15))
RGZ_QUEUE_LEASE_SECONDS = int(os.environ.get("RGZ_QUEUE_LEASE_SECONDS", 15 * 60))
# A volunteer who came without the cookie may never come back: their first lease is short.
RGZ_QUEUE_FIRST_LEASE_SECONDS = int(os.environ.get("RGZ_QUEUE_FIRST_LEASE_SECONDS", 2 * 60))
# Live leases anonymous volunteers from one address may hold in one workflow.
RGZ_QUEUE_MAX_LEASES_PER_ADDRESS = int(os.environ.get("RGZ_QUEUE_MAX_LEASES_PER_ADDRESS", 10))
# How long after its lease ran out a volunteer may still submit the subject served to them.
RGZ_QUEUE_SERVED_GRACE_SECONDS = int(os.environ.get("RGZ_QUEUE_SERVED_GRACE_SECONDS", 24 * 3600))
# bench/queue_load.py's bare-limit endpoints (one SELECT, one INSERT): never on unless a benchmark sets it.
RGZ_BENCH_LIMIT_ENDPOINTS = env_bool("RGZ_BENCH_LIMIT_ENDPOINTS", False)
RGZ_DESCRIPTION_MAX_CHARS = 2000
# How far below the newest indexed classification the periodic indexing looks again for ones that
# committed late (concurrent submits; import chunks commit in any order, 20,000 rows each).
RGZ_DESCRIPTION_LOOKBACK_IDS = int(os.environ.get("RGZ_DESCRIPTION_LOOKBACK_IDS", 100_000))
# A classification's metadata and annotations, as serialized JSON (anyone may submit them).
RGZ_CLASSIFICATION_MAX_METADATA_BYTES = int(os.environ.get("RGZ_CLASSIFICATION_MAX_METADATA_BYTES", 16 * 1024))
RGZ_CLASSIFICATION_MAX_ANNOTATIONS_BYTES = int(os.environ.get("RGZ_CLASSIFICATION_MAX_ANNOTATIONS_BYTES", 64 * 1024))
# The deepest nesting a JSON request body may have (arrays and objects).
RGZ_JSON_MAX_DEPTH = int(os.environ.get("RGZ_JSON_MAX_DEPTH", 64))

# Plain-English tags: the saved text pipeline (built on first use), the similarity threshold t of
# term derivation (bench/taxonomy.py), and how many new descriptions start a new derivation.
RGZ_TEXT_PIPELINE_DIR = Path(os.environ.get("RGZ_TEXT_PIPELINE_DIR", VAR_DIR / "text-pipeline"))
RGZ_TAXONOMY_THRESHOLD = float(os.environ.get("RGZ_TAXONOMY_THRESHOLD", 0.8))
RGZ_TAXONOMY_REDERIVE_AFTER = int(os.environ.get("RGZ_TAXONOMY_REDERIVE_AFTER", 200))
RGZ_TAXONOMY_CHECK_SECONDS = float(os.environ.get("RGZ_TAXONOMY_CHECK_SECONDS", 600))

# Coarse-grained complexity of each cutout: the central square scored, in arcseconds (64 pixels
# of FIRST, chosen on firstgalaxydata's training split, see bench/RESULTS.md). Without a pixel
# scale the whole cutout is scored.
RGZ_COMPLEXITY_APERTURE_ARCSEC = float(os.environ.get("RGZ_COMPLEXITY_APERTURE_ARCSEC", 115.2))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # Per volunteer (session or user) and per address: a person cannot classify faster
        # than about one cutout a second, a script that does is throttled.
        "volunteer_submit": os.environ.get("RGZ_THROTTLE_VOLUNTEER_SUBMIT", "60/min"),
        "anon_address_submit": os.environ.get("RGZ_THROTTLE_ANON_ADDRESS_SUBMIT", "600/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "rgzplatform API",
    "DESCRIPTION": "Radio-source cutouts, workflows, the labelling queue and classifications.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

from .celery import *  # noqa: E402,F403  one module per integration
from .classifiers import *  # noqa: E402,F403
from .generative import *  # noqa: E402,F403
from .jobs import *  # noqa: E402,F403
from .logging import *  # noqa: E402,F403
from .zooniverse import *  # noqa: E402,F403

CELERY_BEAT_SCHEDULE = {
    "zooniverse-sync-due": {"task": "zooniverse.sync_due", "schedule": ZOONIVERSE_SYNC_CHECK_SECONDS},  # noqa: F405
    "classifiers-auto-retrain": {
        "task": "classifiers.auto_retrain_due",
        "schedule": RGZ_CLASSIFIER_AUTO_RETRAIN_CHECK_SECONDS,  # noqa: F405
    },
    "taxonomy-refresh": {"task": "taxonomy.refresh", "schedule": RGZ_TAXONOMY_CHECK_SECONDS},
    "jobs-sweep": {"task": "jobs.sweep", "schedule": RGZ_JOB_SWEEP_SECONDS},  # noqa: F405
    "media-sweep": {"task": "annotations.media_sweep", "schedule": RGZ_MEDIA_SWEEP_SECONDS},  # noqa: F405
}
