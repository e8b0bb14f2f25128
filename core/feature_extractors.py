"""A survey's trained image classifier, offered to apps that may not import the app that trains it.

The generative app judges its samples with the features and predictions of the survey's active
classifier, but the layers forbid it to import the classifiers app. So the classifiers app
registers a provider here (in its ``AppConfig.ready``) and the generative app asks the kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class FeatureExtractor(Protocol):
    """A loaded classifier. Images are (N, 1, S, S) float32 in [0, 1], prepared as the classifier's
    pipeline prepares real cutouts (noise-clipped, peak 1) at any size S: the extractor resamples."""

    classes: list[str]  # class names in the order of predict_proba's columns
    version_id: int  # the classifier version's id
    version_label: str  # e.g. "rgz-morphology v3", shown beside the numbers measured with it

    def features(self, x: Any) -> Any:
        """(N, 1, S, S) -> (N, D) feature vectors (numpy)."""

    def predict_proba(self, x: Any) -> Any:
        """(N, 1, S, S) -> (N, K) class probabilities (numpy)."""


# (survey, wanted class names or None) -> an extractor, or None when the provider has none to offer
Provider = Callable[[Any, list[str] | None], FeatureExtractor | None]
_providers: list[Provider] = []


def register_feature_extractor(provider: Provider) -> None:
    """Offer extractors; registering the same provider twice keeps one."""
    if provider not in _providers:
        _providers.append(provider)


def feature_extractor_for_survey(survey, classes: list[str] | None = None) -> FeatureExtractor | None:
    """The first extractor a provider offers for ``survey`` (preferring one that predicts
    ``classes``), or None when no classifier is active for it. Loads weights: call it in a worker,
    never in a web request."""
    for provider in _providers:
        extractor = provider(survey, classes)
        if extractor is not None:
            return extractor
    return None
