"""The README's pictures exist, are PNGs, and stay small (docs/make_images.py makes them)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN_PAGES = {
    "classify-desktop.png",
    "classify-phone.png",
    "browse.png",
    "cutout.png",
    "scans.png",
    "training.png",
    "tags.png",
    "desk.png",
}


def test_every_picture_the_readme_shows_is_there_and_small():
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r'src="(docs/images/[^"]+)"|\]\((docs/images/[^)]+)\)', readme)
    paths = {a or b for a, b in shown}
    assert {Path(p).name for p in paths} >= MAIN_PAGES
    for path in paths:
        picture = ROOT / path
        assert picture.is_file(), path
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert picture.stat().st_size < 400 * 1024, path
    total = sum(p.stat().st_size for p in (ROOT / "docs" / "images").glob("*"))
    assert total < 3 * 1024 * 1024
