"""Labelled radio images that registry packages ship (read in place, never downloaded)."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FIRST_CLASSES = {"0": "FRI", "1": "FRII", "2": "Compact", "3": "Bent"}
_FIRST_NAME = re.compile(r"^(?P<ra>-?[\d.]+)_(?P<dec>-?[\d.]+)_(?P<label>\d)_(?P<catalogue>.+)\.png$")


@dataclass(frozen=True)
class LabelledImage:
    name: str
    ra_deg: float
    dec_deg: float
    label: str
    split: str
    catalogue: str
    png: bytes


def firstgalaxydata_archive() -> Path:
    """Path of the PNG archive inside the installed ``firstgalaxydata`` package.

    The package is located without importing it: its module imports torch, which the
    platform does not need for reading the images.
    """
    spec = importlib.util.find_spec("firstgalaxydata")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the firstgalaxydata package is not installed (pip install --no-deps firstgalaxydata)")
    archive = Path(spec.submodule_search_locations[0]) / "galaxy_data.zip"
    if not archive.is_file():
        raise FileNotFoundError(f"{archive} is missing from the firstgalaxydata package")
    return archive


def iter_firstgalaxydata(limit: int | None = None) -> Iterator[LabelledImage]:
    """The 2,158 FIRST images (train / valid / test split of Griese et al. 2023) with labels."""
    with zipfile.ZipFile(firstgalaxydata_archive()) as archive:
        members = sorted(
            (n for n in archive.namelist() if n.endswith(".png") and n.split("/")[1] in {"train", "valid", "test"}),
            key=lambda n: n.rsplit("/", 1)[1],  # by position on the sky, so any prefix mixes classes
        )
        for count, member in enumerate(members):
            if limit is not None and count >= limit:
                return
            _, split, folder, filename = member.split("/")
            match = _FIRST_NAME.match(filename)
            if match is None:
                continue
            yield LabelledImage(
                name=filename.removesuffix(".png"),
                ra_deg=float(match["ra"]),
                dec_deg=float(match["dec"]),
                label=FIRST_CLASSES.get(match["label"], folder),
                split=split,
                catalogue=match["catalogue"],
                png=archive.read(member),
            )
