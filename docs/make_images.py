"""Copy the README's pictures from the browser tests' screenshots into docs/images/, made small.

Run the browser tests first (they write tests/artifacts/*.png), then:

    .venv/bin/python docs/make_images.py

Each picture is cut to at most ``MAX_HEIGHT`` CSS pixels from the top, scaled to at most
``MAX_WIDTH`` pixels wide and reduced to a 96-colour palette (the pages are flat colours), so the
whole folder stays well under 3 MB. A screenshot that is missing is named and skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
IMAGES = ROOT / "docs" / "images"
MAX_WIDTH = 960
MAX_HEIGHT = 1400
COLOURS = 96

# README picture <- the browser test's screenshot (its test file in the comment)
PICTURES = {
    "classify-desktop.png": "volunteer-classify-1920x1080.png",  # annotations/test_browser_volunteer.py
    "classify-phone.png": "volunteer-classify-phone.png",
    "field-guide.png": "volunteer-guide-1920x1080.png",
    "desk.png": "jobs-desk-1920x1080.png",  # jobs/test_browser_job_cancel.py
    "job.png": "jobs-page-1280x720.png",
    "browse.png": "browse-filtered-desktop.png",  # explorer/test_browser_explorer.py
    "cutout.png": "cutout-tools-1920x1080.png",  # explorer/test_browser_cutout_tools.py
    "cutout-phone.png": "cutout-tools-zoomed-390x844.png",
    "scans.png": "scans-1280x720.png",  # explorer/test_browser_scan_upload.py
    "scan-map.png": "scan-map-1920x1080.png",
    "training.png": "classifiers-training-controls-desktop.png",  # classifiers/test_browser_training_controls.py
    "promotion.png": "promote-warning-1280x720.png",  # classifiers/test_browser_promotion.py
    "promotion-scoring.png": "promote-scoring-390x844.png",
    "tags.png": "taxonomy-curation-desktop.png",  # taxonomy/test_browser_curation*.py
}


def small_png(source: Path, target: Path) -> int:
    image = Image.open(source).convert("RGB")
    if image.height > MAX_HEIGHT * image.width / 1920 and image.height > MAX_HEIGHT:
        image = image.crop((0, 0, image.width, MAX_HEIGHT))
    if image.width > MAX_WIDTH:
        image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.Resampling.LANCZOS)
    image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    return target.stat().st_size


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, screenshot in PICTURES.items():
        source = ARTIFACTS / screenshot
        if not source.exists():
            missing.append(f"{screenshot} (for {name})")
            continue
        print(f"{name:24} {small_png(source, IMAGES / name) / 1024:7.1f} KiB  <- {screenshot}")
    total = sum(p.stat().st_size for p in IMAGES.glob("*.png"))
    print(f"docs/images: {total / 1024 / 1024:.2f} MB")
    for line in missing:
        print(f"missing: {line}: run its browser test first", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
