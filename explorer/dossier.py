"""Everything known about one cutout, for its page: classifications, descriptions, consensus,
tags with their evidence, classifier scores and the workflows it is queued in."""

from __future__ import annotations

from dataclasses import dataclass, field

from annotations.consensus import chosen_labels, question_consensus
from annotations.models import Classification, Cutout, SubjectWorkflowStatus, WorkflowVersion
from annotations.task_definitions import task_text
from classifiers.models import ClassifierTask, ModelVersion
from taxonomy.models import TagLink


@dataclass
class Dossier:
    cutout: Cutout
    classifications: list[dict] = field(default_factory=list)
    consensus: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)
    workflows: list[dict] = field(default_factory=list)
    explain_tasks: list[dict] = field(default_factory=list)


def _answer_text(task: dict, strings: dict, value) -> str:
    if task.get("type") == "text" or isinstance(value, str) and task.get("type") not in {"single", "multiple"}:
        return str(value)
    if task.get("type") == "tags" or isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return ", ".join(chosen_labels(task, strings, value)) or str(value)


def cutout_dossier(*, cutout: Cutout) -> Dossier:
    dossier = Dossier(cutout=cutout)
    versions = {v.pk: v for v in WorkflowVersion.objects.filter(classifications__subject=cutout).distinct()}
    rows = Classification.objects.filter(subject=cutout).select_related("workflow", "user").order_by("created_at", "pk")
    for row in rows:
        version = versions.get(row.workflow_version_id)
        tasks, strings = (version.tasks, version.strings) if version else ({}, {})
        answers = []
        for item in row.annotations or []:
            if not isinstance(item, dict):
                continue
            task = tasks.get(item.get("task"), {})
            if item.get("value") in (None, "", []):
                continue  # an optional task left blank
            answers.append(
                {
                    "task": task_text(task, strings) or item.get("task", ""),
                    "text": _answer_text(task, strings, item.get("value")),
                    "free_text": task.get("type") == "text",
                }
            )
        dossier.classifications.append(
            {
                "id": row.pk,
                "workflow": row.workflow.display_name,
                "who": "expert"
                if row.expert
                else (row.user.username if row.user else f"volunteer …{row.volunteer_key[-6:]}"),
                "source": row.source,
                "created_at": row.created_at,
                "answers": answers,
            }
        )
    statuses = SubjectWorkflowStatus.objects.filter(subject=cutout).select_related("workflow").order_by("workflow_id")
    for status in statuses:
        dossier.workflows.append(
            {
                "workflow": status.workflow,
                "classifications": status.classification_count,
                "retired_at": status.retired_at,
                "reason": status.retirement_reason,
            }
        )
        found = question_consensus(workflow=status.workflow, subject_ids=[cutout.pk], include_expert=False)
        for (_, task_key), result in sorted(found.items(), key=lambda item: item[0][1]):
            dossier.consensus.append(
                {
                    "workflow": status.workflow.display_name,
                    "task": task_key,
                    "most_likely": result.most_likely,
                    "agreement": result.agreement,
                    "votes": result.num_votes,
                    "counts": dict(result.counts.most_common()),
                }
            )
    for link in TagLink.objects.filter(cutout=cutout).select_related("tag").order_by("tag__name", "pk"):
        dossier.tags.append(
            {"name": link.tag.name, "status": link.tag.status, "origin": link.origin, "evidence": link.evidence}
        )
    for name, entry in sorted((cutout.model_scores or {}).items()):
        if not isinstance(entry, dict):
            continue
        probabilities = entry.get("probabilities") or {}
        dossier.scores.append(
            {
                "task": name,
                "prediction": entry.get("prediction"),
                "entropy": entry.get("entropy"),
                "bald": entry.get("bald"),
                "version": entry.get("version"),
                "probabilities": sorted(probabilities.items(), key=lambda kv: -kv[1]),
            }
        )
    # Every task may explain it; one trained on another survey is offered with that said.
    for task in ClassifierTask.objects.select_related("survey").order_by("name"):
        active = task.versions.filter(status=ModelVersion.Status.ACTIVE).first()
        dossier.explain_tasks.append(
            {
                "name": task.name,
                "active": active.number if active else None,
                "other_survey": task.survey.name if task.survey_id != cutout.survey_id else "",
                "classes": list(task.classes or []),
            }
        )
    return dossier
