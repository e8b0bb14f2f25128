"""Writing Zooniverse-format exports (classification, subject, workflow) that Zooniverse's own
tools, such as panoptes_aggregation, read unchanged. Rows are streamed: no export is held whole."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator

from annotations.drawing import annotations_with_sky, has_marks
from annotations.models import Classification, SubjectWorkflowStatus, Workflow, WorkflowVersion

from .export_reader import CLASSIFICATION_COLUMNS, SUBJECT_COLUMNS, WORKFLOW_COLUMNS


class _Echo:
    """A write-through 'file' for csv.writer, so rows can be streamed as strings."""

    def write(self, value: str) -> str:
        return value


def _timestamp(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _hash(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:20]


def export_tasks(version: WorkflowVersion) -> tuple[dict, dict]:
    """Tasks and strings in Zooniverse's layout: a tag-pick task becomes a multiple-answer question."""
    tasks, strings = {}, dict(version.strings)
    for key, task in version.tasks.items():
        task = dict(task)
        if task.get("type") == "tags":
            task["type"], task["question"] = "multiple", task.get("instruction", f"{key}.instruction")
            task["answers"] = []
            for i, tag in enumerate(task.pop("tags", [])):
                strings[f"{key}.answers.{i}.label"] = tag
                task["answers"].append({"label": f"{key}.answers.{i}.label"})
            task.pop("instruction", None)
        if task.get("type") == "drawing":
            task["tools"] = [{"details": [], **tool} for tool in task.get("tools", [])]
        tasks[key] = task
    return tasks, strings


def export_annotations(classification: Classification, tasks: dict, strings: dict) -> list[dict]:
    """The platform's answers (indices, text, tag names) as Zooniverse exports them (label text)."""
    if classification.source == "zooniverse":
        return classification.annotations  # already in the export's shape
    out = []
    annotations = classification.annotations
    if has_marks(tasks):
        annotations = annotations_with_sky(annotations, tasks, classification.subject)
    for item in annotations:
        task = tasks.get(item["task"], {})
        label_key = task.get("question") or task.get("instruction") or ""
        value = item["value"]
        answers = [strings.get(a["label"], a["label"]) for a in task.get("answers", [])]
        if task.get("type") == "single" and isinstance(value, int) and value < len(answers):
            value = answers[value]
        elif task.get("type") == "multiple" and isinstance(value, list):
            value = [answers[v] if isinstance(v, int) and v < len(answers) else v for v in value]
        elif task.get("type") == "drawing" and isinstance(value, list):
            value = [_zooniverse_mark(mark, task, strings) for mark in value]
        out.append({"task": item["task"], "task_label": strings.get(label_key, label_key), "value": value})
    return out


def _zooniverse_mark(mark: dict, task: dict, strings: dict) -> dict:
    """A mark as Zooniverse's classifier (v1) writes it: tool index, frame, details and the tool's label."""
    tools = task.get("tools", [])
    label = tools[mark["tool"]].get("label", "") if 0 <= mark.get("tool", -1) < len(tools) else ""
    return {**mark, "frame": 0, "details": [], "tool_label": strings.get(label, label)}


def _retired(status: SubjectWorkflowStatus | None) -> dict | None:
    if status is None or status.retired_at is None:
        return None
    return {
        "classifications_count": status.classification_count,
        "retired_at": status.retired_at.isoformat(),
        "retirement_reason": status.retirement_reason,
        "subject_id": status.subject_id,
        "workflow_id": status.workflow_id,
    }


def classification_rows(workflow: Workflow) -> Iterator[list]:
    versions = {v.pk: (v, *export_tasks(v)) for v in WorkflowVersion.objects.filter(workflow=workflow)}
    statuses = {s.subject_id: s for s in SubjectWorkflowStatus.objects.filter(workflow=workflow)}
    rows = (
        Classification.objects.filter(workflow=workflow)
        .select_related("subject", "user")
        .order_by("id")
        .iterator(chunk_size=2000)
    )
    for c in rows:
        version, tasks, strings = versions[c.workflow_version_id]
        if c.user_id:
            user_name, user_id = f"volunteer-{_hash('user', c.user_id)}", c.user_id
        else:
            user_name, user_id = f"not-logged-in-{_hash('anon', c.volunteer_key)}", ""
        metadata = {k: v for k, v in c.metadata.items() if k != "zooniverse"} | {
            "source": c.metadata.get("source", "rgzplatform"),
            "started_at": c.started_at.isoformat() if c.started_at else None,
            "finished_at": c.finished_at.isoformat() if c.finished_at else None,
            "user_agent": c.user_agent,
        }
        if c.realism:  # the blinded "real or generated?" answer
            metadata["realism"] = c.realism
        subject_data = {str(c.subject_id): {"retired": _retired(statuses.get(c.subject_id)), **_subject_metadata(c)}}
        yield [
            c.pk,
            user_name,
            user_id,
            _hash("ip", c.volunteer_key),
            workflow.pk,
            workflow.display_name,
            version.label,
            _timestamp(c.finished_at or c.created_at),
            "true" if c.gold_standard else "",
            "expert" if c.expert else "",
            json.dumps(metadata),
            json.dumps(export_annotations(c, tasks, strings)),
            json.dumps(subject_data),
            c.subject_id,
        ]


def synthetic_flag(cutout) -> dict:
    """Hidden metadata of a generated subject (``#synthetic``); nothing for an observed one."""
    return {"#synthetic": True} if cutout.synthetic else {}


def _subject_metadata(classification: Classification) -> dict:
    subject = classification.subject
    metadata = {k: v for k, v in subject.metadata.items() if k != "label"}
    metadata.update({"name": subject.name, "#rgz_cutout_id": subject.pk, **synthetic_flag(subject)})
    if subject.ra_deg is not None:
        metadata.update({"ra": subject.ra_deg, "dec": subject.dec_deg})
    return metadata


def subject_rows(workflow: Workflow, base_url: str = "") -> Iterator[list]:
    statuses = SubjectWorkflowStatus.objects.filter(workflow=workflow).select_related("subject").order_by("subject_id")
    for status in statuses.iterator(chunk_size=2000):
        subject = status.subject
        subject_sets = list(subject.subject_sets.values_list("pk", flat=True)) or [""]
        metadata = {k: v for k, v in subject.metadata.items() if k != "label"}
        metadata.update({"name": subject.name, "#rgz_cutout_id": subject.pk, "#priority": subject.priority})
        metadata.update(synthetic_flag(subject))
        for subject_set in subject_sets:
            yield [
                subject.pk,
                "",
                workflow.pk,
                subject_set,
                json.dumps(metadata),
                json.dumps({"0": f"{base_url}{subject.image.url}" if subject.image else ""}),
                status.classification_count,
                _timestamp(status.retired_at),
                status.retirement_reason,
                _timestamp(subject.created_at),
                _timestamp(subject.created_at),
            ]


def workflow_rows(workflow: Workflow) -> Iterator[list]:
    count = Classification.objects.filter(workflow=workflow).count()
    retired = SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=False).count()
    for version in WorkflowVersion.objects.filter(workflow=workflow).order_by("major", "minor"):
        tasks, strings = export_tasks(version)
        yield [
            workflow.pk,
            workflow.display_name,
            version.major,
            str(workflow.active).lower(),
            count,
            "false",
            "false",
            str(workflow.prioritized).lower(),
            "en",
            version.first_task,
            "",
            retired,
            json.dumps(tasks),
            json.dumps(workflow.retirement or {}),
            json.dumps(strings),
            version.minor,
        ]


def csv_lines(columns, rows: Iterator[list]) -> Iterator[str]:
    """Header then rows as CSV text lines (fields with commas, quotes and newlines quoted)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow(row)


EXPORTS = {
    "classifications": (CLASSIFICATION_COLUMNS, classification_rows),
    "subjects": (SUBJECT_COLUMNS, subject_rows),
    "workflows": (WORKFLOW_COLUMNS, workflow_rows),
}


def export_lines(kind: str, workflow: Workflow) -> Iterator[str]:
    columns, rows = EXPORTS[kind]
    return csv_lines(columns, rows(workflow))
