"""'More like this' and novelty over stored feature vectors.

Two feature spaces: ``classifier`` (the newest active classifier version with a vector for the
cutout) and ``encoder`` (the survey's active self-supervised encoder, ``FeatureEncoder``). Without a
choice a cutout uses the classifier's space when it has a vector there, else the encoder's. The
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
from .encoders import encoder_active
from .models import CutoutFeatures, ModelVersion
from .selectors import feature_matrix

_lock = threading.Lock()
_indexes: dict[str, tuple[tuple, np.ndarray, object]] = {}

CLASSIFIER, ENCODER = "classifier", "encoder"
SPACES = (CLASSIFIER, ENCODER)


def space_check(space: str | None) -> str | None:
    """None (choose by what the cutout has) or one of SPACES; anything else is a 400."""
    if space in (None, ""):
        return None
    if space not in SPACES:
        raise InvalidInput(f"space must be one of {', '.join(SPACES)}, not {space[:40]!r}", field="space")
    return space


def _classifier_feature_version(**cutouts) -> str | None:
    """The feature version of the newest active classifier with vectors for the cutouts the
    ``CutoutFeatures`` filter names (one cutout, or a survey's)."""
    return (
        CutoutFeatures.objects.filter(**cutouts, model_version__status=ModelVersion.Status.ACTIVE)
        .order_by("-model_version__promoted_at", "-created_at")
        .values_list("feature_version", flat=True)
        .first()
    )


def _encoder_feature_version(survey_id: int) -> str | None:
    encoder = encoder_active(survey_id=survey_id)
    return encoder.feature_version if encoder is not None else None


def feature_version_for_cutout(*, cutout: Cutout, space: str | None = None) -> str | None:
    """The feature version this cutout is searched in: the newest active classifier with a vector
    for it (``classifier``), or its survey's active encoder when it has a vector of it (``encoder``);
    without ``space`` the first of the two that has one."""
    space = space_check(space)
    if space in (None, CLASSIFIER):
        row = _classifier_feature_version(cutout=cutout)
        if row is not None or space == CLASSIFIER:
            return row
    feature_version = _encoder_feature_version(cutout.survey_id)
    if feature_version and CutoutFeatures.objects.filter(cutout=cutout, feature_version=feature_version).exists():
        return feature_version
    return None


def feature_version_for_survey(*, survey: Survey, space: str | None = None) -> str | None:
    """The feature version of the newest active classifier with vectors for the survey's cutouts
    (``classifier``), or of its active encoder (``encoder``); without ``space`` the first that has one."""
    space = space_check(space)
    if space in (None, CLASSIFIER):
        row = _classifier_feature_version(cutout__survey=survey)
        if row is not None or space == CLASSIFIER:
            return row
    return _encoder_feature_version(survey.pk)


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
    space: str = CLASSIFIER


def similar_cutouts(*, cutout: Cutout, k: int, space: str | None = None) -> SimilarCutouts:
    """The ``k`` cutouts nearest to this one in learned feature space (``space``: see
    ``feature_version_for_cutout``), across every survey with vectors of it; Conflict (409) when
    the cutout has no feature vector there yet, InvalidInput (400) for an unknown space."""
    bound = settings.RGZ_SIMILAR_MAX_K
    if not 1 <= k <= bound:
        raise InvalidInput(f"k must lie between 1 and {bound}, not {k}", field="k")
    space = space_check(space)
    feature_version = feature_version_for_cutout(cutout=cutout, space=space)
    if feature_version is None:
        raise Conflict(_no_vector_message(cutout, space))
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
    return SimilarCutouts(
        cutout=cutout, feature_version=feature_version, neighbours=neighbours, space=_space_of(feature_version)
    )


def _space_of(feature_version: str) -> str:
    return ENCODER if feature_version.startswith(f"{ENCODER}:") else CLASSIFIER


def _no_vector_message(cutout: Cutout, space: str | None) -> str:
    if space == ENCODER:
        return (
            f"cutout {cutout.pk} has no feature vector in the encoder space: its survey has no active encoder "
            "yet, or the cutout came after it (train one with `manage.py train_encoder`)"
        )
    if space == CLASSIFIER:
        return (
            f"cutout {cutout.pk} has no feature vector in the classifier space yet: vectors are computed after "
            "a classifier version is promoted (its features job)"
        )
    return (
        f"cutout {cutout.pk} has no feature vector yet: vectors are computed after a classifier "
        "version is promoted (its features job) or a survey encoder is trained (train_encoder)"
    )


@dataclass
class NoveltyItem:
    cutout: Cutout
    novelty: float  # mean distance to the k nearest cutouts of the survey
    rank: int


def novelty_gallery(
    *, survey: Survey, limit: int = 48, k: int = 10, space: str | None = None
) -> tuple[str | None, list[NoveltyItem]]:
    """The survey's most novel cutouts first (k-NN novelty among its own cutouts) in the feature
    space ``space`` (see ``feature_version_for_survey``); (None, []) when it has no vectors there."""
    feature_version = feature_version_for_survey(survey=survey, space=space)
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
