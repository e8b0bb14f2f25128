"""Volunteer label noise measured on real Radio Galaxy Zoo EMU data: volunteers' plain-English
descriptions (Zooniverse workflow 20494) against the experts' consensus class of the same sources
(workflow 20705), both in ../shared/data/text2tag.

Both sides are mapped onto the benchmark's morphology classes by fixed keyword rules (below). A
source's expert consensus is the class most experts' tags map to (at least two experts, a strict
majority of those whose tags map to a class). Every volunteer description that maps to a class is
one vote; the row-normalised confusion of votes against the consensus is the noise model. The
keyword mapping itself adds disagreement, so the rates are an upper estimate of a trained
volunteer's noise on these classes.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import _data
import numpy as np

TEXT2TAG = _data.SHARED / "text2tag"
CLASSES = ("FRI", "FRII", "Compact", "Bent")

# expert tag -> class; tags not listed say nothing about these classes
EXPERT_TAGS = {
    "Bent tail": "Bent",
    "Wide-angle tail (WAT)": "Bent",
    "Narrow-angle tail (NAT)": "Bent",
    "C-shaped": "Bent",
    "Fanaroff & Riley Class 1 (FR I)": "FRI",
    "Core-jet": "FRI",
    "Fanaroff & Riley Class 2 (FR II)": "FRII",
    "Classical double": "FRII",
    "Single": "Compact",
    "Core-dominant": "Compact",
}
EXPERT_ORDER = ("Bent", "FRII", "FRI", "Compact")  # a classification with several: the most specific

# volunteer description -> class, first rule that matches
VOLUNTEER_RULES = (
    ("Bent", re.compile(r"\bbent\b|\btails?\b|c-shaped|\bwat\b|\bnat\b|head-tail")),
    ("FRII", re.compile(r"edge[- ]brightened|hot ?spots?|\blobes?\b.*\bdouble\b|\bdouble\b.*\blobes?\b")),
    ("FRI", re.compile(r"\bjets?\b|jet-like|core-jet|edge[- ]darkened|plumes?")),
    ("Compact", re.compile(r"\bcompact\b|point[- ]?(like|source)|unresolved|small blob")),
)


def expert_consensus() -> dict[str, str]:
    """subject id -> consensus class of the experts (subjects without one are left out)."""
    from mlcore.text.corpus import read_expert_classes

    votes: dict[str, list[str]] = {}
    for subject, tags in read_expert_classes(TEXT2TAG / "expert_classifications_anon.csv"):
        mapped = {EXPERT_TAGS[t] for t in tags if t in EXPERT_TAGS}
        for cls in EXPERT_ORDER:
            if cls in mapped:
                votes.setdefault(subject, []).append(cls)
                break
    out = {}
    for subject, vs in votes.items():
        (top, count), *_ = Counter(vs).most_common(1)
        if len(vs) >= 2 and count * 2 > len(vs):
            out[subject] = top
    return out


def volunteer_class(description: str) -> str | None:
    text = description.lower()
    for cls, rule in VOLUNTEER_RULES:
        if rule.search(text):
            return cls
    return None


def measured_confusion(classes: tuple[str, ...] = CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """(K, K) row-normalised P(volunteer vote = j | expert consensus = i) over `classes` (votes for
    other classes are dropped), and (K,) the number of votes behind each row."""
    consensus = expert_consensus()
    counts = np.zeros((len(classes), len(classes)))
    with (TEXT2TAG / "english_annotations.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth = consensus.get(row["subject_ids"].strip())
            vote = volunteer_class(row["annotations"])
            if truth in classes and vote in classes:
                counts[classes.index(truth), classes.index(vote)] += 1
    totals = counts.sum(axis=1)
    confusion = np.where(totals[:, None] > 0, counts / np.maximum(totals[:, None], 1), np.eye(len(classes)))
    return confusion, totals


def noisy_votes(truth: np.ndarray, confusion: np.ndarray, votes: int, rng: np.random.Generator) -> np.ndarray:
    """(N,) true labels -> (N, K) counts of `votes` volunteer votes per class, drawn from the
    confusion rows."""
    k = confusion.shape[0]
    cumulative = np.cumsum(confusion[truth], axis=1)  # (N, K)
    draws = rng.random((len(truth), votes))
    vote = (draws[:, :, None] > cumulative[:, None, :]).sum(axis=2).clip(max=k - 1)  # (N, V)
    return np.stack([(vote == c).sum(axis=1) for c in range(k)], axis=1)


def noisy_majority(truth: np.ndarray, confusion: np.ndarray, votes: int, rng: np.random.Generator) -> np.ndarray:
    """(N,) true labels -> (N,) the majority of `votes` volunteer votes drawn from the confusion
    rows (ties broken at random): the consensus label a subject would retire with."""
    tallies = noisy_votes(truth, confusion, votes, rng)
    return (tallies + rng.random(tallies.shape) * 0.5).argmax(axis=1)


def gold_estimate(confusion: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The confusion a platform would measure on a gold set as large as the real one: for each true
    class, `counts` votes drawn from its row, then smoothed (one pseudo-vote per cell)."""
    from mlcore.active.labels import confusion_from_counts

    drawn = np.stack([rng.multinomial(int(n), row) for n, row in zip(counts, confusion, strict=True)])
    return confusion_from_counts(drawn, smoothing=1.0)
