"""Importing Zooniverse exports: idempotent, streaming, row-level error reports.

Each classification keeps Zooniverse's id as its idempotency key ("zooniverse:<id>"), so the
same file imported twice adds nothing and an overlapping export adds only its new rows. Rows
are read and written in batches: memory stays flat whatever the export's length.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils.dateparse import parse_datetime

from annotations.drawing import export_marks_problem
from annotations.models import Classification, SubjectWorkflowStatus, Workflow, WorkflowVersion
from annotations.services import workflow_current_versions_repair
from core.bulk import insert_sharing
from core.errors import InvalidInput

from . import export_encoding, export_reader, staged_import
from .batch_writer import classifications_insert
from .models import ZooniverseWorkflow
from .subjects import SubjectMapping, subjects_resolve

BATCH = 2000
MAX_REPORTED = 1000


@dataclass
class ImportReport:
    imported: int = 0
    already_there: int = 0
    bad_rows: list[str] = field(default_factory=list)
    bad_count: int = 0
    placeholders: list[int] = field(default_factory=list)
    workflows: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)  # the file was read, with something to say about it
    encoding: export_encoding.EncodingRepairs = field(default_factory=export_encoding.EncodingRepairs)

    def bad(self, item: export_reader.BadRow | str) -> None:
        self.bad_count += 1
        if len(self.bad_rows) < MAX_REPORTED:
            self.bad_rows.append(str(item))

    @property
    def valid(self) -> int:
        return self.imported + self.already_there

    def merge(self, other: ImportReport) -> None:
        """Add the report of a later part of the same file (a chunk imported on another connection)."""
        self.imported += other.imported
        self.already_there += other.already_there
        self.bad_count += other.bad_count
        self.bad_rows.extend(other.bad_rows[: max(0, MAX_REPORTED - len(self.bad_rows))])
        # Two chunks on two connections may both meet a subject: the one placeholder counts once.
        made = set(self.placeholders)
        self.placeholders.extend(zid for zid in other.placeholders if zid not in made)
        self.workflows |= other.workflows
        self.warnings.extend(other.warnings)
        self.encoding.merge(other.encoding)


class _Catalogue:
    """Workflows and versions met so far (cached; created on first sight); subjects resolved in bulk
    (not cached: an export holds about one subject per 15 rows, and memory must stay flat)."""

    def __init__(self, known_versions: dict[int, set[tuple[int, int]]], subject_metadata: dict[int, dict]):
        self.known_versions = known_versions  # from a workflow export, when one was given
        self.subject_metadata = subject_metadata
        self.workflows: dict[int, Workflow] = {}
        self.versions: dict[tuple[int, int, int], WorkflowVersion] = {}

    def fresh(self) -> _Catalogue:
        """The same inputs, nothing cached: for another connection, which must not reuse rows this
        one made in a transaction it has not committed."""
        return _Catalogue(self.known_versions, self.subject_metadata)

    def forget(self) -> None:
        """Drop what was cached (after a rollback the cached rows may no longer exist)."""
        self.workflows, self.versions = {}, {}

    def workflow(self, zooniverse_id: int, name: str) -> Workflow:
        if zooniverse_id not in self.workflows:
            self.workflows[zooniverse_id] = workflow_for(zooniverse_id, name)
        return self.workflows[zooniverse_id]

    def version(self, workflow: Workflow, zooniverse_id: int, version: tuple[int, int] | None) -> WorkflowVersion:
        major, minor = version or (1, 0)
        key = (zooniverse_id, major, minor)
        if key not in self.versions:
            self.versions[key], _ = WorkflowVersion.objects.get_or_create(
                workflow=workflow, major=major, minor=minor, defaults={"tasks": {}, "strings": {}}
            )
        return self.versions[key]

    def subject_metadata_of(self, zooniverse_id: int, subject_data: dict) -> dict:
        """What the subject export and the row's subject_data say of a subject (the export's own
        retirement state left out: the platform counts its own)."""
        own = subject_data.get(str(zooniverse_id), {})
        metadata = {**self.subject_metadata.get(zooniverse_id, {}), **(own if isinstance(own, dict) else {})}
        metadata.pop("retired", None)
        return metadata

    def subjects(self, wanted: dict[int, dict], report: ImportReport) -> dict[int, SubjectMapping]:
        """Mappings for {subject id: the subject_data of a row naming it}, made in bulk when new."""
        mappings, placeholders = subjects_resolve(
            {zid: self.subject_metadata_of(zid, data) for zid, data in wanted.items()}
        )
        report.placeholders.extend(placeholders)
        return mappings


def workflow_for(zooniverse_id: int, name: str) -> Workflow:
    """The platform workflow standing for a Zooniverse one (inactive: volunteers classify on Zooniverse)."""
    link = ZooniverseWorkflow.objects.select_related("workflow").filter(zooniverse_id=zooniverse_id).first()
    if link:
        return link.workflow
    with transaction.atomic():
        workflow = Workflow.objects.create(
            display_name=f"{name or 'workflow'} (Zooniverse {zooniverse_id})",
            active=False,
            retirement={
                "criteria": "classification_count",
                "options": {"count": settings.RGZ_DEFAULT_RETIREMENT_COUNT},
            },
        )
        ZooniverseWorkflow.objects.create(zooniverse_id=zooniverse_id, display_name=name, workflow=workflow)
    return workflow


def import_workflows(path: str | Path) -> dict[int, set[tuple[int, int]]]:
    """Workflow definitions, every version, from a workflow export; returns the versions per workflow."""
    versions: dict[int, set[tuple[int, int]]] = {}
    touched: set[int] = set()
    try:
        rows = list(export_reader.read_workflows(path))
    except (OSError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    for row in rows:
        workflow = workflow_for(row["workflow_id"], row["display_name"])
        WorkflowVersion.objects.update_or_create(
            workflow=workflow,
            major=row["major"],
            minor=row["minor"],
            defaults={"tasks": row["tasks"], "strings": row["strings"], "first_task": row["first_task"]},
        )
        if row["retirement"]:
            Workflow.objects.filter(pk=workflow.pk).update(retirement=row["retirement"])
            ZooniverseWorkflow.objects.filter(workflow=workflow).update(retirement=row["retirement"])
        versions.setdefault(row["workflow_id"], set()).add((row["major"], row["minor"]))
        touched.add(workflow.pk)
    workflow_current_versions_repair(workflow_ids=touched)
    return versions


def import_classifications(
    *,
    classifications: str | Path,
    workflows: str | Path | None = None,
    subjects: str | Path | None = None,
    progress: Callable[[int, int, str], None] = lambda *a: None,
    workers: int | None = None,
) -> ImportReport:
    path = Path(classifications)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    known_versions = import_workflows(workflows) if workflows else {}
    subject_metadata: dict[int, dict] = {}
    if subjects:
        try:
            subject_metadata = dict(export_reader.read_subjects(subjects))
        except (OSError, ValueError) as exc:
            raise InvalidInput(str(exc)) from exc
    catalogue = _Catalogue(known_versions, subject_metadata)
    report = ImportReport()
    size = path.stat().st_size or 1
    try:
        with path.open("rb") as raw:
            first_line = raw.readline()
        header = _header(first_line, path, report)
        if connection.vendor == "postgresql" and staged_import.usable(header):

            def careful(chunk: staged_import.Chunk, catalogue: _Catalogue, report: ImportReport) -> None:
                text = io.StringIO(chunk.data.decode("utf-8"), newline="")
                records = export_reader.read_classification_stream(
                    text, str(path), header=header, first_row=chunk.first_row, repairs=report.encoding
                )
                _store_stream(records, catalogue, report)

            staged_import.staged_import(
                path,
                header,
                len(first_line),
                catalogue,
                report,
                fallback=careful,
                progress=progress,
                workers=workers,
            )
        else:
            with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
                next(handle)  # the header, read above
                records = export_reader.read_classification_stream(
                    handle, name=str(path), header=header, repairs=report.encoding
                )
                _store_stream(
                    records,
                    catalogue,
                    report,
                    on_batch=lambda: progress(min(size, handle.buffer.tell()), size, f"{report.imported} imported"),
                )
    except ValueError as exc:  # UnicodeDecodeError included
        raise InvalidInput(f"{path}: {exc}" if str(path) not in str(exc) else str(exc)) from exc
    report.warnings.extend(report.encoding.warnings(str(path)))
    _recount(report)
    workflow_current_versions_repair(workflow_ids=report.workflows)
    progress(size, size, f"{report.imported} imported")
    return report


def _header(first_line: bytes, path: Path, report: ImportReport) -> list[str]:
    """The export's column names; invalid bytes in them are replaced and reported like any cell's."""
    text = export_encoding.decode_lenient(first_line).removeprefix("\ufeff")
    if export_encoding.has_escapes(text):
        report.encoding.note("header", 1)
        text = export_encoding.repair(text)
    header = export_reader.read_header(text, str(path))
    if "classification_id" not in (name.strip() for name in next(csv.reader([text]))):
        report.warnings.append(f"{path}: 2015 layout, column id read as classification_id")
    return header


def _store_stream(records, catalogue: _Catalogue, report: ImportReport, on_batch=lambda: None) -> None:
    """The row-by-row path: parse each record in Python, store in batches."""
    batch: list[export_reader.ExportClassification] = []
    for record in records:
        if isinstance(record, export_reader.BadRow):
            report.bad(record)
            continue
        batch.append(record)
        if len(batch) >= BATCH:
            _store(batch, catalogue, report)
            batch = []
            on_batch()
    _store(batch, catalogue, report)


def _store(batch: list[export_reader.ExportClassification], catalogue: _Catalogue, report: ImportReport) -> None:
    if not batch:
        return
    keys = {f"zooniverse:{r.classification_id}": r for r in batch}
    stored = set(Classification.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    wanted = {}
    for key, record in keys.items():
        if key not in stored:
            wanted.setdefault(record.subject_ids[0], record.subject_data)
    subjects = catalogue.subjects(wanted, report)
    rows = []
    for key, record in keys.items():
        if key in stored:
            report.already_there += 1
            continue
        known = catalogue.known_versions.get(record.workflow_id)
        if known is not None and record.version is not None and record.version not in known:
            report.bad(
                export_reader.BadRow(
                    record.row,
                    f"unknown workflow version {record.version[0]}.{record.version[1]} "
                    f"of workflow {record.workflow_id}",
                )
            )
            continue
        workflow = catalogue.workflow(record.workflow_id, record.workflow_name)
        version = catalogue.version(workflow, record.workflow_id, record.version)
        problem = export_marks_problem(record.annotations, version.tasks)
        if problem:
            report.bad(export_reader.BadRow(record.row, problem))
            continue
        subject = subjects[record.subject_ids[0]]
        report.workflows.add(workflow.pk)
        rows.append(_classification(record, workflow, version, subject))
    classifications_insert(rows)
    report.imported += len(rows)


def _classification(record, workflow, version, subject) -> Classification:
    finished = _timestamp(record.metadata.get("finished_at")) or _timestamp(record.created_at)
    return Classification(
        workflow=workflow,
        workflow_version=version,
        subject_id=subject.cutout_id,
        volunteer_key=record.volunteer_key,
        annotations=record.annotations,
        gold_standard=record.gold_standard,
        expert=record.expert,
        started_at=_timestamp(record.metadata.get("started_at")),
        finished_at=finished,
        user_agent=str(record.metadata.get("user_agent") or "")[:512],
        idempotency_key=f"zooniverse:{record.classification_id}",
        source="zooniverse",
        metadata={
            **record.metadata,
            "zooniverse": {
                "classification_id": record.classification_id,
                "workflow_id": record.workflow_id,
                "subject_ids": record.subject_ids,
                "created_at": record.created_at,
                "row": record.row,
                "annotation_format": "export",  # question answers as label text, as Zooniverse exports them
                "subject_data": record.subject_data,
            },
        },
    )


def _timestamp(text) -> datetime | None:
    if not text:
        return None
    parsed = parse_datetime(str(text).replace(" UTC", "+00:00"))
    return parsed


@transaction.atomic
def _recount(report: ImportReport) -> None:
    """Classification counts per subject for the imported workflows (Zooniverse's retirement input)."""
    for workflow_id in report.workflows:
        counts = Classification.objects.filter(workflow_id=workflow_id).values("subject_id").annotate(n=Count("id"))
        existing = {s.subject_id: s for s in SubjectWorkflowStatus.objects.filter(workflow_id=workflow_id)}
        new, changed = [], []
        for row in counts:
            status = existing.get(row["subject_id"])
            if status is None:
                new.append(
                    SubjectWorkflowStatus(
                        workflow_id=workflow_id, subject_id=row["subject_id"], classification_count=row["n"]
                    )
                )
            elif status.classification_count != row["n"]:
                status.classification_count = row["n"]
                changed.append(status)
        # One statement on PostgreSQL (about one subject per 15 rows: tens of thousands in a large export).
        varying = ("subject", "classification_count", "random_key")
        insert_sharing(SubjectWorkflowStatus, new, varying=varying, ignore_conflicts=False)
        SubjectWorkflowStatus.objects.bulk_update(changed, ["classification_count"], batch_size=1000)
