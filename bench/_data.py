"""Real labelled images for the benchmarks, read in place."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def firstgalaxydata_arrays(limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, 300, 300) float32 images, (N,) labels, (N,) splits of firstgalaxydata."""
    from PIL import Image

    from mlcore.datasets import iter_firstgalaxydata

    items = list(iter_firstgalaxydata(limit=limit))
    images = np.stack([np.asarray(Image.open(io.BytesIO(i.png)).convert("L"), dtype=np.float32) for i in items])
    return images, np.array([i.label for i in items]), np.array([i.split for i in items])


def mirabest_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(1255, 150, 150) float32 Jy/beam images and their MiraBest label codes."""
    path = SHARED / "mirabest" / "mirabest_first_150x150_float32.npz"
    if not path.is_file():
        raise SystemExit(f"{path} is missing (the shared data folder must sit beside the project)")
    with np.load(path) as data:
        return data["images"].astype(np.float32), data["label_code"].astype(str)
