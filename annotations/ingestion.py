"""Ingestion: image files and survey mosaics become cutouts (subjects); the demo survey is in
``demo_survey`` and other bands of a cutout (layers) in ``layers``.

Each cutout is written in its own transaction, so a bad file is reported and skipped while
everything else (and everything stored before) stays; files written for a cutout whose row
failed are removed again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.bulk import insert_sharing
from core.errors import Conflict, InvalidInput
from jobs.reports import JobReport

from . import ml
from .catalogues import CatalogueRow, read_catalogue
from .complexity import complexity_percentiles_update
from .models import Cutout, Survey, Workflow
from .paths import is_under_import_roots
from .services import subject_set_get_or_create, subject_statuses_ensure, workflow_link_subject_set

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, message: str) -> None:
    return None


def survey_get_or_create(*, name: str, **fields) -> Survey:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a survey needs a name")
    survey, created = Survey.objects.get_or_create(
        name=name, defaults={k: v for k, v in fields.items() if v is not None}
    )
    if not created:
        updates = {k: v for k, v in fields.items() if v is not None and getattr(survey, k) != v}
        if updates:
            Survey.objects.filter(pk=survey.pk).update(**updates)
    return survey


def cutout_create(
    *,
    survey: Survey,
    name: str,
    prepared: ml.PreparedCutout,
    ra_deg: float | None = None,
    dec_deg: float | None = None,
    metadata: dict | None = None,
    subject_set=None,
    synthetic: bool = False,
) -> Cutout:
    """Store one cutout and its files; raises Conflict when the name is taken in this survey."""
    name = name.strip()[:255]
    if not name:
        raise InvalidInput("a cutout needs a name")
    if Cutout.objects.filter(survey=survey, name=name).exists():
        raise Conflict(f"{name}: already in survey {survey.name}")
    image = prepared.image
    if ra_deg is None or dec_deg is None:
        centre = image.centre_radec()
        if centre is not None:
            ra_deg, dec_deg = centre
    # File names say nothing of the source: its media URLs are public and a catalogue name can
    # carry the answer.
    stem = f"{survey.pk}/{uuid.uuid4().hex}"
    extension = {"fits": "fits", "png": "png", "jpeg": "jpg"}[image.format]
    written = []
    try:
        for folder, payload, ext in (
            ("source", prepared.source_bytes, extension),
            ("png", prepared.png, "png"),
            ("pixels", prepared.pixels, "u16"),
        ):
            written.append(default_storage.save(f"cutouts/{folder}/{stem}.{ext}", ContentFile(payload)))
        with transaction.atomic():
            cutout = Cutout.objects.create(
                survey=survey,
                name=name,
                ra_deg=ra_deg,
                dec_deg=dec_deg,
                width=image.shape[1],
                height=image.shape[0],
                source_format=image.format,
                source_file=written[0],
                image=written[1],
                pixels=written[2],
                wcs_header=image.wcs_header,
                metadata=metadata or {},
                ingest_notes=list(image.notes),
                contours=prepared.contours,
                complexity=ml.cutout_complexity(image, survey.pixel_scale_arcsec),
                synthetic=synthetic,
            )
            if subject_set is not None:
                cutout.subject_sets.add(subject_set)
                for workflow in subject_set.workflows.all():
                    subject_statuses_ensure(workflow=workflow, cutouts=Cutout.objects.filter(pk=cutout.pk))
    except Exception:
        for path in written:
            default_storage.delete(path)
        raise
    return cutout


def cutouts_create_sharing_image(
    *, survey: Survey, items: list[tuple[str, dict]], prepared: ml.PreparedCutout
) -> dict[str, int]:
    """Many cutouts showing one and the same image (placeholders, say), in one bulk insert; their
    rows share one set of files, written once, or taken from a cutout of the survey that already
    shows this image. Names taken meanwhile are kept as they are. Returns {name: cutout id}."""
    names = [name.strip()[:255] for name, _ in items]
    if not all(names):
        raise InvalidInput("a cutout needs a name")
    image = prepared.image
    files = _shared_files(survey, prepared)
    common = {
        "survey": survey,
        "width": image.shape[1],
        "height": image.shape[0],
        "source_format": image.format,
        "source_file": files[0],
        "image": files[1],
        "pixels": files[2],
        "wcs_header": image.wcs_header,
        "ingest_notes": list(image.notes),
        "contours": prepared.contours,
        "complexity": ml.cutout_complexity(image, survey.pixel_scale_arcsec),
    }
    rows = [
        Cutout(name=name, metadata=metadata or {}, **common) for name, (_, metadata) in zip(names, items, strict=True)
    ]
    insert_sharing(Cutout, rows, varying=("name", "metadata"), ignore_conflicts=True)
    return dict(Cutout.objects.filter(survey=survey, name__in=names).values_list("name", "id"))


def _shared_files(survey: Survey, prepared: ml.PreparedCutout) -> tuple[str, str, str]:
    """The stored files of a cutout of ``survey`` with exactly these pixels, or a new set."""
    for row in Cutout.objects.filter(survey=survey).values_list("source_file", "image", "pixels")[:5]:
        try:
            if all(default_storage.exists(name) for name in row) and _same_bytes(row[2], prepared.pixels):
                return row
        except OSError:
            continue
    stem = f"{survey.pk}/{uuid.uuid4().hex}"
    extension = {"fits": "fits", "png": "png", "jpeg": "jpg"}[prepared.image.format]
    return tuple(
        default_storage.save(f"cutouts/{folder}/{stem}.{ext}", ContentFile(payload))
        for folder, payload, ext in (
            ("source", prepared.source_bytes, extension),
            ("png", prepared.png, "png"),
            ("pixels", prepared.pixels, "u16"),
        )
    )


def _same_bytes(name: str, payload: bytes) -> bool:
    with default_storage.open(name, "rb") as handle:
        return handle.read(len(payload) + 1) == payload


@transaction.atomic
def synthetic_cutout_create(*, survey: Survey, name: str, image: ml.SkyImage, metadata: dict) -> Cutout:
    """Store a generated source as a cutout flagged synthetic, rendered as real cutouts are (PNG,
    16-bit pixels, contours). It joins no subject set: it is served only once approved."""
    return cutout_create(survey=survey, name=name, prepared=ml.prepare_cutout(image), metadata=metadata, synthetic=True)


def cutout_upload(
    *,
    survey_name: str,
    filename: str,
    raw: bytes,
    name: str | None = None,
    ra_deg: float | None = None,
    dec_deg: float | None = None,
    label: str | None = None,
    workflow_id: int | None = None,
) -> Cutout:
    """One file sent through the browser or the API; a bad file raises InvalidInput naming it."""
    try:
        prepared = ml.prepare_cutout(ml.read_cutout_image(raw), source_bytes=raw)
    except ml.ImageReadError as exc:
        raise InvalidInput(f"{filename}: {exc}", field="file") from exc
    survey = survey_get_or_create(name=survey_name)
    cutout = cutout_create(
        survey=survey,
        name=name or filename.rsplit(".", 1)[0],
        prepared=prepared,
        ra_deg=ra_deg,
        dec_deg=dec_deg,
        metadata={"file": filename, **({"label": label} if label else {})},
        subject_set=target_subject_set(survey, None, workflow_id),
    )
    complexity_percentiles_update(survey=survey)
    cutout.refresh_from_db()
    return cutout


def ingest_image_files(
    *,
    survey_name: str,
    paths: list[str],
    catalogue: str | None = None,
    subject_set_name: str | None = None,
    workflow_id: int | None = None,
    import_roots_only: bool = False,
    progress: Progress = _no_progress,
) -> JobReport:
    """FITS, PNG or JPEG cutouts from disk; a catalogue gives name, ra, dec and label per file.

    ``import_roots_only`` (jobs started through the API): a file found in a folder whose real
    path leaves the import roots (a symlink out of them) is refused, not read.
    """
    files = expand_paths(paths)
    rows = _catalogue_by_file(read_catalogue(catalogue)) if catalogue else {}
    survey = survey_get_or_create(name=survey_name)
    subject_set = target_subject_set(survey, subject_set_name, workflow_id)
    report = JobReport()
    progress(0, len(files), f"ingesting {len(files)} file(s) into {survey.name}")
    for done, path in enumerate(files, start=1):
        row = rows.get(path.name) or rows.get(path.stem)
        if rows and row is None:
            report.notes.append(f"{path}: not in the catalogue; position taken from its WCS if any")
        if import_roots_only and not is_under_import_roots(path):
            report.failed += 1
            report.errors.append(f"{path}: refused, it leads outside the import roots")
        else:
            _ingest_one(report, survey, subject_set, path, row)
        progress(done, len(files), f"{path.name}")
    complexity_percentiles_update(survey=survey)
    return report


def _ingest_one(report: JobReport, survey, subject_set, path: Path, row: CatalogueRow | None) -> None:
    try:
        raw = path.read_bytes()
        image = ml.read_cutout_image(raw)
        prepared = ml.prepare_cutout(image, source_bytes=raw)
        metadata = {"file": path.name}
        if row and row.label:
            metadata["label"] = row.label
        cutout = cutout_create(
            survey=survey,
            name=row.name if row else path.stem,
            prepared=prepared,
            ra_deg=row.ra_deg if row else None,
            dec_deg=row.dec_deg if row else None,
            metadata=metadata,
            subject_set=subject_set,
        )
    except Conflict as exc:
        report.skipped += 1
        report.notes.append(str(exc))
        return
    except (ml.ImageReadError, InvalidInput, OSError) as exc:
        report.failed += 1
        report.errors.append(f"{path}: {exc}")
        return
    report.created += 1
    report.cutout_ids.append(cutout.pk)
    report.notes.extend(f"{path.name}: {note}" for note in image.notes)


def ingest_mosaic(
    *,
    survey_name: str,
    mosaic: str,
    catalogue: str,
    size_arcsec: float,
    subject_set_name: str | None = None,
    workflow_id: int | None = None,
    progress: Progress = _no_progress,
) -> JobReport:
    """Cut each catalogue source out of a FITS mosaic (astropy Cutout2D), keeping its WCS."""
    if not size_arcsec or size_arcsec <= 0:
        raise InvalidInput(f"--size must be a positive number of arcseconds, not {size_arcsec}")
    rows = read_catalogue(catalogue)
    sources = [ml.SourcePosition(r.name, r.ra_deg, r.dec_deg) for r in rows]
    try:
        results = ml.mosaic_cutouts(mosaic, sources, size_arcsec)
    except ml.ImageReadError as exc:
        raise InvalidInput(str(exc)) from exc
    survey = survey_get_or_create(name=survey_name)
    subject_set = target_subject_set(survey, subject_set_name, workflow_id)
    by_name = {r.name: r for r in rows}
    report = JobReport()
    progress(0, len(rows), f"cutting {len(rows)} source(s) from {Path(mosaic).name}")
    for done, result in enumerate(results, start=1):
        row = by_name[result.source.name]
        if result.image is None:
            report.failed += 1
            report.errors.append(f"{catalogue} row {row.row} ({row.name}): {result.error}")
        else:
            try:
                cutout = cutout_create(
                    survey=survey,
                    name=row.name,
                    prepared=ml.prepare_cutout(result.image),
                    ra_deg=row.ra_deg,
                    dec_deg=row.dec_deg,
                    metadata={"mosaic": Path(mosaic).name, **({"label": row.label} if row.label else {})},
                    subject_set=subject_set,
                )
                report.created += 1
                report.cutout_ids.append(cutout.pk)
            except Conflict as exc:
                report.skipped += 1
                report.notes.append(str(exc))
        progress(done, len(rows), row.name)
    complexity_percentiles_update(survey=survey)
    return report


def target_subject_set(survey: Survey, name: str | None, workflow_id: int | None):
    subject_set = subject_set_get_or_create(survey=survey, display_name=name or f"{survey.name} cutouts")
    if workflow_id is not None:
        workflow = Workflow.objects.filter(pk=workflow_id).first()
        if workflow is None:
            raise InvalidInput(f"workflow {workflow_id} does not exist")
        workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
    return subject_set


def expand_paths(paths: list[str]) -> list[Path]:
    """The files named, folders walked (hidden files left out); InvalidInput for a missing path."""
    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInput(f"{path}: no such file or folder")
    if not files:
        raise InvalidInput("no files to ingest")
    return files


def _catalogue_by_file(rows: list[CatalogueRow]) -> dict[str, CatalogueRow]:
    return {(row.file or row.name): row for row in rows}
