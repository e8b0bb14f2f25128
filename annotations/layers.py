"""Layers: other bands of a cutout's field, matched to cutouts and stored on the radio frame.

A file is matched to its cutout(s) by a catalogue's ``name`` / ``file`` columns when one is
given, else by sky position through its WCS (every cutout of the survey whose centre it
covers), else by the source name the file names share (``S1138_radio.png`` and
``S1138_heatmap_contours.png``). A PNG or JPEG without WCS on the radio pixel grid takes the
radio cutout's WCS (and says so). Each layer is written in its own transaction: a bad file is
reported and skipped, and a band a cutout already has is kept as it is.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from core.errors import InvalidInput
from jobs.reports import JobReport

from . import ml
from .catalogues import LayerCatalogueRow, read_layer_catalogue
from .ingestion import expand_paths
from .models import Cutout, CutoutLayer, Survey
from .paths import is_under_import_roots

Progress = Callable[[int, int, str], None]
BAND_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
RADIO_BAND = "radio"  # the cutout's own image, never a layer


class LayerMatchError(ValueError):
    """A file that matches no cutout (or several, where one was meant)."""


def _no_progress(done: int, total: int, message: str) -> None:
    return None


def band_validate(band: str) -> str:
    band = (band or "").strip().lower()
    if not BAND_PATTERN.match(band):
        raise InvalidInput(f"band {band!r}: use lower-case letters, digits, '-' or '_' (up to 50)", field="band")
    if band == RADIO_BAND:
        raise InvalidInput("band 'radio' is the cutout's own image; name the other band (infrared, optical...)")
    return band


def ingest_layers(
    *,
    survey_name: str,
    band: str,
    paths: list[str],
    layer_survey: str | None = None,
    catalogue: str | None = None,
    import_roots_only: bool = False,
    progress: Progress = _no_progress,
) -> JobReport:
    """Add a band to existing cutouts of a survey from FITS, PNG or JPEG files."""
    band = band_validate(band)
    survey = Survey.objects.filter(name=survey_name).first()
    if survey is None:
        raise InvalidInput(f"no survey named {survey_name!r}; ingest its cutouts first")
    files = expand_paths(paths)
    rows = {row.file: row for row in read_layer_catalogue(catalogue)} if catalogue else None
    matcher = _Matcher(survey, rows, catalogue)
    report = JobReport()
    progress(0, len(files), f"adding band {band} to {survey.name} from {len(files)} file(s)")
    for done, path in enumerate(files, start=1):
        if import_roots_only and not is_under_import_roots(path):
            report.failed += 1
            report.errors.append(f"{path}: refused, it leads outside the import roots")
        else:
            _ingest_file(report, matcher, band, layer_survey or "", path)
        progress(done, len(files), path.name)
    return report


def _ingest_file(report: JobReport, matcher: _Matcher, band: str, layer_survey: str, path: Path) -> None:
    try:
        raw = path.read_bytes()
        image = ml.read_cutout_image(raw)
        problem = ml.wcs_problem(image)
        if problem:
            raise ml.LayerError(f"its WCS cannot be read: {problem}")
        targets = matcher.cutouts_for(path, image)
    except (ml.ImageReadError, ml.LayerError, LayerMatchError, OSError) as exc:
        report.failed += 1
        report.errors.append(f"{path}: {exc}")
        return
    for cutout, matched_by in targets:
        if CutoutLayer.objects.filter(cutout=cutout, band=band).exists():
            report.skipped += 1
            report.notes.append(f"{path.name}: {cutout.name} already has a {band} layer; kept as it is")
            continue
        try:
            framed = ml.frame_layer(image, frame_wcs_header=cutout.wcs_header, width=cutout.width, height=cutout.height)
            layer = layer_create(
                cutout=cutout,
                band=band,
                layer_survey=layer_survey,
                image=image,
                framed=framed,
                source_bytes=raw,
                matched_by=matched_by,
            )
        except ml.LayerError as exc:
            report.failed += 1
            report.errors.append(f"{path}: cutout {cutout.name}: {exc}")
            continue
        except IntegrityError:  # the same band stored meanwhile by another job
            report.skipped += 1
            continue
        report.created += 1
        report.cutout_ids.append(cutout.pk)
        how = layer.get_matched_by_display()
        report.notes.extend(f"{path.name} -> {cutout.name} ({how}): {note}" for note in layer.notes)


def layer_create(
    *,
    cutout: Cutout,
    band: str,
    layer_survey: str,
    image: ml.SkyImage,
    framed: ml.FramedLayer,
    source_bytes: bytes,
    matched_by: str,
) -> CutoutLayer:
    """Store one layer and its files; files written for a row that failed are removed again."""
    png, pixels = ml.render_layer(framed)
    wcs_header, notes = image.wcs_header, [*image.notes, *framed.notes]
    if not wcs_header and not framed.reprojected:
        # A PNG or JPEG on the radio pixel grid shows the radio cutout's field: its WCS is the cutout's.
        wcs_header = cutout.wcs_header
        notes.append(
            "takes the radio cutout's WCS (same pixel grid): marks on it have RA/Dec"
            if wcs_header
            else "the radio cutout has no WCS either: marks on it have pixel positions only, no RA/Dec"
        )
    stem = f"{cutout.survey_id}/{uuid.uuid4().hex}"
    extension = {"fits": "fits", "png": "png", "jpeg": "jpg"}[image.format]
    written = []
    try:
        files = (("source", source_bytes, extension), ("png", png, "png"), ("pixels", pixels, "u16"))
        for folder, payload, ext in files:
            written.append(default_storage.save(f"layers/{folder}/{stem}.{ext}", ContentFile(payload)))
        with transaction.atomic():
            return CutoutLayer.objects.create(
                cutout=cutout,
                band=band,
                survey_name=layer_survey[:100],
                source_format=image.format,
                source_file=written[0],
                image=written[1],
                pixels=written[2],
                wcs_header=wcs_header,
                pixel_scale_arcsec=image.pixel_scale_arcsec() or ml.pixel_scale_arcsec(wcs_header),
                matched_by=matched_by,
                reprojected=framed.reprojected,
                coverage=framed.coverage,
                notes=notes,
            )
    except Exception:
        for path in written:
            default_storage.delete(path)
        raise


class _Matcher:
    """Finds the cutouts a layer file belongs to, in one survey."""

    def __init__(self, survey: Survey, rows: dict[str, LayerCatalogueRow] | None, catalogue: str | None):
        self.survey = survey
        self.rows = rows
        self.catalogue = catalogue
        self._by_key: dict[str, list[Cutout]] | None = None

    def cutouts_for(self, path: Path, image: ml.SkyImage) -> list[tuple[Cutout, str]]:
        if self.rows is not None:
            return [(self._by_catalogue(path), CutoutLayer.MatchedBy.CATALOGUE)]
        if image.wcs_header:
            return [(cutout, CutoutLayer.MatchedBy.SKY_POSITION) for cutout in self._by_sky(image)]
        return [(self._by_source_name(path), CutoutLayer.MatchedBy.SOURCE_NAME)]

    def _by_catalogue(self, path: Path) -> Cutout:
        row = self.rows.get(path.name) or self.rows.get(path.stem)
        if row is None:
            raise LayerMatchError(f"not in the catalogue {self.catalogue} (no row whose file is {path.name!r})")
        cutout = Cutout.objects.filter(survey=self.survey, name=row.name).first()
        if cutout is None:
            raise LayerMatchError(f"{self.catalogue} row {row.row}: no cutout named {row.name!r} in {self.survey.name}")
        return cutout

    def _by_sky(self, image: ml.SkyImage) -> list[Cutout]:
        placed = list(
            Cutout.objects.filter(survey=self.survey, ra_deg__isnull=False, dec_deg__isnull=False).values_list(
                "pk", "ra_deg", "dec_deg"
            )
        )
        if placed:
            ids, ra, dec = (np.asarray(column) for column in zip(*placed, strict=True))
            covered = ml.covered_positions(image, ra, dec)
            matched = [int(pk) for pk in ids[covered]]
        else:
            matched = []
        if not matched:
            raise LayerMatchError(f"does not overlap any cutout of {self.survey.name} on the sky")
        return list(Cutout.objects.filter(pk__in=matched))

    def _by_source_name(self, path: Path) -> Cutout:
        if self._by_key is None:
            self._by_key = {}
            for cutout in Cutout.objects.filter(survey=self.survey).only("pk", "name", "width", "height", "wcs_header"):
                self._by_key.setdefault(ml.source_key(cutout.name), []).append(cutout)
        key = ml.source_key(path.stem)
        found = self._by_key.get(key, [])
        if not found:
            raise LayerMatchError(
                f"no WCS, and no cutout of {self.survey.name} shares its source name {key!r} "
                "(give a --catalogue with name and file columns)"
            )
        if len(found) > 1:
            names = ", ".join(sorted(c.name for c in found)[:5])
            raise LayerMatchError(f"source name {key!r} fits several cutouts ({names}); give a --catalogue")
        return found[0]
