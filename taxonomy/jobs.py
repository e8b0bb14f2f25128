"""Job runners (jobs registry): derivation and auto-tagging with progress."""

from __future__ import annotations

from core.errors import NotFound
from jobs.reports import JobReport

from . import services
from .models import TaxonomyVersion


def derive_runner(*, threshold: float | None = None, progress=None) -> JobReport:
    run = services.candidates_derive(threshold=threshold, progress=progress)
    return JobReport(
        created=run.created_tags,
        skipped=run.updated_tags,
        extra={
            "run": run.pk,
            "terms": run.terms,
            "descriptions": run.descriptions,
            "phrases": run.phrases,
            "threshold": run.threshold,
            "seconds": round(run.seconds, 2),
        },
    )


def autotag_runner(*, version: int | None = None, progress=None) -> JobReport:
    chosen = None
    if version is not None:
        chosen = TaxonomyVersion.objects.filter(number=version).first()
        if chosen is None:
            raise NotFound(f"taxonomy version {version} does not exist")
    described, links = services.descriptions_autotag(version=chosen, progress=progress)
    return JobReport(created=links, skipped=described, extra={"descriptions": described, "links": links})
