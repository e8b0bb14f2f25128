"""Zooniverse sync: where the Panoptes API is and how to sign in (from the environment, never the repo).

The variable names are panoptes-client's own, so one environment serves the platform and the
client's command line alike. With PANOPTES_CLIENT_SECRET set the client signs in with its client
credentials instead of a user name and password.
"""

import os

ZOONIVERSE_ENDPOINT = os.environ.get("PANOPTES_ENDPOINT", "https://www.zooniverse.org")
ZOONIVERSE_USERNAME = os.environ.get("PANOPTES_USERNAME", "")
ZOONIVERSE_PASSWORD = os.environ.get("PANOPTES_PASSWORD", "")
ZOONIVERSE_CLIENT_ID = os.environ.get("PANOPTES_CLIENT_ID", "")
ZOONIVERSE_CLIENT_SECRET = os.environ.get("PANOPTES_CLIENT_SECRET", "")
# panoptes-client retries 5xx replies; attempts and the pause between them.
ZOONIVERSE_RETRY_ATTEMPTS = int(os.environ.get("RGZ_ZOONIVERSE_RETRY_ATTEMPTS", 5))
ZOONIVERSE_RETRY_BACKOFF_SECONDS = float(os.environ.get("RGZ_ZOONIVERSE_RETRY_BACKOFF_SECONDS", 5))
# Exports take minutes to hours on Zooniverse: how often to ask and when to give up.
ZOONIVERSE_EXPORT_POLL_SECONDS = float(os.environ.get("RGZ_ZOONIVERSE_EXPORT_POLL_SECONDS", 10))
ZOONIVERSE_EXPORT_TIMEOUT_SECONDS = float(os.environ.get("RGZ_ZOONIVERSE_EXPORT_TIMEOUT_SECONDS", 6 * 3600))
# How often the scheduler looks for links whose pull is due (seconds).
ZOONIVERSE_SYNC_CHECK_SECONDS = float(os.environ.get("RGZ_ZOONIVERSE_SYNC_CHECK_SECONDS", 60))
# Endpoints a link may use besides PANOPTES_ENDPOINT (comma-separated). The platform signs in with
# its own credentials wherever a link points, so astronomers cannot choose a free address.
ZOONIVERSE_ALLOWED_ENDPOINTS = [
    url.strip().rstrip("/") for url in os.environ.get("RGZ_ZOONIVERSE_ALLOWED_ENDPOINTS", "").split(",") if url.strip()
]
# Connections an export import on PostgreSQL uses at once (chunks in parallel); empty: one per core, at most 4.
ZOONIVERSE_IMPORT_WORKERS = (
    int(os.environ["RGZ_ZOONIVERSE_IMPORT_WORKERS"]) if os.environ.get("RGZ_ZOONIVERSE_IMPORT_WORKERS") else None
)
