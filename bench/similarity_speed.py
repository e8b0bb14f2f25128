"""Speed of "more like this": k-nearest-neighbour queries over stored feature vectors.

100,000 random 128-d float32 vectors (the size of a survey's learned features), an index built
the way the platform builds it (vectors stored as bytes, decoded and stacked once per feature
version, then ``mlcore.similarity.FeatureIndex``), then single queries of k=10 nearest
neighbours, each leaving the query's own row out. Reports the cold build time and the query
latency p50/p99 in milliseconds. The last line printed is one JSON object.

    python bench/similarity_speed.py [--quick] [--n 100000] [--dim 128] [--queries 2000]
"""

from __future__ import annotations

import argparse
import json
import time

import _data  # noqa: F401  (puts the project on the path)
import numpy as np

from mlcore.similarity import FeatureIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer queries (well under 45 s)")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    queries = 200 if args.quick else args.queries
    rng = np.random.default_rng(0)
    stored = [row.tobytes() for row in rng.normal(size=(args.n, args.dim)).astype(np.float32)]

    t0 = time.perf_counter()
    index = FeatureIndex(np.stack([np.frombuffer(row, dtype=np.float32) for row in stored]))
    build_s = time.perf_counter() - t0

    picks = rng.integers(0, args.n, size=queries)
    index.query(index.features_[0], args.k, exclude=0)  # warm
    latencies = []
    for row in picks:
        t0 = time.perf_counter()
        index.query(index.features_[row], args.k, exclude=int(row))
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies = np.array(latencies)
    result = {
        "n": args.n,
        "dim": args.dim,
        "k": args.k,
        "queries": queries,
        "build_s": round(build_s, 3),
        "query_ms_p50": round(float(np.percentile(latencies, 50)), 3),
        "query_ms_p99": round(float(np.percentile(latencies, 99)), 3),
        "query_ms_max": round(float(latencies.max()), 3),
        "under_100ms": bool(np.percentile(latencies, 99) < 100),
    }
    print(
        f"{args.n} x {args.dim}: build {build_s:.2f} s, query p50 {result['query_ms_p50']} ms, "
        f"p99 {result['query_ms_p99']} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
