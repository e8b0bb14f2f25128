"""The survey's active classifier offered through the kernel's feature-extractor registry, so
that apps which may not import this one (the generators) can judge images with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from annotations.models import Survey

from . import ml
from .models import ModelVersion

logger = logging.getLogger(__name__)


@dataclass
class ActiveClassifier:
    """A loaded active classifier version; images of any size are resampled to its own."""

    clf: object
    classes: list[str]
    version_id: int
    version_label: str
    image_size: int

    def _prepared(self, x) -> np.ndarray:
        return ml.resampled(np.asarray(x, dtype=np.float32), self.image_size)

    def features(self, x) -> np.ndarray:
        return self.clf.features(self._prepared(x))

    def predict_proba(self, x) -> np.ndarray:
        return self.clf.predict_proba(self._prepared(x))


def active_classifier_for_survey(survey: Survey, classes: list[str] | None = None) -> ActiveClassifier | None:
    """The active version, with weights that loaded, of the survey's task that predicts the most of
    ``classes`` (ties: the most recently promoted); None when there is none."""
    versions = list(
        ModelVersion.objects.select_related("task")
        .filter(task__survey=survey, status=ModelVersion.Status.ACTIVE, weights_error="")
        .exclude(weights="")
        .order_by("-promoted_at", "-pk")
    )
    if not versions:
        return None
    wanted = set(classes or [])
    version = max(versions, key=lambda v: len(wanted & set(v.task.classes)))  # max keeps the first of a tie
    try:
        clf = ml.load_classifier(version.weights.path, version.config)
    except (ml.weights_error_type(), OSError) as exc:  # the file changed since it was checked
        logger.warning("active classifier %s cannot judge images: %s", version, exc)
        return None
    return ActiveClassifier(
        clf=clf,
        classes=list(version.task.classes),
        version_id=version.pk,
        version_label=f"{version.task.name} v{version.number}",
        image_size=clf.config.network.image_size,
    )
