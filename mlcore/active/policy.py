"""The acquisition policy: how scores combine into one priority, how a batch is drawn from it, and
how often a volunteer is served a gold-standard subject.

Missing scores: a score absent from `scores`, or NaN for a row (not computed yet, or computed by a
model older than the active one), drops out of that row's weighted mean and the other weights are
renormalised. A row with no usable score at all gets priority NaN: it is never served on priority,
only through the exploration share (and fills the batch at random when too few rows are ranked).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from mlcore.active.scores import k_center_greedy, percentile

SCORE_NAMES = ("entropy", "margin", "bald", "complexity", "novelty")
REASONS = ("exploration", "priority", "diversity")


def _default_weights() -> dict[str, float]:
    return {"entropy": 1.0, "complexity": 1.0}


@dataclass(frozen=True)
class AcquisitionPolicy:
    """Weights of each score (over SCORE_NAMES; missing names weigh 0), the share of each batch served
    at random, whether a batch is thinned for diversity in feature space (over the top
    candidate_factor * n by priority), and the gold-standard schedule: a volunteer with no answers
    is served gold at gold_start, decaying toward gold_end with a half-life of gold_halflife answers;
    feedback = show the experts' answer after a gold subject."""

    weights: dict[str, float] = field(default_factory=_default_weights)
    exploration: float = 0.1
    diversity: bool = True
    candidate_factor: int = 5
    gold_start: float = 0.4
    gold_end: float = 0.1
    gold_halflife: int = 20
    feedback: bool = True

    def validate(self) -> AcquisitionPolicy:
        """Raise ValueError naming the first bad field; return self when the policy is usable."""
        if not isinstance(self.weights, Mapping):
            raise ValueError("weights must be a mapping of score name to weight")
        unknown = sorted(set(self.weights) - set(SCORE_NAMES))
        if unknown:
            raise ValueError(f"unknown score name(s) {unknown}; known: {list(SCORE_NAMES)}")
        for name, weight in self.weights.items():
            if not _is_number(weight) or not math.isfinite(weight):
                raise ValueError(f"weight of {name!r} must be a finite number, got {weight!r}")
            if weight < 0:
                raise ValueError(f"weight of {name!r} is negative ({weight}); weights must be >= 0")
        if sum(self.weights.values()) <= 0:
            raise ValueError("all weights are zero: give at least one score a positive weight")
        for name in ("exploration", "gold_start", "gold_end"):
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a share between 0 and 1, got {value!r}")
        if self.gold_end > self.gold_start:
            raise ValueError(f"gold_end ({self.gold_end}) must not exceed gold_start ({self.gold_start})")
        for name in ("candidate_factor", "gold_halflife"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        for name in ("diversity", "feedback"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        return self

    def to_dict(self) -> dict:
        """Plain JSON-ready dict; weights list every score name (0 for those not used)."""
        out = asdict(self)
        out["weights"] = {name: float(self.weights.get(name, 0.0)) for name in SCORE_NAMES}
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> AcquisitionPolicy:
        """Inverse of to_dict; missing fields take their defaults; unknown fields or bad values raise
        ValueError. Zero weights are dropped."""
        if not isinstance(data, Mapping):
            raise ValueError("a policy must be an object of fields")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown policy field(s) {unknown}; known: {sorted(known)}")
        values = dict(data)
        if "weights" in values:
            weights = values["weights"]
            if not isinstance(weights, Mapping):
                raise ValueError("weights must be an object of score name to weight")
            values["weights"] = {str(k): (float(v) if _is_number(v) else v) for k, v in weights.items() if v != 0}
        for name in ("exploration", "gold_start", "gold_end"):
            if name in values and _is_number(values[name]):
                values[name] = float(values[name])
        for name in ("candidate_factor", "gold_halflife"):
            value = values.get(name)
            if isinstance(value, float) and value.is_integer():
                values[name] = int(value)  # JSON clients may send 20.0
        return cls(**values).validate()

    @property
    def active_weights(self) -> dict[str, float]:
        """The scores that count, in SCORE_NAMES order."""
        return {name: float(self.weights[name]) for name in SCORE_NAMES if self.weights.get(name, 0) > 0}


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _row_count(scores: Mapping[str, np.ndarray], features: np.ndarray | None = None) -> int:
    lengths = {len(np.asarray(v).ravel()) for v in scores.values()}
    if features is not None:
        lengths.add(len(features))
    if len(lengths) > 1:
        raise ValueError(f"scores and features disagree on the number of rows: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def _percentiles(policy: AcquisitionPolicy, scores: Mapping[str, np.ndarray], n_rows: int) -> dict[str, np.ndarray]:
    """Percentile of each weighted score over all rows (all NaN for a score that is not given)."""
    return {
        name: percentile(np.asarray(scores[name], dtype=np.float64)) if name in scores else np.full(n_rows, np.nan)
        for name in policy.active_weights
    }


def combined_priority(policy: AcquisitionPolicy, scores: Mapping[str, np.ndarray]) -> np.ndarray:
    """{score name: (N,) values} -> (N,) priority in [0, 1]: the weighted mean of each score's
    percentile. Missing/NaN scores drop out per row (see the module docstring); a row with none
    gets NaN. Scores not weighted by the policy are ignored."""
    policy.validate()
    n_rows = _row_count(scores)
    pct = _percentiles(policy, scores, n_rows)
    total = np.zeros(n_rows)
    weight_sum = np.zeros(n_rows)
    for name, weight in policy.active_weights.items():
        valid = np.isfinite(pct[name])
        total[valid] += weight * pct[name][valid]
        weight_sum[valid] += weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight_sum > 0, total / np.where(weight_sum > 0, weight_sum, 1.0), np.nan)


def explain(policy: AcquisitionPolicy, scores: Mapping[str, np.ndarray], i: int) -> dict:
    """Why row i ranks where it does: {"priority", "rank" (1 = first), "scores": {name: {"value",
    "percentile", "weight", "share"}}} where share is the part of the priority that score supplies
    (shares sum to the priority; None for a score missing on this row)."""
    priority = combined_priority(policy, scores)
    n_rows = len(priority)
    if not 0 <= i < n_rows:
        raise IndexError(f"row {i} is outside the {n_rows} ranked rows")
    pct = _percentiles(policy, scores, n_rows)
    weights = policy.active_weights
    valid_weight = sum(w for name, w in weights.items() if np.isfinite(pct[name][i]))
    breakdown = {}
    for name, weight in weights.items():
        value = float(np.asarray(scores[name], dtype=np.float64).ravel()[i]) if name in scores else None
        p = float(pct[name][i])
        usable = math.isfinite(p)
        breakdown[name] = {
            "value": value if value is not None and math.isfinite(value) else None,
            "percentile": p if usable else None,
            "weight": weight,
            "share": weight * p / valid_weight if usable else None,
        }
    p_i = float(priority[i])
    ranked = np.isfinite(priority)
    rank = int((priority[ranked] > p_i).sum()) + 1 if math.isfinite(p_i) else None
    return {"priority": p_i if math.isfinite(p_i) else None, "rank": rank, "scores": breakdown}


def select_batch(
    policy: AcquisitionPolicy,
    scores: Mapping[str, np.ndarray],
    features: np.ndarray | None,
    n: int,
    rng: np.random.Generator,
    *,
    n_rows: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Choose n rows to label -> (indices (n',), reasons): n' = min(n, rows).

    - exploration: floor(exploration * n) rows, plus one more with probability equal to the
      remainder, drawn uniformly from all rows (unranked rows included);
    - the rest from the top candidate_factor * n' rows by priority. With diversity on and (N, D)
      features given, the highest-priority candidate comes first and k-centre greedy picks the
      others (reason "diversity" when a pick displaced a higher-ranked near-duplicate, "priority"
      when it is among the top anyway); otherwise straight by priority;
    - when too few rows are ranked (no model yet, stale scores), the shortfall is drawn at random
      and labelled "exploration". With no scores and no features at all, pass ``n_rows`` (the pool
      size) and the whole batch is drawn at random.
    """
    policy.validate()
    if scores or features is not None:
        counted = _row_count(scores, features)
        if n_rows is not None and n_rows != counted:
            raise ValueError(f"n_rows is {n_rows} but the scores and features have {counted} rows")
        n_rows = counted
    n_rows = n_rows or 0
    n = min(int(n), n_rows)
    if n <= 0:
        return np.zeros(0, dtype=int), []
    priority = combined_priority(policy, scores) if scores else np.full(n_rows, np.nan)
    share = policy.exploration * n
    n_explore = min(n, int(share) + int(rng.random() < share - int(share)))
    explored = rng.choice(n_rows, size=n_explore, replace=False) if n_explore else np.zeros(0, dtype=int)

    available = np.isfinite(priority)
    available[explored] = False
    ranked = np.flatnonzero(available)
    ranked = ranked[np.argsort(-priority[ranked], kind="stable")]
    n_priority = min(n - n_explore, len(ranked))
    picked, reasons = _priority_picks(policy, ranked, features, n_priority)

    chosen = np.concatenate([explored, picked]).astype(int)
    all_reasons = ["exploration"] * n_explore + reasons
    shortfall = n - len(chosen)
    if shortfall:
        rest = np.setdiff1d(np.arange(n_rows), chosen)
        fill = rng.choice(rest, size=shortfall, replace=False)
        chosen = np.concatenate([chosen, fill]).astype(int)
        all_reasons += ["exploration"] * shortfall
    return chosen, all_reasons


def _priority_picks(
    policy: AcquisitionPolicy, ranked: np.ndarray, features: np.ndarray | None, n: int
) -> tuple[np.ndarray, list[str]]:
    """Pick n of `ranked` (row indices, best first); see select_batch for the reasons."""
    if n <= 0:
        return np.zeros(0, dtype=int), []
    candidates = ranked[: policy.candidate_factor * n]
    if not policy.diversity or features is None or len(candidates) <= n:
        return candidates[:n], ["priority"] * n
    feats = np.asarray(features, dtype=np.float64)[candidates]
    finite = np.isfinite(feats).all(axis=1)
    if not finite[0] or finite.sum() <= n:
        return candidates[:n], ["priority"] * n  # without features for the best candidates, rank alone decides
    usable = candidates[finite]
    order = np.concatenate([[0], k_center_greedy(feats[finite], n - 1, selected=np.array([0]))])
    picks = usable[order]
    top = set(ranked[:n].tolist())
    return picks, ["priority" if int(p) in top else "diversity" for p in picks]


def gold_rate(policy: AcquisitionPolicy, n_answered) -> float | np.ndarray:
    """Share of subjects to serve from the gold standard to a volunteer with n_answered answers:
    gold_end + (gold_start - gold_end) * 0.5 ** (n_answered / gold_halflife)."""
    answered = np.asarray(n_answered, dtype=np.float64)
    if np.any(answered < 0):
        raise ValueError("the number of answers cannot be negative")
    rate = policy.gold_end + (policy.gold_start - policy.gold_end) * 0.5 ** (answered / policy.gold_halflife)
    return float(rate) if rate.ndim == 0 else rate
