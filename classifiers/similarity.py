"""'More like this' and novelty over stored feature vectors.

A cutout's vectors are those of the newest active classifier version that has one for it. The
index of a feature version is built once per process from the stored rows and rebuilt when their
count or newest row changes (a features job added some), so a query is one matrix-vector product.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Count, Max

from annotations.models import Cutout, Survey
from core.errors import Conflict, InvalidInput

from . import ml
from .models import CutoutFeatures, ModelVersion
from .selectors import feature_matrix

_lock = threading.Lock()
_indexes: dict[str, tuple[tuple, np.ndarray, object]] = {}


def feature_version_for_cutout(*, cutout: Cutout) -> str | None:
    """The feature version of the newest active classifier with a vector for this cutout."""
    row = (
        CutoutFeatures.objects.filter(cutout=cutout, model_version__status=ModelVersion.Status.ACTIVE)
        .order_by("-model_version__promoted_at", "-created_at")
        .values_list("feature_version", flat=True)
        .first()
    )
    return row


def feature_version_for_survey(*, survey: Survey) -> str | None:
    """The feature version of the newest active classifier with vectors for the survey's cutouts."""
    return (
        CutoutFeatures.objects.filter(cutout__survey=survey, model_version__status=ModelVersion.Status.ACTIVE)
        .order_by("-model_version__promoted_at", "-created_at")
        .values_list("feature_version", flat=True)
        .first()
    )


def feature_index(*, feature_version: str) -> tuple[np.ndarray, object]:
    """Cutout ids and the index of one feature version (cached while its rows are unchanged)."""
    stamp = tuple(
        CutoutFeatures.objects.filter(feature_version=feature_version).aggregate(n=Count("pk"), last=Max("pk")).values()
    )
    with _lock:
        cached = _indexes.get(feature_version)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
    ids, matrix = feature_matrix(feature_version=feature_version)
    ids = np.asarray(ids, dtype=np.int64)  # in id order: a cutout's row by binary search
    index = ml.nearest_index(matrix)
    with _lock:
        _indexes[feature_version] = (stamp, ids, index)
    return ids, index


@dataclass
class Neighbour:
    cutout: Cutout
    distance: float


@dataclass
class SimilarCutouts:
    cutout: Cutout
    feature_version: str
    neighbours: list[Neighbour]


def similar_cutouts(*, cutout: Cutout, k: int) -> SimilarCutouts:
    """The ``k`` cutouts nearest to this one in learned feature space, across every survey;
    Conflict (409) when the cutout has no feature vector yet."""
    bound = settings.RGZ_SIMILAR_MAX_K
    if not 1 <= k <= bound:
        raise InvalidInput(f"k must lie between 1 and {bound}, not {k}", field="k")
    feature_version = feature_version_for_cutout(cutout=cutout)
    if feature_version is None:
        raise Conflict(
            f"cutout {cutout.pk} has no feature vector yet: vectors are computed after a classifier "
            "version is promoted (its features job)"
        )
    ids, index = feature_index(feature_version=feature_version)
    row = int(np.searchsorted(ids, cutout.pk))  # ids are in id order
    if row >= len(ids) or ids[row] != cutout.pk:  # stored a moment ago, after the index was read
        raise Conflict(f"the feature vector of cutout {cutout.pk} is being stored: ask again in a moment")
    rows, distances = index.query(index.features_[row], k, exclude=row)
    neighbour_ids = [int(ids[i]) for i in rows]
    found = Cutout.objects.select_related("survey").in_bulk(neighbour_ids)
    neighbours = [
        Neighbour(cutout=found[pk], distance=float(d))
        for pk, d in zip(neighbour_ids, distances, strict=True)
        if pk in found
    ]
    return SimilarCutouts(cutout=cutout, feature_version=feature_version, neighbours=neighbours)


@dataclass
class NoveltyItem:
    cutout: Cutout
    novelty: float  # mean distance to the k nearest cutouts of the survey
    rank: int


def novelty_gallery(*, survey: Survey, limit: int = 48, k: int = 10) -> tuple[str | None, list[NoveltyItem]]:
    """The survey's most novel cutouts first (k-NN novelty among its own cutouts)."""
    feature_version = feature_version_for_survey(survey=survey)
    if feature_version is None:
        return None, []
    survey_ids = list(Cutout.objects.filter(survey=survey).values_list("pk", flat=True))
    ids, matrix = feature_matrix(feature_version=feature_version, cutout_ids=survey_ids)
    if len(ids) < 2:
        return feature_version, []
    novelty = ml.knn_novelty(matrix, k=k)
    order = np.argsort(-novelty, kind="stable")[:limit]
    found = Cutout.objects.select_related("survey").in_bulk([ids[i] for i in order])
    items = [
        NoveltyItem(cutout=found[ids[i]], novelty=float(novelty[i]), rank=rank)
        for rank, i in enumerate(order, start=1)
        if ids[i] in found
    ]
    return feature_version, items
