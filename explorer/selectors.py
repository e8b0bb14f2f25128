"""Reads of the data browser: cutouts filtered across surveys, workflows, labels, tags and classifier
scores, and everything known about one cutout."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import CharField, Count, Exists, F, FloatField, OuterRef, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast

from annotations import selectors as annotation_selectors
from annotations.consensus import QUESTION_TYPES, question_consensus
from annotations.models import Cutout, SubjectSet, SubjectWorkflowStatus, Workflow
from classifiers.models import ClassifierTask
from core.errors import InvalidInput, NotFound
from taxonomy.models import Tag, TagLink

from .filters import BrowseFilters

SORT_FIELDS = {
    "id": "pk",
    "name": "name",
    "created": "created_at",
    "complexity": "complexity_percentile",
    "priority": "priority",
    "uncertainty": "uncertainty",
    "score": "score",
    "classifications": "classification_total",
}


def _score(task: str, *path: str):
    """A number inside ``model_scores[task]`` as a float column (NULL where it is missing)."""
    expression = KeyTransform(task, "model_scores")
    for key in path[:-1]:
        expression = KeyTransform(key, expression)
    return Cast(KeyTextTransform(path[-1], expression), FloatField())


def cutout_browse(*, filters: BrowseFilters) -> QuerySet[Cutout]:
    """The cutouts that pass every filter, in the asked order (ties by id)."""
    rows = Cutout.objects.select_related("survey")
    if filters.survey:
        survey = (
            annotation_selectors.survey_get(survey_id=int(filters.survey))
            if filters.survey.isdigit()
            else annotation_selectors.survey_get(name=filters.survey)
        )
        rows = rows.filter(survey=survey)
    if filters.subject_set is not None:
        if not SubjectSet.objects.filter(pk=filters.subject_set).exists():
            raise NotFound(f"subject set {filters.subject_set} does not exist", field="subject_set")
        rows = rows.filter(subject_sets=filters.subject_set)
    workflow = None
    if filters.workflow is not None:
        workflow = annotation_selectors.workflow_get(workflow_id=filters.workflow)
        rows = rows.filter(workflow_statuses__workflow=workflow)
    if filters.retired is not None:
        statuses = SubjectWorkflowStatus.objects.filter(subject=OuterRef("pk"), retired_at__isnull=False)
        if workflow is not None:
            statuses = statuses.filter(workflow=workflow)
        rows = rows.filter(Exists(statuses)) if filters.retired else rows.exclude(Exists(statuses))
    if filters.label:
        rows = rows.filter(metadata__label=filters.label)
    if filters.synthetic is not None:
        rows = rows.filter(synthetic=filters.synthetic)
    if filters.q:
        rows = rows.filter(name__icontains=filters.q)
    if filters.complexity_min is not None:
        rows = rows.filter(complexity_percentile__gte=filters.complexity_min)
    if filters.complexity_max is not None:
        rows = rows.filter(complexity_percentile__lte=filters.complexity_max)
    rows = _score_filters(rows, filters)
    for name in filters.tags:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            raise NotFound(f"there is no tag {name!r}", field="tag")
        rows = rows.filter(Exists(TagLink.objects.filter(cutout=OuterRef("pk"), tag=tag)))
    if filters.consensus:
        rows = rows.filter(pk__in=_consensus_ids(workflow, filters.consensus, rows))
    return _ordered(rows, filters)


def _score_filters(rows: QuerySet[Cutout], filters: BrowseFilters) -> QuerySet[Cutout]:
    if not filters.task:
        return rows
    task = ClassifierTask.objects.filter(name=filters.task).first()
    if task is None:
        raise NotFound(f"there is no classifier task {filters.task!r}", field="task")
    if filters.score_class and filters.score_class not in task.classes:
        raise InvalidInput(
            f"{filters.score_class!r} is not a class of {task.name} ({', '.join(task.classes)})", field="score_class"
        )
    if filters.prediction and filters.prediction not in task.classes:
        raise InvalidInput(
            f"{filters.prediction!r} is not a class of {task.name} ({', '.join(task.classes)})", field="prediction"
        )
    rows = rows.annotate(uncertainty=_score(task.name, "entropy"))
    if filters.score_class:
        rows = rows.annotate(score=_score(task.name, "probabilities", filters.score_class))
    if filters.prediction:
        predicted = KeyTextTransform("prediction", KeyTransform(task.name, "model_scores"))
        rows = rows.annotate(prediction=Cast(predicted, CharField()))
        rows = rows.filter(prediction=filters.prediction)
    bounds = (
        ("uncertainty__gte", filters.uncertainty_min),
        ("uncertainty__lte", filters.uncertainty_max),
        ("score__gte", filters.score_min),
        ("score__lte", filters.score_max),
    )
    for lookup, value in bounds:
        if value is not None:
            rows = rows.filter(**{lookup: value})
    return rows


def _consensus_ids(workflow: Workflow, answer: str, rows: QuerySet[Cutout]) -> list[int]:
    """Ids of the cutouts whose volunteers' most likely answer to the first question is ``answer``,
    by its value (``FRII``) or its label text; ``none``: no volunteer answered yet."""
    task = first_question(workflow)
    version = annotation_selectors.workflow_current_version(workflow=workflow)
    values = {
        version.strings.get(a["label"], a["label"]).lower(): str(a.get("value", "")).lower()
        for a in version.tasks.get(task, {}).get("answers", [])
    }
    ids = list(rows.values_list("pk", flat=True))
    consensus = question_consensus(workflow=workflow, subject_ids=ids, include_expert=False)
    wanted = answer.strip().lower()
    if wanted == "none":
        return [i for i in ids if (i, task) not in consensus]
    kept = []
    for i in ids:
        result = consensus.get((i, task))
        label = (result.most_likely or "").lower() if result else ""
        if label and wanted in (label, values.get(label)):
            kept.append(i)
    return kept


def first_question(workflow: Workflow) -> str | None:
    version = annotation_selectors.workflow_current_version(workflow=workflow)
    return next((key for key, task in version.tasks.items() if task.get("type") in QUESTION_TYPES), None)


def _ordered(rows: QuerySet[Cutout], filters: BrowseFilters) -> QuerySet[Cutout]:
    key = filters.sort.removeprefix("-")
    if key == "classifications":
        rows = rows.annotate(classification_total=Count("classifications", distinct=True))
    column = F(SORT_FIELDS[key])
    order = column.desc(nulls_last=True) if filters.sort.startswith("-") else column.asc(nulls_last=True)
    return rows.order_by(order, "pk")


def cutout_cards(cutouts: list[Cutout]) -> list[dict]:
    """What a thumbnail in the browser shows besides the image: tags, retirement, counts."""
    ids = [c.pk for c in cutouts]
    tags: dict[int, list[str]] = defaultdict(list)
    for cutout_id, name in (
        TagLink.objects.filter(cutout_id__in=ids).values_list("cutout_id", "tag__name").distinct().order_by("tag__name")
    ):
        if name not in tags[cutout_id]:
            tags[cutout_id].append(name)
    retired = set(
        SubjectWorkflowStatus.objects.filter(subject_id__in=ids, retired_at__isnull=False).values_list(
            "subject_id", flat=True
        )
    )
    counts = dict(Cutout.objects.filter(pk__in=ids).annotate(n=Count("classifications")).values_list("pk", "n"))
    return [
        {"cutout": c, "tags": tags.get(c.pk, []), "retired": c.pk in retired, "classifications": counts.get(c.pk, 0)}
        for c in cutouts
    ]


def browse_choices() -> dict:
    """The lists the browser's filter pickers offer."""
    labels = sorted(
        {
            str(value)
            for value in Cutout.objects.exclude(metadata__label=None)
            .values_list("metadata__label", flat=True)
            .distinct()[:200]
            if value not in (None, "")
        }
    )
    return {
        "surveys": list(annotation_selectors.survey_list().values("id", "name")),
        "subject_sets": list(SubjectSet.objects.select_related("survey").order_by("survey__name", "display_name")),
        "workflows": list(annotation_selectors.workflow_list()),
        "labels": labels,
        "tasks": list(ClassifierTask.objects.order_by("name")),
        "tags": list(Tag.objects.exclude(status=Tag.Status.RETIRED).order_by("name").values_list("name", flat=True)),
    }
