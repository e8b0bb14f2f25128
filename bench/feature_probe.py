"""How much do learned features know about FRI / FRII? Linear and k-NN probes on MiraBest Confident.

Features: (a) the supervised classifier's penultimate layer (mlcore.ssl, trained on every
MiraBest Confident training label), (b) the self-supervised contrastive encoder (mlcore.features),
trained with no labels on every cutout of the corpus: MiraBest (all classes and confidences, test
images left out) and firstgalaxydata (all splits). Images at ``--size`` px.

Probes, fitted on the MiraBest Confident training images' features and labels, scored on the
MiraBest test batch (confident images, as bench/ssl_eval.py): logistic regression on standardised
features (``linear``: C = 0.1 fixed), and k-nearest neighbours (``knn``: k = ``--k``, cosine
distance); and the same two with their setting chosen by 5-fold cross-validation on the training
features alone (``linear_cv``: C, ``knn_cv``: k; by log loss), so neither probe's setting is
tuned for one kind of features. Accuracy and ROC-AUC (FRII probability), mean and spread over
``--seeds``. Reference: the VDVAE latents of arXiv:2311.08331
reached accuracy 0.76 and ROC-AUC 0.86 with such probes.

    python bench/feature_probe.py --quick
    nice python bench/feature_probe.py --seeds 0 1 2
    nice python bench/feature_probe.py --features contrastive --encoder-cache var/encoders  # reuse encoders

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _data
import numpy as np

OUT = _data.ROOT / "bench" / "out"
REFERENCE = {"accuracy": 0.76, "roc_auc": 0.86, "source": "VDVAE latents, arXiv:2311.08331"}


def load(size: int) -> dict:
    """{"train": (x, y), "test": (x, y), "corpus": x}: prepared (N, 1, size, size) images."""
    import ssl_eval_data

    from mlcore.ssl.data import prepare_images, resample

    splits = ssl_eval_data.mirabest_splits()  # confident train / test, uncertain; 150 px

    def small(x: np.ndarray) -> np.ndarray:
        return resample(x[:, 0], size)[:, None]

    images, _, splits_fgd = _data.firstgalaxydata_arrays()
    fgd, _ = prepare_images(images[:, 75:225, 75:225], size=size)
    del splits_fgd
    corpus = np.concatenate([small(splits["train"][0]), small(splits["uncertain"][0]), fgd])
    return {
        "train": (small(splits["train"][0]), splits["train"][1]),
        "test": (small(splits["test"][0]), splits["test"][1]),
        "corpus": corpus,
    }


K_GRID = (5, 10, 20, 40, 80)


def probe(train_features, y_train, test_features, y_test, k: int) -> dict:
    """Linear and k-NN probe scores on the test set: fixed settings, and settings chosen by
    cross-validation on the training features (the chosen one recorded as ``setting``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlcore.active.probe import C_GRID

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

    def chosen(model, grid: dict):
        return GridSearchCV(model, grid, cv=folds, scoring="neg_log_loss")

    linear = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k, metric="cosine"))
    models = {
        "linear": linear,
        "knn": knn,
        "linear_cv": chosen(linear, {"logisticregression__C": list(C_GRID)}),
        "knn_cv": chosen(knn, {"kneighborsclassifier__n_neighbors": list(K_GRID)}),
    }
    out = {}
    for name, model in models.items():
        model.fit(train_features, y_train)
        p = model.predict_proba(test_features)[:, 1]
        out[name] = {
            "accuracy": float((model.predict(test_features) == y_test).mean()),
            "roc_auc": float(roc_auc_score(y_test, p)),
        }
        if hasattr(model, "best_params_"):
            out[name]["setting"] = float(next(iter(model.best_params_.values())))
    return out


def supervised_features(data: dict, size: int, steps: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    from mlcore.ssl.config import FixMatchConfig, NetworkConfig
    from mlcore.ssl.estimator import SSLClassifier

    config = FixMatchConfig(
        method="supervised",
        network=NetworkConfig(image_size=size),
        batch_size=32,
        lr=1e-3,
        epochs=10**6,
        max_steps=steps,
        seed=seed,
    )
    clf = SSLClassifier(config, device="auto").fit(*data["train"])
    own = float((clf.predict(data["test"][0]) == data["test"][1]).mean())
    return clf.penultimate_features(data["train"][0]), clf.penultimate_features(data["test"][0]), own


def encoder_features(data: dict, size: int, steps: int, batch: int, seed: int, save: Path | None, cache: Path | None):
    """Train features of the encoder of ``seed``, or read it from ``cache`` (a folder) when an
    encoder with these settings was trained there before; returns train and test features and
    the loss history."""
    from mlcore.features import ContrastiveEncoder, EncoderConfig

    config = EncoderConfig(image_size=size, steps=steps, batch_size=batch, seed=seed)
    cached = cache / f"encoder-s{seed}-{steps}steps-b{batch}-{size}px.pt" if cache else None
    if cached is not None and cached.exists():
        encoder = ContrastiveEncoder.load(cached, device="auto")
        losses = json.loads(cached.with_suffix(".losses.json").read_text())
    else:
        encoder = ContrastiveEncoder(config, device="auto").fit(data["corpus"])
        losses = [float(v) for v in encoder.loss_history_]
        if cached is not None:
            encoder.save(cached)
            cached.with_suffix(".losses.json").write_text(json.dumps(losses))
    if save is not None:
        encoder.save(save)
    return encoder.embed(data["train"][0]), encoder.embed(data["test"][0]), losses


def contrastive_run(args, data: dict, seed: int, rows: list[dict]) -> dict:
    """Train the encoder of one seed, probe its features, record the row; returns the probe scores."""
    t0, cpu = time.perf_counter(), time.process_time()
    save = args.save_encoder if seed == args.seeds[0] else None
    f_train, f_test, losses = encoder_features(
        data, args.size, args.encoder_steps, args.encoder_batch, seed, save, args.encoder_cache
    )
    scores = probe(f_train, data["train"][1], f_test, data["test"][1], args.k)
    rows.append({"features": "contrastive", "seed": seed, **scores})
    rows[-1].update(loss_first=float(np.mean(losses[:10])), loss_last=float(np.mean(losses[-10:])))
    rows[-1].update(seconds=round(time.perf_counter() - t0, 1), cpu_seconds=round(time.process_time() - cpu, 1))
    print(json.dumps(rows[-1]), flush=True)
    return scores


def summarise(runs: list[dict]) -> dict:
    if not runs:
        return {}
    out = {}
    for probe_name in runs[0]:
        out[probe_name] = {}
        for metric in ("accuracy", "roc_auc"):
            values = np.array([r[probe_name][metric] for r in runs])
            out[probe_name][metric] = float(values.mean())
            out[probe_name][metric + "_std"] = float(values.std())
        if "setting" in runs[0][probe_name]:
            out[probe_name]["settings"] = [r[probe_name]["setting"] for r in runs]
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short training of both, one seed")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--encoder-steps", type=int, default=4000, help="the platform default (EncoderConfig)")
    parser.add_argument("--encoder-batch", type=int, default=128)
    parser.add_argument("--classifier-steps", type=int, default=1200)
    parser.add_argument(
        "--features", nargs="+", choices=["supervised", "contrastive"], default=["supervised", "contrastive"]
    )
    parser.add_argument("--k", type=int, default=10, help="neighbours of the k-NN probe")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save-encoder", type=Path, help="write the first seed's encoder weights here")
    parser.add_argument(
        "--encoder-cache", type=Path, help="folder of trained encoders: read when there, written when trained"
    )
    parser.add_argument("--out", type=Path, default=OUT / "feature_probe.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.encoder_steps, args.encoder_batch, args.classifier_steps = [0], 60, 64, 150
        args.out = OUT / "feature_probe_quick.json"

    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    data = load(args.size)
    print(f"train {len(data['train'][1])}, test {len(data['test'][1])}, corpus {len(data['corpus'])}", flush=True)
    supervised_runs, encoder_runs, rows = [], [], []
    for seed in args.seeds:
        if "contrastive" in args.features:
            encoder_runs.append(contrastive_run(args, data, seed, rows))
        if "supervised" not in args.features:
            continue
        t0 = time.perf_counter()
        f_train, f_test, own = supervised_features(data, args.size, args.classifier_steps, seed)
        scores = probe(f_train, data["train"][1], f_test, data["test"][1], args.k)
        supervised_runs.append(scores)
        rows.append({"features": "supervised", "seed": seed, "classifier_accuracy": own, **scores})
        rows[-1]["seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(rows[-1]), flush=True)

    supervised, contrastive = summarise(supervised_runs), summarise(encoder_runs)

    def beats(s: dict) -> dict:
        return {p: s[p]["accuracy"] >= REFERENCE["accuracy"] and s[p]["roc_auc"] >= REFERENCE["roc_auc"] for p in s}

    result = {
        "bench": "feature_probe",
        "quick": args.quick,
        "image_size": args.size,
        "seeds": args.seeds,
        "encoder_steps": args.encoder_steps,
        "classifier_steps": args.classifier_steps,
        "train_images": len(data["train"][1]),
        "test_images": len(data["test"][1]),
        "corpus_images": len(data["corpus"]),
        "reference": REFERENCE,
        "supervised_penultimate": supervised,
        "contrastive_encoder": contrastive,
        "beats_reference": {"supervised_penultimate": beats(supervised), "contrastive_encoder": beats(contrastive)},
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"result": result, "rows": rows}, indent=1))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
