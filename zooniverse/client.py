"""Sign-in to Zooniverse from settings, the retry policy, exports and uploads (the sync's push and pull
use panoptes-client's resource classes themselves)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import requests
from django.conf import settings

from core.errors import DomainError


class ZooniverseUnavailable(DomainError):
    """Zooniverse (or the network) failed; what was done so far is kept and the sync can resume."""

    status_code = 502
    code = "upstream"


def _configure_retries() -> None:
    import panoptes_client.panoptes as panoptes_module
    import panoptes_client.subject as subject_module

    attempts = max(1, settings.ZOONIVERSE_RETRY_ATTEMPTS)
    # redo (the client's retry helper) adds up to 1 s of jitter and refuses a pause shorter than that.
    backoff = max(1.0, settings.ZOONIVERSE_RETRY_BACKOFF_SECONDS)
    panoptes_module.HTTP_RETRY_LIMIT = attempts
    panoptes_module.RETRY_BACKOFF_INTERVAL = backoff
    subject_module.UPLOAD_RETRY_LIMIT = attempts
    subject_module.RETRY_BACKOFF_INTERVAL = backoff


def endpoint_allowed(endpoint: str) -> bool:
    """Only the configured Panoptes endpoints: the platform's credentials go wherever a link points."""
    allowed = {settings.ZOONIVERSE_ENDPOINT.rstrip("/"), *settings.ZOONIVERSE_ALLOWED_ENDPOINTS}
    return endpoint.rstrip("/") in allowed


@contextmanager
def panoptes_session(endpoint: str | None = None):
    """A signed-in panoptes-client, current for this thread while the block runs.

    Failures (refused sign-in, network errors, 5xx after the client's retries) become
    ``ZooniverseUnavailable`` with the reason.
    """
    from panoptes_client import Panoptes
    from panoptes_client.panoptes import PanoptesAPIException

    _configure_retries()
    endpoint = (endpoint or settings.ZOONIVERSE_ENDPOINT).rstrip("/")
    if not endpoint_allowed(endpoint):
        raise ZooniverseUnavailable(
            f"{endpoint} is not a configured Panoptes endpoint (PANOPTES_ENDPOINT or RGZ_ZOONIVERSE_ALLOWED_ENDPOINTS)"
        )
    if not settings.ZOONIVERSE_CLIENT_SECRET and not (settings.ZOONIVERSE_USERNAME and settings.ZOONIVERSE_PASSWORD):
        raise ZooniverseUnavailable(
            "no Zooniverse credentials: set PANOPTES_USERNAME and PANOPTES_PASSWORD (or PANOPTES_CLIENT_ID "
            "and PANOPTES_CLIENT_SECRET) in the environment of the web app and the workers"
        )
    try:
        client = Panoptes(
            endpoint=endpoint,
            username=settings.ZOONIVERSE_USERNAME or None,
            password=settings.ZOONIVERSE_PASSWORD or None,
            client_id=settings.ZOONIVERSE_CLIENT_ID or None,
            client_secret=settings.ZOONIVERSE_CLIENT_SECRET or None,
        )
        with client:
            client.get_bearer_token()
            yield client
    except PanoptesAPIException as exc:
        raise ZooniverseUnavailable(f"Zooniverse at {endpoint} refused or failed: {exc}") from exc
    except requests.RequestException as exc:
        raise ZooniverseUnavailable(f"Zooniverse at {endpoint} could not be reached: {exc}") from exc


def upload_media(url: str, data: bytes, media_type: str) -> None:
    """PUT a subject's media to its upload URL (checked, unlike the client's own background upload)."""
    response = requests.put(
        url, data=data, headers={"Content-Type": media_type, "x-ms-blob-type": "BlockBlob"}, timeout=60
    )
    response.raise_for_status()


def export_download(
    resource, export_type: str, destination: Path, *, on_wait: Callable[[int], None] = lambda polls: None
) -> Path:
    """Request a new export of ``resource`` (a Project or Workflow), wait until Zooniverse has built it,
    and stream it to ``destination`` (written beside it first, then renamed)."""
    resource.generate_export(export_type)
    deadline = time.monotonic() + settings.ZOONIVERSE_EXPORT_TIMEOUT_SECONDS
    polls = 0
    while True:
        description = resource.describe_export(export_type)
        media = (description.get("media") or [{}])[0]
        if (media.get("metadata") or {}).get("state") in ("ready", "finished") and media.get("src"):
            break
        polls += 1
        on_wait(polls)
        if time.monotonic() > deadline:
            raise ZooniverseUnavailable(
                f"the {export_type} export was not ready within {settings.ZOONIVERSE_EXPORT_TIMEOUT_SECONDS:g} s"
            )
        time.sleep(settings.ZOONIVERSE_EXPORT_POLL_SECONDS)
    partial = destination.with_name(destination.name + ".part")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with requests.get(media["src"], stream=True, timeout=300) as response:
        response.raise_for_status()
        with partial.open("wb") as handle:
            for chunk in response.iter_content(chunk_size=1 << 20):
                handle.write(chunk)
    partial.replace(destination)
    return destination
