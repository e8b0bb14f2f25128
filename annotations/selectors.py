"""Reads: lists and lookups for pages and the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from core.errors import InvalidInput, NotFound

from .consensus import QUESTION_TYPES, chosen_labels, question_consensus
from .field_guide import OTHER_EXAMPLES_NOTE, answer_help
from .models import (
    Classification,
    Cutout,
    RetirementReason,
    SubjectWorkflowStatus,
    Survey,
    Workflow,
    WorkflowVersion,
)
from .task_definitions import answer_labels


def workflow_get(*, workflow_id) -> Workflow:
    try:
        workflow = Workflow.objects.filter(pk=int(workflow_id)).first()
    except (TypeError, ValueError):
        raise InvalidInput(f"workflow must be an integer id, not {workflow_id!r}", field="workflow")
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} does not exist", field="workflow")
    return workflow


def workflow_current_version(*, workflow: Workflow) -> WorkflowVersion:
    return workflow.versions.get(major=workflow.version_major, minor=workflow.version_minor)


def workflow_list(*, active: bool | None = None) -> QuerySet[Workflow]:
    rows = Workflow.objects.order_by("id")
    return rows if active is None else rows.filter(active=active)


def workflow_first_active() -> Workflow | None:
    """The workflow the home page opens: the oldest active one."""
    return workflow_list(active=True).first()


def survey_list() -> QuerySet[Survey]:
    return Survey.objects.order_by("name")


def survey_list_counted() -> QuerySet[Survey]:
    """Surveys by name, each with ``real_cutouts``: its cutouts less the generated ones, which
    count toward no survey figure."""
    return survey_list().annotate(real_cutouts=Count("cutouts", filter=Q(cutouts__synthetic=False)))


def survey_get(*, survey_id: int | None = None, name: str | None = None) -> Survey:
    """A survey by id or by name."""
    rows = Survey.objects.filter(pk=survey_id) if survey_id is not None else Survey.objects.filter(name=name)
    survey = rows.first()
    if survey is None:
        raise NotFound(f"survey {survey_id if survey_id is not None else repr(name)} does not exist", field="survey")
    return survey


def classification_list(
    *, volunteer_key: str | None = None, workflow: int | None = None, subject: int | None = None
) -> QuerySet[Classification]:
    """Classifications oldest first; only one volunteer's when ``volunteer_key`` is given."""
    rows = Classification.objects.select_related("workflow_version", "subject").order_by("id")
    if volunteer_key is not None:
        rows = rows.filter(volunteer_key=volunteer_key)
    if workflow is not None:
        rows = rows.filter(workflow_id=workflow)
    if subject is not None:
        rows = rows.filter(subject_id=subject)
    return rows


def subject_status_list(
    *, workflow: int | None = None, subject: int | None = None, retired: bool | None = None
) -> QuerySet[SubjectWorkflowStatus]:
    rows = SubjectWorkflowStatus.objects.order_by("workflow_id", "subject_id")
    if workflow is not None:
        rows = rows.filter(workflow_id=workflow)
    if subject is not None:
        rows = rows.filter(subject_id=subject)
    if retired is not None:
        rows = rows.filter(retired_at__isnull=not retired)
    return rows


def cutout_list(
    *,
    survey: str | None = None,
    workflow: int | None = None,
    retired: bool | None = None,
    synthetic: bool | None = None,
    servable_only: bool = False,
) -> QuerySet[Cutout]:
    """Cutouts filtered by survey name or id, synthetic flag, and retirement (in one or any workflow);
    ``servable_only`` leaves out generated cutouts no astronomer has approved (what volunteers see)."""
    rows = Cutout.objects.select_related("survey").prefetch_related("layers").order_by("id")
    if servable_only:
        rows = rows.filter(servable_cutouts())
    if survey:
        rows = rows.filter(survey__pk=int(survey)) if str(survey).isdigit() else rows.filter(survey__name=survey)
    if synthetic is not None:
        rows = rows.filter(synthetic=synthetic)
    if retired is not None:
        statuses = SubjectWorkflowStatus.objects.filter(subject=OuterRef("pk"), retired_at__isnull=False)
        if workflow is not None:
            statuses = statuses.filter(workflow_id=workflow)
        rows = rows.filter(Exists(statuses)) if retired else rows.exclude(Exists(statuses))
    elif workflow is not None:
        rows = rows.filter(workflow_statuses__workflow_id=workflow)
    return rows


def servable_cutouts() -> Q:
    """Real cutouts, and generated ones an astronomer approved: the review marks them ``#approved``
    and puts them in queues; a rejection marks them and retires them there by hand."""
    queued = SubjectWorkflowStatus.objects.filter(subject=OuterRef("pk")).exclude(
        retirement_reason=RetirementReason.HUMAN
    )
    reviewed = Q(metadata__has_key="#approved")
    # queued without a review mark: placed in a workflow by other means (an import, a script)
    return Q(synthetic=False) | Q(**{"metadata__#approved": True}) | (Q(Exists(queued)) & ~reviewed)


def cutout_get(*, cutout_id, servable_only: bool = False) -> Cutout:
    """One cutout; with ``servable_only`` a generated one waiting for review or rejected is not
    found, as for volunteers it does not exist."""
    rows = Cutout.objects.select_related("survey").filter(pk=cutout_id)
    cutout = (rows.filter(servable_cutouts()) if servable_only else rows).first()
    if cutout is None:
        raise NotFound(f"cutout {cutout_id} does not exist")
    return cutout


def volunteer_classification_count(*, volunteer_key: str, workflow: Workflow | None = None) -> int:
    rows = Classification.objects.filter(volunteer_key=volunteer_key)
    if workflow is not None:
        rows = rows.filter(workflow=workflow)
    return rows.count()


def field_guide(*, workflow: Workflow, per_answer: int = 3) -> list[dict]:
    """Per answer of the workflow's first question: its label, help text and example cutouts.

    Examples are cutouts labelled with the answer's value; "Something else", which no catalogue
    labels, shows the workflow's most complex cutouts instead.
    """
    version = workflow_current_version(workflow=workflow)
    task = version.tasks.get(version.first_task, {})
    in_workflow = Cutout.objects.filter(workflow_statuses__workflow=workflow).select_related("survey")
    guide = []
    for answer in task.get("answers", []):
        value = answer.get("value")
        examples = list(in_workflow.filter(metadata__label=value).order_by("id")[:per_answer]) if value else []
        note = ""
        if not examples and value == "Other":
            examples = list(in_workflow.order_by(F("complexity").desc(nulls_last=True), "id")[:per_answer])
            note = OTHER_EXAMPLES_NOTE if examples else ""
        guide.append(
            {
                "label": version.strings.get(answer["label"], answer["label"]),
                "help": answer_help(
                    value=value, strings=version.strings, help_key=answer["label"].removesuffix(".label") + ".help"
                ),
                "examples": examples,
                "note": note,
            }
        )
    return guide


def volunteer_recent_classifications(*, volunteer_key: str, limit: int = 50) -> list[dict]:
    """The volunteer's newest classifications with their answers in words, newest first."""
    rows = (
        Classification.objects.filter(volunteer_key=volunteer_key)
        .select_related("subject", "workflow", "workflow_version")
        .order_by("-id")[:limit]
    )
    recent = []
    for row in rows:
        tasks, strings = row.workflow_version.tasks, row.workflow_version.strings
        answers = []
        for item in row.annotations:
            task = tasks.get(item.get("task"), {})
            labels = answer_labels(task, strings)
            value = item.get("value")
            if task.get("type") == "single" and isinstance(value, int) and 0 <= value < len(labels):
                answers.append(labels[value])
            elif task.get("type") == "multiple" and isinstance(value, list):
                answers.extend(labels[v] for v in value if isinstance(v, int) and 0 <= v < len(labels))
            elif task.get("type") == "tags" and isinstance(value, list):
                answers.append("tags: " + ", ".join(value))
            elif isinstance(value, str):
                answers.append(f"“{value}”")
        recent.append({"classification": row, "subject": row.subject, "workflow": row.workflow, "answers": answers})
    return recent


def workflow_progress(*, workflow: Workflow) -> dict:
    # gold-standard subjects never retire and generated ones are no sky sources: neither is part
    # of the workflow's progress
    statuses = SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=False, subject__synthetic=False)
    return {
        "subjects": statuses.count(),
        "retired": statuses.filter(retired_at__isnull=False).count(),
        "classifications": Classification.objects.filter(
            workflow=workflow, expert=False, subject__synthetic=False
        ).count(),
    }


@dataclass(frozen=True)
class FreeTextAnswer:
    """One volunteer's description of one subject (a text task's answer)."""

    classification_id: int
    subject_id: int
    workflow_id: int
    task: str
    text: str
    volunteer_key: str
    user_id: int | None
    source: str
    created_at: datetime


def free_text_answers(
    *,
    workflow: Workflow | None = None,
    subject_ids: list[int] | None = None,
    since_id: int = 0,
    classification_ids: list[int] | None = None,
    chunk: int = 2000,
) -> Iterator[FreeTextAnswer]:
    """Every non-empty answer to a text task, oldest first, streamed in chunks of classifications.

    ``since_id`` gives only answers of classifications with a larger id (for incremental work);
    ``classification_ids`` only those of the classifications named.
    """
    rows = Classification.objects.filter(pk__gt=since_id)
    if classification_ids is not None:
        rows = rows.filter(pk__in=classification_ids)
    if workflow is not None:
        rows = rows.filter(workflow=workflow)
    if subject_ids is not None:
        rows = rows.filter(subject_id__in=subject_ids)
    # Task keys of text tasks per version; None where the version's tasks are unknown (an import
    # without its workflow export), and then every string answer counts as a description.
    text_tasks: dict[int, set[str] | None] = {}
    fields = ("pk", "subject_id", "workflow_id", "workflow_version_id", "annotations", "volunteer_key", "user_id")
    for row in rows.order_by("pk").only(*fields, "source", "created_at").iterator(chunk_size=chunk):
        if row.workflow_version_id not in text_tasks:
            version_tasks = WorkflowVersion.objects.values_list("tasks", flat=True).get(pk=row.workflow_version_id)
            text_tasks[row.workflow_version_id] = (
                {key for key, task in version_tasks.items() if task.get("type") == "text"} if version_tasks else None
            )
        tasks = text_tasks[row.workflow_version_id]
        for annotation in row.annotations or []:
            if not isinstance(annotation, dict) or (tasks is not None and annotation.get("task") not in tasks):
                continue
            text = annotation.get("value")
            if isinstance(text, str) and text.strip():
                yield FreeTextAnswer(
                    classification_id=row.pk,
                    subject_id=row.subject_id,
                    workflow_id=row.workflow_id,
                    task=annotation["task"],
                    text=text.strip(),
                    volunteer_key=row.volunteer_key,
                    user_id=row.user_id,
                    source=row.source,
                    created_at=row.created_at,
                )


def subject_descriptions(*, subject_id: int, workflow: Workflow | None = None) -> list[FreeTextAnswer]:
    """All descriptions of one subject with their (pseudonymous) authors, oldest first."""
    return list(free_text_answers(workflow=workflow, subject_ids=[subject_id]))


def open_subjects_with_consensus(*, workflow: Workflow, limit: int = 25) -> list[dict]:
    """The open subjects with the most classifications, each with its consensus on the first question.

    Counts and agreement follow the retirement rules: volunteers' votes only. An expert label is
    the truth that skill is measured against, not a vote, so it is shown beside them.
    """
    statuses = list(
        SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=True)
        .select_related("subject")
        .order_by("-classification_count", "subject_id")[:limit]
    )
    version = workflow_current_version(workflow=workflow)
    first_question = next((key for key, task in version.tasks.items() if task.get("type") in QUESTION_TYPES), None)
    subject_ids = [s.subject_id for s in statuses]
    consensus = question_consensus(workflow=workflow, subject_ids=subject_ids, include_expert=False)
    experts = expert_answers(workflow=workflow, subject_ids=subject_ids, task=first_question)
    rows = []
    for status in statuses:
        result = consensus.get((status.subject_id, first_question))
        rows.append(
            {
                "subject": status.subject,
                "classifications": status.classification_count,
                "task": first_question,
                "most_likely": result.most_likely if result else None,
                "agreement": result.agreement if result else None,
                "expert": experts.get(status.subject_id),
            }
        )
    return rows


def expert_answers(*, workflow: Workflow, subject_ids: list[int], task: str | None) -> dict[int, str]:
    """Subject id -> the expert answer to one question task (several experts: joined)."""
    if task is None or not subject_ids:
        return {}
    versions = {v.pk: v for v in WorkflowVersion.objects.filter(workflow=workflow)}
    found: dict[int, list[str]] = {}
    rows = Classification.objects.filter(workflow=workflow, subject_id__in=subject_ids, expert=True)
    for subject_id, version_id, answers in rows.values_list("subject_id", "workflow_version_id", "annotations"):
        version = versions[version_id]
        for item in answers or []:
            if isinstance(item, dict) and item.get("task") == task:
                known = found.setdefault(subject_id, [])
                for label in chosen_labels(version.tasks.get(task, {}), version.strings, item.get("value")):
                    if label not in known:
                        known.append(label)
    return {subject_id: ", ".join(labels) for subject_id, labels in found.items() if labels}
