"""Reading Zooniverse export CSVs as a stream: one parsed record or one bad-row report at a time.

Handles the classification export's JSON columns (metadata, annotations, subject_data), fields
holding commas, quotes and newlines, truncated lines, and the reduced layouts some projects
publish (only classification_id, workflow_id, annotations and subject_ids, with the annotation
as plain text). Nothing here touches the database.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .export_encoding import EncodingRepairs, repair_cells

REQUIRED = ("classification_id", "workflow_id", "annotations", "subject_ids")
LEGACY_ID = "id"  # the 2015 layout's name for classification_id
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class BadRow:
    row: int  # record number, the header being row 1
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


# Zooniverse's export columns, in Zooniverse's order.
CLASSIFICATION_COLUMNS = (
    "classification_id",
    "user_name",
    "user_id",
    "user_ip",
    "workflow_id",
    "workflow_name",
    "workflow_version",
    "created_at",
    "gold_standard",
    "expert",
    "metadata",
    "annotations",
    "subject_data",
    "subject_ids",
)
SUBJECT_COLUMNS = (
    "subject_id",
    "project_id",
    "workflow_id",
    "subject_set_id",
    "metadata",
    "locations",
    "classifications_count",
    "retired_at",
    "retirement_reason",
    "created_at",
    "updated_at",
)
WORKFLOW_COLUMNS = (
    "workflow_id",
    "display_name",
    "version",
    "active",
    "classifications_count",
    "pairwise",
    "grouped",
    "prioritized",
    "primary_language",
    "first_task",
    "tutorial_subject_id",
    "retired_set_member_subjects_count",
    "tasks",
    "retirement",
    "strings",
    "minor_version",
)


@dataclass
class ExportClassification:
    row: int
    classification_id: int
    workflow_id: int
    workflow_name: str
    version: tuple[int, int] | None
    volunteer_key: str  # pseudonymous: a hash, never the user name
    created_at: str
    gold_standard: bool
    expert: bool
    annotations: list
    metadata: dict
    subject_data: dict
    subject_ids: list[int] = field(default_factory=list)


def pseudonym(*parts: str) -> str:
    return "zooniverse:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def parse_version(text: str) -> tuple[int, int] | None:
    text = (text or "").strip()
    if not text:
        return None
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def _json_cell(text: str, default):
    text = (text or "").strip()
    if not text:
        return default
    return json.loads(text)


def _annotations(text: str) -> list:
    """The annotations cell: a JSON list, or (in reduced exports) the free text itself."""
    stripped = (text or "").strip()
    if stripped and stripped[0] in "[{":
        value = json.loads(stripped)
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise ValueError("annotations is not a list")
        return value
    return [{"task": "T0", "value": stripped}]


def read_header(line: str, name: str = "export") -> list[str]:
    """The column names of a classification export's first line, checked for the required ones.

    The 2015 layout names the classification id ``id``: it is read as ``classification_id`` when
    that is the only way to read it (one ``id`` column and no ``classification_id``)."""
    header = [h.strip() for h in next(csv.reader([line]), [])]
    if not any(header):
        raise ValueError(f"{name}: the file is empty")
    if "classification_id" not in header and LEGACY_ID in header:
        if header.count(LEGACY_ID) > 1:
            raise ValueError(
                f"{name}: no classification_id column and {header.count(LEGACY_ID)} columns named id: "
                "which one holds the classification id is ambiguous"
            )
        header[header.index(LEGACY_ID)] = "classification_id"
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValueError(f"{name}: not a Zooniverse classification export (missing {', '.join(missing)})")
    return header


def read_classification_stream(
    handle,
    name: str = "export",
    *,
    header: list[str] | None = None,
    first_row: int = 2,
    repairs: EncodingRepairs | None = None,
) -> Iterator[ExportClassification | BadRow]:
    """Yield each record of an open classification export in file order, never holding the file in
    memory (the caller owns the handle, so it can follow ``handle.buffer.tell()`` for progress).

    With ``header`` the handle starts after the header line, at record number ``first_row``.
    With ``repairs`` the handle may be opened with errors="surrogateescape": invalid bytes are
    replaced by U+FFFD and noted there by column and row.
    """
    reader = csv.reader(handle)
    if header is None:
        try:
            header = read_header(next(handle), name)
        except StopIteration:
            raise ValueError(f"{name}: the file is empty") from None
    for number, cells in enumerate(reader, start=first_row):
        if not cells or not any(c.strip() for c in cells):
            continue
        if repairs is not None:
            cells = repair_cells(cells, header, number, repairs)
        if len(cells) != len(header):
            yield BadRow(number, f"truncated or malformed line ({len(cells)} of {len(header)} columns)")
            continue
        yield _record(number, dict(zip(header, cells, strict=True)))


def _record(number: int, cells: dict) -> ExportClassification | BadRow:
    try:
        classification_id = int(cells["classification_id"])
        workflow_id = int(cells["workflow_id"])
    except ValueError:
        return BadRow(number, "classification_id and workflow_id must be integers")
    try:
        subject_ids = [int(s) for s in cells["subject_ids"].replace(",", ";").split(";") if s.strip()]
    except ValueError:
        return BadRow(number, f"subject_ids {cells['subject_ids']!r} are not integers")
    if not subject_ids:
        return BadRow(number, "no subject id")
    try:
        version = parse_version(cells.get("workflow_version", ""))
    except ValueError:
        return BadRow(number, f"workflow_version {cells.get('workflow_version')!r} is not major.minor")
    column = "annotations"
    try:
        annotations = _annotations(cells["annotations"])
        column = "metadata"
        metadata = _json_cell(cells.get("metadata", ""), {})
        column = "subject_data"
        subject_data = _json_cell(cells.get("subject_data", ""), {})
    except (json.JSONDecodeError, ValueError) as exc:
        return BadRow(number, f"broken JSON in {column}: {exc}")
    user_name, user_id = cells.get("user_name", ""), cells.get("user_id", "")
    logged_in = bool(user_id) and not user_name.startswith("not-logged-in")
    volunteer = pseudonym("user", user_id) if logged_in else pseudonym("anon", user_name, cells.get("user_ip", ""))
    return ExportClassification(
        row=number,
        classification_id=classification_id,
        workflow_id=workflow_id,
        workflow_name=cells.get("workflow_name", ""),
        version=version,
        volunteer_key=volunteer,
        created_at=cells.get("created_at", ""),
        gold_standard=cells.get("gold_standard", "").strip().lower() == "true",
        expert=bool(cells.get("expert", "").strip()),
        annotations=annotations,
        metadata=metadata if isinstance(metadata, dict) else {},
        subject_data=subject_data if isinstance(subject_data, dict) else {},
        subject_ids=subject_ids,
    )


def read_workflows(path: str | Path) -> Iterator[dict]:
    """Rows of a workflow export with their JSON columns parsed (one row per workflow version)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                yield {
                    "row": number,
                    "workflow_id": int(row["workflow_id"]),
                    "display_name": row.get("display_name", ""),
                    "major": int(row["version"]),
                    "minor": int(row.get("minor_version") or 0),
                    "first_task": row.get("first_task") or "T0",
                    "tasks": _json_cell(row.get("tasks", ""), {}),
                    "strings": _json_cell(row.get("strings", ""), {}),
                    "retirement": _json_cell(row.get("retirement", ""), {}),
                }
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path} row {number}: not a workflow export row ({exc})") from exc


def read_subjects(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(subject_id, metadata) from a subject export."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                yield int(row["subject_id"]), _json_cell(row.get("metadata", ""), {})
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path} row {number}: not a subject export row ({exc})") from exc
