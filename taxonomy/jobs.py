"""Job runners (annotations.jobs registry): derivation and auto-tagging with progress."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TaxonomyReport:
    created: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    result: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"created": self.created, "skipped": self.skipped, "failed": self.failed, **self.result}


def derive_runner(*, threshold: float | None = None, progress=None) -> TaxonomyReport:
    from . import services

    run = services.candidates_derive(threshold=threshold, progress=progress)
    return TaxonomyReport(
        created=run.created_tags,
        skipped=run.updated_tags,
        result={
            "run": run.pk,
            "terms": run.terms,
            "descriptions": run.descriptions,
            "phrases": run.phrases,
            "threshold": run.threshold,
            "seconds": round(run.seconds, 2),
        },
    )


def autotag_runner(*, version: int | None = None, progress=None) -> TaxonomyReport:
    from annotations.errors import NotFound

    from . import services
    from .models import TaxonomyVersion

    chosen = None
    if version is not None:
        chosen = TaxonomyVersion.objects.filter(number=version).first()
        if chosen is None:
            raise NotFound(f"taxonomy version {version} does not exist")
    described, links = services.descriptions_autotag(version=chosen, progress=progress)
    return TaxonomyReport(created=links, skipped=described, result={"descriptions": described, "links": links})
