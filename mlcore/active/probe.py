"""``FeatureProbe``: a classifier on fixed learned features, cheap enough to refit after every batch
of new labels, with a bootstrap committee whose disagreement gives BALD without MC dropout.

The features (e.g. ``mlcore.features.ContrastiveEncoder.embed`` of every cutout of a survey) are
standardised with statistics of the whole pool, labelled or not, since a survey's cutouts are all
known before any is labelled; the logistic regression's inverse regularisation C is chosen by
stratified cross-validation on the labelled rows alone, every fit, so that it can grow with the
labels instead of being tuned once on a test set.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold

C_GRID = np.logspace(-3, 2, 11)


class FeatureProbe:
    """Logistic regression on standardised features. ``fit(features, y)``, then ``predict_proba``,
    ``predict``, ``committee_proba`` (T, N, C) for BALD, and ``scaled`` (the features as the probe
    sees them, for novelty and diversity)."""

    def __init__(self, pool_features: np.ndarray, *, cs=C_GRID, committee: int = 10, folds: int = 5, seed: int = 0):
        pool = self._check(pool_features)
        if len(pool) < 2:
            raise ValueError("the pool needs at least two rows to standardise its features")
        self.mean_ = pool.mean(axis=0)
        self.scale_ = pool.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0  # a constant feature carries nothing; keep it at zero
        self.cs = np.asarray(cs, dtype=float)
        if int(committee) < 2:
            raise ValueError("the committee needs at least two members to disagree")
        self.committee = int(committee)
        self.folds = int(folds)
        self.seed = int(seed)

    @staticmethod
    def _check(features) -> np.ndarray:
        f = np.asarray(features, dtype=np.float64)
        if f.ndim != 2:
            raise ValueError(f"features must be (N, D), got shape {f.shape}")
        if not np.isfinite(f).all():
            raise ValueError("the features hold NaN or infinite values")
        return f

    def scaled(self, features) -> np.ndarray:
        return (self._check(features) - self.mean_) / self.scale_

    def fit(self, features, y) -> FeatureProbe:
        x, y = self.scaled(features), np.asarray(y)
        if len(x) != len(y):
            raise ValueError(f"{len(x)} feature rows but {len(y)} labels")
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError("the labels hold a single class; a probe needs at least two")
        self.classes_ = classes
        folds = min(self.folds, int(counts.min()))
        if folds >= 2:
            split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
            grid = {"C": list(self.cs)}
            search = GridSearchCV(LogisticRegression(max_iter=5000), grid, cv=split, scoring="neg_log_loss")
            self.model_ = search.fit(x, y).best_estimator_  # refitted on every labelled row
            self.c_ = float(self.model_.C)
        else:  # a class with a single label: no fold can hold it out, so take the grid's middle
            self.c_ = float(self.cs[len(self.cs) // 2])
            self.model_ = LogisticRegression(C=self.c_, max_iter=5000).fit(x, y)
        self._fit_committee(x, y)
        return self

    def _fit_committee(self, x: np.ndarray, y: np.ndarray) -> None:
        """Members fitted on bootstrap resamples drawn within each class, so none loses a class."""
        rng = np.random.default_rng(self.seed)
        by_class = [np.flatnonzero(y == k) for k in self.classes_]
        self.members_ = []
        for _ in range(self.committee):
            rows = np.concatenate([rng.choice(idx, len(idx), replace=True) for idx in by_class])
            self.members_.append(LogisticRegression(C=self.c_, max_iter=5000).fit(x[rows], y[rows]))

    def predict_proba(self, features) -> np.ndarray:
        return self._fitted().predict_proba(self.scaled(features))

    def predict(self, features) -> np.ndarray:
        return self._fitted().predict(self.scaled(features))

    def committee_proba(self, features) -> np.ndarray:
        """(T, N, C) probabilities of the T bootstrap members: the posterior samples BALD needs."""
        self._fitted()
        x = self.scaled(features)
        return np.stack([member.predict_proba(x) for member in self.members_])

    def _fitted(self) -> LogisticRegression:
        if not hasattr(self, "model_"):
            raise RuntimeError("the probe is not fitted")
        return self.model_
