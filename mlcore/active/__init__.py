"""mlcore.active: acquisition scores and the policy that turns them into a batch of cutouts to label.

Pure functions over numpy arrays; no training loop and no framework beyond numpy/scipy. The one
learner here, ``mlcore.active.probe.FeatureProbe`` (scikit-learn, imported on its own), is a
linear head on fixed learned features, cheap enough to refit after every batch of labels.
"""

from mlcore.active.policy import (
    SCORE_NAMES,
    AcquisitionPolicy,
    combined_priority,
    explain,
    gold_rate,
    select_batch,
)
from mlcore.active.scores import bald, entropy, k_center_greedy, knn_novelty, margin, percentile

__all__ = [
    "SCORE_NAMES",
    "AcquisitionPolicy",
    "bald",
    "combined_priority",
    "entropy",
    "explain",
    "gold_rate",
    "k_center_greedy",
    "knn_novelty",
    "margin",
    "percentile",
    "select_batch",
]
