"""Readers for Radio Galaxy Zoo EMU's published files (Text2Tag layout), plain csv + json."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Description:
    description_id: str  # classification id
    user_id: str
    source_id: str  # subject id
    text: str


class CorpusError(ValueError):
    """A file that cannot be read; the message names the file and row."""


def read_descriptions(path: str | Path, *, last_per_user: bool = True) -> list[Description]:
    """Rows of an ``english_annotations.csv``-layout file (columns classification_id, user_id,
    annotations, subject_ids); with ``last_per_user`` only each volunteer's last description of a
    source (the published encoding, step 6)."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"{path}: {exc.strerror or exc}") from exc
    rows: list[Description] = []
    with handle:
        reader = csv.DictReader(handle)
        need = {"classification_id", "annotations", "subject_ids"}
        missing = need - set(reader.fieldnames or [])
        if missing:
            raise CorpusError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for n, row in enumerate(reader, start=2):
            text, subject = row.get("annotations"), (row.get("subject_ids") or "").strip()
            if text is None or not subject:
                raise CorpusError(f"{path} row {n}: no annotation or no subject id")
            rows.append(
                Description(
                    description_id=row["classification_id"].strip(),
                    user_id=(row.get("user_id") or "").strip(),
                    source_id=subject.split(";")[0],
                    text=text,
                )
            )
    if not last_per_user:
        return rows
    last: dict[tuple[str, str], Description] = {}
    for row in sorted(rows, key=lambda r: int(r.description_id) if r.description_id.isdigit() else 0):
        last[(row.user_id or row.description_id, row.source_id)] = row
    return sorted(last.values(), key=lambda r: (r.source_id, r.description_id))


def read_expert_classes(path: str | Path, task: str = "T0") -> list[tuple[str, list[str]]]:
    """(subject id, classes) per classification of a Zooniverse export whose ``task`` is a
    multiple-choice tag list (``expert_classifications_anon.csv``)."""
    out = []
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=2):
            try:
                annotations = json.loads(row["annotations"])
            except (KeyError, json.JSONDecodeError) as exc:
                raise CorpusError(f"{path} row {n}: annotations are not JSON ({exc})") from exc
            classes = []
            for a in annotations:
                if a.get("task") == task and isinstance(a.get("value"), list):
                    classes += [str(v) for v in a["value"]]
            out.append((row["subject_ids"].strip(), classes))
    return out
