"""Derived plain-English terms against expert classes (Radio Galaxy Zoo EMU, Bowles et al. 2023).

Reads ``../shared/data/text2tag/``: 2,920 volunteer descriptions of 299 EMU Pilot sources and
1,257 expert classifications into classic classes. The spaCy pipeline (``mlcore.text``) splits
and normalises the descriptions, terms are derived at similarity threshold t, each source
becomes a multi-hot vector of its terms (each volunteer's last description), and a one-vs-rest
random forest predicts every expert classification's classes from its source's vector with
10-fold cross-validation, as published (micro-F1 0.35, weighted-F1 0.254).
``seconds`` is the end-to-end time from the CSV file to the derived terms and vectors
(the pipeline build, every description, the derivation, the encoding), on this machine's cores
(the fastest of ``--repeat`` runs; the machine's load average is printed beside it).
The last line printed is one JSON object.

    python bench/taxonomy.py [--quick] [--threshold T] [--trees N] [--repeat N] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from datetime import date

import _data  # noqa: F401  (puts the project on the path)
import numpy as np
from _setup import machine

from mlcore.text.components import build_nlp, describe
from mlcore.text.corpus import read_descriptions, read_expert_classes
from mlcore.text.derive import DerivationConfig, Phrase, derive_terms, encode

TEXT2TAG = _data.SHARED / "text2tag"
PUBLISHED = {"micro_f1": 0.35, "weighted_f1": 0.254}


def derive(threshold: float):
    """CSV -> (pipeline, descriptions, phrases, derivation, source ids, (S, T) vectors)."""
    nlp = build_nlp()
    descriptions = read_descriptions(TEXT2TAG / "english_annotations.csv", last_per_user=False)
    keyed = describe(nlp, [d.text for d in descriptions])
    every = [(d, k) for d, ks in zip(descriptions, keyed, strict=True) for k in ks]
    last = {
        (d.user_id, d.source_id): d.description_id for d in sorted(descriptions, key=lambda d: int(d.description_id))
    }
    used = set(last.values())
    phrases = [
        Phrase(key=k.key, text=k.text, units=k.units, source_id=d.source_id, description_id=d.description_id)
        for d, k in every
        if d.description_id in used
    ]
    derivation = derive_terms(phrases, DerivationConfig(threshold=threshold))
    by_source = defaultdict(list)
    for p in phrases:
        by_source[p.source_id].append(p)
    ids, x = encode(by_source, derivation.terms(), derivation.key_to_term)
    return nlp, descriptions, phrases, derivation, ids, x


def score(ids, x, trees: int, folds: int, seed: int = 0) -> dict:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import f1_score
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    experts = read_expert_classes(TEXT2TAG / "expert_classifications_anon.csv")
    y = MultiLabelBinarizer().fit_transform([classes for _, classes in experts])  # (1257, C)
    row = {str(s): i for i, s in enumerate(ids)}
    empty = np.zeros(x.shape[1], dtype=x.dtype)
    xe = np.stack([x[row[s]] if s in row else empty for s, _ in experts])  # (1257, T)
    model = OneVsRestClassifier(RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=os.cpu_count()))
    pred = cross_val_predict(model, xe, y, cv=KFold(folds, shuffle=True, random_state=seed))
    return {
        "micro_f1": round(float(f1_score(y, pred, average="micro")), 4),
        "weighted_f1": round(float(f1_score(y, pred, average="weighted", zero_division=0)), 4),
        "n_expert": int(len(experts)),
        "n_classes": int(y.shape[1]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="25 trees instead of 500 (same folds)")
    parser.add_argument("--threshold", type=float, default=DerivationConfig().threshold)
    parser.add_argument("--trees", type=int, default=None)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1, help="time the derivation N times (fastest)")
    parser.add_argument("--sweep", action="store_true", help="also derive at t = 0.5 .. 1.0 (term counts, seconds)")
    args = parser.parse_args()
    trees = args.trees or (25 if args.quick else 500)

    started = time.perf_counter()
    runs, cpu_runs = [], []
    for _ in range(max(1, args.repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        nlp, descriptions, phrases, derivation, ids, x = derive(args.threshold)
        runs.append(time.perf_counter() - t0)
        cpu_runs.append(time.process_time() - c0)
    seconds = min(runs)
    # Phrases before the host filter and stop words, for the count next to the published 8,486.
    n_split = sum(len(doc.spans["phrases"]) + len(doc.spans["host"]) for doc in nlp.pipe(d.text for d in descriptions))
    print(
        f"{len(descriptions)} descriptions, {n_split} phrases after splitting, {len(phrases)} kept "
        f"(last description per volunteer and source, host-panel phrases and empty keys dropped), "
        f"{len(ids)} sources, {len(derivation.candidates)} terms at t={args.threshold} in {seconds:.2f} s"
    )
    print("top terms:", ", ".join(f"{c.term} ({c.count})" for c in derivation.candidates[:25]))
    if args.sweep:
        for t in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
            s0 = time.perf_counter()
            d = derive_terms(phrases, DerivationConfig(threshold=t))
            print(f"t={t}: {len(d.candidates)} terms in {time.perf_counter() - s0:.2f} s")
    t0 = time.perf_counter()
    scores = score(ids, x, trees=trees, folds=args.folds)
    print(f"{args.folds}-fold one-vs-rest random forest ({trees} trees): {scores} in {time.perf_counter() - t0:.1f} s")
    result = {
        "bench": "taxonomy",
        "quick": args.quick,
        "machine": machine(),
        "date": date.today().isoformat(),
        "threshold": args.threshold,
        "trees": trees,
        "folds": args.folds,
        "n_descriptions": len(descriptions),
        "n_phrases_split": n_split,
        "n_phrases_kept": len(phrases),
        "n_sources": len(ids),
        **scores,
        "published_micro_f1": PUBLISHED["micro_f1"],
        "published_weighted_f1": PUBLISHED["weighted_f1"],
        "n_terms": len(derivation.candidates),
        "seconds": round(seconds, 3),
        "seconds_runs": [round(r, 3) for r in runs],
        "cpu_seconds": round(min(cpu_runs), 3),  # this process's CPU time: what other load cannot inflate
        "load_average_1min": round(os.getloadavg()[0], 2),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
