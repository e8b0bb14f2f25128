"""The generator's evaluation figures: PNG bytes of the source-property distributions and the loss."""

import io

import numpy as np
from PIL import Image

from mlcore.generative.plots import loss_curve_png, properties_png


def blobs(n: int, radius: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 0.01, (n, 1, 32, 32)).clip(0, None).astype(np.float32)
    images[:, 0, 16 - radius : 16 + radius, 16 - radius : 16 + radius] += 1.0
    return images


def opened(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_the_properties_figure_draws_each_set_and_survives_an_empty_one():
    png = properties_png({"real (held out)": blobs(6, 4, 0), "generated": blobs(6, 2, 1)})
    image = opened(png)
    assert image.format == "PNG" and image.width > 600 and image.height > 150
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # lines and text, not a blank canvas
    assert opened(properties_png({"real": blobs(4, 3, 2), "generated": np.zeros((0, 1, 32, 32))})).width > 600


def test_the_loss_curve_takes_the_generators_history():
    history = [{"epoch": e, "loss": 1.0 / e, "seconds": 1.0} for e in range(1, 6)]
    assert opened(loss_curve_png(history)).format == "PNG"
    assert opened(loss_curve_png([{"epoch": 1, "loss": 0.0, "seconds": 1.0}])).format == "PNG"  # no log of zero
