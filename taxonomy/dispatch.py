"""What happens when descriptions arrive: index and auto-tag them; enough new ones start a derivation."""

from __future__ import annotations

from annotations.models import Classification
from jobs.dispatch import job_start
from jobs.models import Job

from . import services
from .models import Description


def description_added(*, classification_id: int) -> None:
    """A classification made on the platform: its tag picks and its description."""
    classification = Classification.objects.filter(pk=classification_id).first()
    if classification is None:
        return
    services.picks_store(classification=classification)
    refresh(classification_ids=[classification_id])


def refresh(*, classification_ids: list[int] | None = None) -> dict:
    """Index descriptions not read yet (of the classifications named, or any recent ones: imported
    ones too), tag them with the published taxonomy, and queue a derivation when
    RGZ_TAXONOMY_REDERIVE_AFTER new ones arrived since the last."""
    indexed = services.descriptions_index(classification_ids=classification_ids)
    tagged = 0
    version = services.current_version()
    if version is not None and indexed:
        index = services.version_index(version)
        for description in Description.objects.filter(tagged_version__isnull=True).order_by("pk"):
            tagged += services.description_autotag(description=description, version=version, index=index)
    busy = Job.objects.filter(kind="derive_taxonomy", status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).exists()
    started = None
    if not busy and services.rederive_due():
        started = str(job_start(kind="derive_taxonomy", parameters={}).pk)
    return {"indexed": indexed, "links": tagged, "derive_job": started}
