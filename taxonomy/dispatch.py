"""What happens when a classification with a description or tag picks arrives."""

from __future__ import annotations

from annotations.job_dispatch import job_start
from annotations.models import Classification, Job

from . import services
from .models import Description


def description_added(*, classification_id: int) -> None:
    classification = Classification.objects.filter(pk=classification_id).first()
    if classification is None:
        return
    services.picks_store(classification=classification)
    services.descriptions_index()
    version = services.current_version()
    if version is not None:
        index = services.version_index(version)
        for description in Description.objects.filter(classification=classification):
            services.description_autotag(description=description, version=version, index=index)
    busy = Job.objects.filter(kind="derive_taxonomy", status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).exists()
    if not busy and services.rederive_due():
        job_start(kind="derive_taxonomy", parameters={})
