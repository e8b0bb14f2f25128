"""Reads of the generative app: versions, labelled training cutouts, samples."""

from __future__ import annotations

import statistics

from django.db.models import QuerySet

from annotations import selectors as annotation_selectors
from annotations.models import Cutout, Survey
from core.errors import InvalidInput, NotFound

from .models import MAX_SEED, SEED_BLOCK, GeneratedSample, GeneratorVersion


def survey_get(*, survey) -> Survey:
    """A survey by id (digits) or by name, as the commands, forms and API give it."""
    text = str(survey).strip()
    return (
        annotation_selectors.survey_get(survey_id=int(text))
        if text.isdigit()
        else annotation_selectors.survey_get(name=text)
    )


def version_get(*, version_id: int) -> GeneratorVersion:
    version = GeneratorVersion.objects.select_related("survey").filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"generator version {version_id} does not exist")
    return version


def version_list(*, survey: Survey | None = None) -> QuerySet[GeneratorVersion]:
    rows = GeneratorVersion.objects.select_related("survey").order_by("survey__name", "-number")
    return rows.filter(survey=survey) if survey is not None else rows


def active_version(*, survey: Survey) -> GeneratorVersion | None:
    return GeneratorVersion.objects.filter(survey=survey, status=GeneratorVersion.Status.ACTIVE).first()


def labelled_cutouts(*, survey: Survey, classes: list[str] | None = None) -> tuple[list[Cutout], list[str]]:
    """The survey's real cutouts with a label (``metadata.label``, set at ingestion or from the
    literature), in id order, and the classes in index order (those given, or every label found)."""
    rows = list(
        Cutout.objects.filter(survey=survey, synthetic=False, metadata__has_key="label")
        .only("pk", "name", "source_file", "metadata")
        .order_by("pk")
    )
    found = sorted({str(c.metadata["label"]) for c in rows})
    classes = list(classes or found)
    if len(classes) < 1:
        raise InvalidInput(f"survey {survey.name} has no labelled cutouts to learn from", field="survey")
    return [c for c in rows if str(c.metadata["label"]) in classes], classes


def cutouts_by_id(*, survey: Survey, ids: list[int]) -> dict[int, Cutout]:
    """The survey's real cutouts among ``ids`` (those deleted since are simply missing)."""
    rows = Cutout.objects.filter(survey=survey, synthetic=False, pk__in=ids).only(
        "pk", "name", "source_file", "metadata"
    )
    return {c.pk: c for c in rows}


def training_cutout_shape(*, version: GeneratorVersion, sample: int = 2000) -> tuple[int, int] | None:
    """(height, width) of the cutouts the version learned from (the median of up to ``sample`` of
    them), or None when none of them is left."""
    ids = (version.training_data or {}).get("train", [])[:sample]
    sizes = list(Cutout.objects.filter(pk__in=ids, synthetic=False).values_list("height", "width"))
    if not sizes:
        return None
    heights, widths = zip(*sizes, strict=True)
    return int(statistics.median_low(heights)), int(statistics.median_low(widths))


def survey_labels(*, survey: Survey) -> list[str]:
    """The labels of the survey's real labelled cutouts (the classes a generator can learn)."""
    rows = Cutout.objects.filter(survey=survey, synthetic=False, metadata__has_key="label")
    return sorted({str(meta["label"]) for meta in rows.values_list("metadata", flat=True)})


def next_sample_seed(*, version: GeneratorVersion) -> int:
    """The first generation seed the version has not rendered with. A job's seed S gives its
    samples the seeds S * SEED_BLOCK + class * 10,000 + i (see ``generative.jobs``)."""
    used = {s // SEED_BLOCK for s in GeneratedSample.objects.filter(version=version).values_list("seed", flat=True)}
    after_last = max(used, default=-1) + 1
    if after_last <= MAX_SEED:
        return after_last
    return min(set(range(len(used) + 1)) - used)  # the last seed was taken: the first gap


def sample_list(
    *, survey: Survey, requested_class: str | None = None, review: str | None = None
) -> QuerySet[GeneratedSample]:
    rows = GeneratedSample.objects.select_related("cutout", "version").filter(version__survey=survey)
    if requested_class:
        rows = rows.filter(requested_class=requested_class)
    if review:
        if review not in GeneratedSample.Review.values:
            raise InvalidInput(f"review must be one of {GeneratedSample.Review.values}", field="review")
        rows = rows.filter(review=review)
    return rows.order_by("requested_class", "id")


COMPARED = (
    ("fd", "Frechet distance in the classifier's features (lower is better)"),
    ("fd_real_floor", "the same between real training and held-out images (the floor)"),
    ("class_consistency", "class consistency (share the classifier assigns to the class asked for)"),
    ("class_consistency_real", "the same for real held-out images"),
    ("memorisation", "memorisation (share nearer a training image)"),
    ("memorisation_real", "the same for real held-out images"),
    ("ks_flux", "KS statistic, integrated flux"),
    ("ks_extent", "KS statistic, largest extent"),
    ("ks_components", "KS statistic, components"),
)


def version_measures(*, version: GeneratorVersion) -> dict:
    """A version's evaluation for its page: the overall measures (``rows``) and, per class, the
    Frechet distance and the diversity against the real one (``classes``)."""
    metrics = version.metrics or {}
    rows = [{"key": key, "label": label, "value": metrics.get(key)} for key, label in COMPARED]
    classes = [
        {"class": name, "fd": metrics.get(f"fd_{name}"), "diversity_ratio": metrics.get(f"diversity_ratio_{k}")}
        for k, name in enumerate(version.classes or [])
    ]
    return {"rows": [r for r in rows if r["value"] is not None], "classes": classes}


def version_comparison(*, a: GeneratorVersion, b: GeneratorVersion) -> list[dict]:
    """Each evaluation measure of two versions side by side, with b minus a where both have it."""
    rows = []
    for key, label in COMPARED:
        first, second = a.metrics.get(key), b.metrics.get(key)
        diff = second - first if isinstance(first, int | float) and isinstance(second, int | float) else None
        rows.append({"key": key, "label": label, "a": first, "b": second, "diff": diff})
    return rows
