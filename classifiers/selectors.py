"""Reads: tasks, versions, and the labels and splits a training run uses."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np
from django.db.models import QuerySet

from annotations.consensus import QuestionConsensus, question_consensus
from annotations.models import Classification, Cutout, WorkflowVersion
from annotations.posterior_consensus import posterior_consensus
from core.errors import InvalidInput, NotFound

from .models import ClassifierTask, CutoutFeatures, ModelVersion

logger = logging.getLogger(__name__)
TEST_PERCENT = 15  # of each survey's cutouts, by a hash of the name: the same cutouts for every version
VAL_PERCENT = 15


def task_get(*, name: str) -> ClassifierTask:
    task = ClassifierTask.objects.filter(name=name).select_related("survey", "workflow").first()
    if task is None:
        raise NotFound(f"no classifier task named {name!r}")
    return task


def version_get(*, version_id) -> ModelVersion:
    try:
        version = ModelVersion.objects.select_related("task", "job").filter(pk=int(version_id)).first()
    except (TypeError, ValueError):
        raise InvalidInput(f"a model version id is an integer, not {version_id!r}")
    if version is None:
        raise NotFound(f"model version {version_id} does not exist")
    return version


def task_list() -> QuerySet[ClassifierTask]:
    return ClassifierTask.objects.select_related("survey", "workflow")


def version_list(*, task: ClassifierTask) -> QuerySet[ModelVersion]:
    """A task's versions, newest first."""
    return task.versions.select_related("task", "job")


def versions_unchecked() -> QuerySet[ModelVersion]:
    """Versions with weights whose loading was never checked (trained before the check existed)."""
    return ModelVersion.objects.select_related("task").filter(weights_checked_at__isnull=True).exclude(weights="")


COMPARED = ("accuracy", "macro_f1", "ece", "frechet_distance")


def version_differences(*, a: ModelVersion, b: ModelVersion) -> dict[str, float | None]:
    """Test metrics of b minus those of a (None where either lacks one)."""
    diffs = {}
    for key in COMPARED:
        va, vb = a.metrics.get(key), b.metrics.get(key)
        diffs[key] = None if va is None or vb is None else vb - va
    return diffs


def active_version(*, task: ClassifierTask) -> ModelVersion | None:
    return task.versions.filter(status=ModelVersion.Status.ACTIVE).first()


def cutout_split(*, survey_name: str, name: str) -> str:
    """'test', 'val' or 'train': fixed by a hash of the survey's and the cutout's names (so the same
    on every database the survey is loaded into)."""
    bucket = int(hashlib.sha256(f"{survey_name}:{name}".encode()).hexdigest()[:8], 16) % 100
    if bucket < TEST_PERCENT:
        return "test"
    if bucket < TEST_PERCENT + VAL_PERCENT:
        return "val"
    return "train"


def _answer_values(task: ClassifierTask) -> dict[int, tuple[dict[int, str], dict[str, str]]]:
    """Per workflow version: answer index -> value, and label text or value -> value."""
    out = {}
    for version in WorkflowVersion.objects.filter(workflow=task.workflow):
        answers = version.tasks.get(task.question, {}).get("answers", [])
        by_index, by_text = {}, {}
        for i, answer in enumerate(answers):
            value = str(answer.get("value", answer.get("label")))
            by_index[i] = value
            by_text[value] = value
            by_text[version.strings.get(answer.get("label"), answer.get("label"))] = value
        out[version.pk] = (by_index, by_text)
    return out


def expert_labels(*, task: ClassifierTask) -> dict[int, int]:
    """Cutout id -> class index from expert classifications (the latest one wins)."""
    classes = {value: i for i, value in enumerate(task.classes)}
    values = _answer_values(task)
    labels: dict[int, int] = {}
    rows = Classification.objects.filter(workflow=task.workflow, expert=True, subject__survey=task.survey)
    for subject_id, version_id, answers in rows.values_list("subject_id", "workflow_version_id", "annotations"):
        by_index, by_text = values.get(version_id, ({}, {}))
        for item in answers or []:
            if item.get("task") != task.question:
                continue
            raw = item.get("value")
            value = by_index.get(raw) if isinstance(raw, int) and not isinstance(raw, bool) else by_text.get(raw)
            if value in classes:
                labels[subject_id] = classes[value]
    return labels


def task_consensus(
    *, task: ClassifierTask, subject_ids: list[int] | None = None
) -> dict[tuple[int, str], QuestionConsensus]:
    """The workflow's consensus as the task reads it: vote shares, or (``consensus_method`` posterior)
    the answer most probable under the crowd's confusion on gold subjects. Until volunteers have
    classified gold subjects there is no confusion to read votes through: vote shares then."""
    if task.consensus_method == "posterior":
        try:
            found = posterior_consensus(workflow=task.workflow, task=task.question, subject_ids=subject_ids)
        except InvalidInput as exc:
            logger.warning("classifier task %s: vote consensus instead of posterior (%s)", task.name, exc)
        else:
            return found
    return question_consensus(workflow=task.workflow, subject_ids=subject_ids)


def consensus_labels(*, task: ClassifierTask) -> dict[int, int]:
    """Cutout id -> class index where volunteers agree: at least ``min_votes`` votes and the most
    likely answer's share (or posterior probability) at least ``min_agreement``."""
    classes = {value: i for i, value in enumerate(task.classes)}
    text_to_value: dict[str, str] = {}
    for _, by_text in _answer_values(task).values():
        text_to_value.update(by_text)
    survey_cutouts = set(Cutout.objects.filter(survey=task.survey).values_list("pk", flat=True))
    labels: dict[int, int] = {}
    for (subject_id, question), consensus in task_consensus(task=task).items():
        if question != task.question or subject_id not in survey_cutouts:
            continue
        if consensus.num_votes < task.min_votes or consensus.agreement < task.min_agreement:
            continue
        value = text_to_value.get(consensus.most_likely, consensus.most_likely)
        if value in classes:
            labels[subject_id] = classes[value]
    return labels


@dataclass
class TrainingSet:
    labels: dict[int, int]  # cutout id -> class index, every labelled cutout
    train: list[int] = field(default_factory=list)
    val: list[int] = field(default_factory=list)
    test: list[int] = field(default_factory=list)
    unlabelled: list[int] = field(default_factory=list)
    synthetic: list[int] = field(default_factory=list)  # approved generated samples among ``train``


def training_set(*, task: ClassifierTask, source: str, augment_synthetic: bool = False) -> TrainingSet:
    """Labels from ``source`` (expert, consensus or both: experts win) on the survey's real cutouts,
    split by the fixed per-survey hash; the unlabelled pool is every other real training-split
    cutout. Generated cutouts never count, unless ``augment_synthetic``: then the approved ones join
    the training split with the class they were generated as."""
    if source not in {"expert", "consensus", "both"}:
        raise InvalidInput(f"labels must be expert, consensus or both, not {source!r}", field="labels")
    found: dict[int, int] = {}
    if source in {"consensus", "both"}:
        found.update(consensus_labels(task=task))
    if source in {"expert", "both"}:
        found.update(expert_labels(task=task))
    result = TrainingSet(labels={})
    real = Cutout.objects.filter(survey=task.survey, synthetic=False).order_by("pk").values_list("pk", "name")
    for pk, name in real:
        split = cutout_split(survey_name=task.survey.name, name=name)
        if pk in found:
            result.labels[pk] = found[pk]
            getattr(result, split).append(pk)
        elif split == "train":
            result.unlabelled.append(pk)
    if augment_synthetic:
        generated = synthetic_labels(task=task)
        result.labels.update(generated)
        result.synthetic = sorted(generated)
        result.train.extend(result.synthetic)
    return result


def synthetic_labels(*, task: ClassifierTask) -> dict[int, int]:
    """Generated cutout id -> class index: the survey's approved samples whose class asked for
    (hidden metadata ``#requested_class``) is one of the task's classes."""
    classes = {value: i for i, value in enumerate(task.classes)}
    rows = Cutout.objects.filter(survey=task.survey, synthetic=True).order_by("pk").values_list("pk", "metadata")
    return {
        pk: classes[str(meta.get("#requested_class"))]
        for pk, meta in rows
        if meta and meta.get("#approved") is True and str(meta.get("#requested_class")) in classes
    }


def feature_version_of(version: ModelVersion) -> str:
    """The name of the feature space a classifier version's penultimate layer spans."""
    return f"{version.task.name}:v{version.number}"


def feature_matrix(*, feature_version: str, cutout_ids: list[int] | None = None) -> tuple[list[int], np.ndarray]:
    """Cutout ids and their (N, D) float32 vectors of one feature version, in id order."""
    rows = CutoutFeatures.objects.filter(feature_version=feature_version).order_by("cutout_id")
    if cutout_ids is not None:
        rows = rows.filter(cutout_id__in=cutout_ids)
    ids, vectors = [], []
    for cutout_id, vector in rows.values_list("cutout_id", "vector").iterator(chunk_size=5000):
        ids.append(cutout_id)
        vectors.append(np.frombuffer(bytes(vector), dtype=np.float32))
    return ids, (np.stack(vectors) if vectors else np.zeros((0, 0), np.float32))
