"""Survey encoders (``FeatureEncoder``): starting a training, its outcome and the reads of them.

A training stores its vectors under its own feature version while it is ``training``; nothing reads
them until the job activates it, so a failed run leaves the active encoder and its vectors as they were.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from annotations.models import Cutout, Survey
from core.errors import Conflict, InvalidInput, NotFound
from jobs.dispatch import job_start

from .models import CutoutFeatures, FeatureEncoder
from .services import features_store

ENCODER_JOB = "encoder_train"  # registered in ClassifiersConfig.ready()
MAX_STEPS = 1_000_000
FEATURE_VERSION_MAX = FeatureEncoder._meta.get_field("feature_version").max_length


def encoder_list(*, survey: Survey) -> QuerySet[FeatureEncoder]:
    """A survey's encoders, newest first."""
    return survey.feature_encoders.select_related("survey", "job")


def encoder_get(*, encoder_id: int) -> FeatureEncoder:
    encoder = FeatureEncoder.objects.select_related("survey", "job").filter(pk=encoder_id).first()
    if encoder is None:
        raise NotFound(f"encoder {encoder_id} does not exist")
    return encoder


def encoder_active(*, survey_id: int) -> FeatureEncoder | None:
    return FeatureEncoder.objects.filter(survey_id=survey_id, status=FeatureEncoder.Status.ACTIVE).first()


def steps_check(steps) -> int | None:
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise InvalidInput(f"steps must be a whole number from 1 to {MAX_STEPS}, not {steps!r}", field="steps")
    return steps


@transaction.atomic
def encoder_training_start(*, survey: Survey, steps: int | None = None, user=None, send: bool = True):
    """A new encoder of the survey (``training``) and its job on the training queue. Its settings
    are RGZ_ENCODER_SETTINGS with ``steps`` (default: EncoderConfig's); the job completes them
    with EncoderConfig's defaults (torch is not imported in a web request)."""
    steps = steps_check(steps)
    Survey.objects.select_for_update().filter(pk=survey.pk).first()  # one start at a time per survey
    if survey.feature_encoders.filter(status=FeatureEncoder.Status.TRAINING).exists():
        raise Conflict(f"an encoder of {survey.name} is training already; wait for it or let it fail")
    count = Cutout.objects.filter(survey=survey).count()
    if count < 2:
        raise InvalidInput(f"survey {survey.name} has {count} cutout(s): an encoder needs at least two")
    number = (survey.feature_encoders.aggregate(n=Max("number"))["n"] or 0) + 1
    feature_version = f"encoder:{survey.name}:v{number}"
    if len(feature_version) > FEATURE_VERSION_MAX:
        raise InvalidInput(f"the survey's name is too long for a feature version ({feature_version[:60]}...)")
    config = dict(settings.RGZ_ENCODER_SETTINGS)
    if steps is not None:
        config["steps"] = steps
    encoder = FeatureEncoder.objects.create(
        survey=survey,
        number=number,
        feature_version=feature_version,
        config=config,
        created_by=user if user is not None and user.pk else None,
    )
    job = job_start(kind=ENCODER_JOB, parameters={"encoder_id": encoder.pk}, user=user, send=send)
    FeatureEncoder.objects.filter(pk=encoder.pk).update(job=job)
    encoder.job = job
    return encoder


def encoder_set_config(*, encoder: FeatureEncoder, config: dict) -> None:
    """The full settings of the run (EncoderConfig.as_dict()), once the job has completed them."""
    FeatureEncoder.objects.filter(pk=encoder.pk).update(config=config)
    encoder.config = config


def encoder_features_store(*, encoder: FeatureEncoder, ids: list[int], vectors) -> int:
    """Store (or replace) the encoder's vectors of these cutouts; returns rows."""
    return features_store(feature_version=encoder.feature_version, model_version=None, ids=ids, vectors=vectors)


@transaction.atomic
def encoder_activate(*, encoder: FeatureEncoder, weights: bytes, loss_history: list[float]) -> FeatureEncoder:
    """Store the weights and make the encoder its survey's active one (the previous one: ``ready``)."""
    Survey.objects.select_for_update().filter(pk=encoder.survey_id).first()
    encoder = FeatureEncoder.objects.select_for_update().select_related("survey").get(pk=encoder.pk)
    if encoder.status != FeatureEncoder.Status.TRAINING:
        raise Conflict(f"encoder {encoder.pk} is {encoder.status}, not training")
    encoder.weights.save(f"{encoder.survey.name}-v{encoder.number}.pt", ContentFile(weights), save=False)
    encoder.loss_history = loss_history
    FeatureEncoder.objects.filter(survey_id=encoder.survey_id, status=FeatureEncoder.Status.ACTIVE).update(
        status=FeatureEncoder.Status.READY
    )
    encoder.status = FeatureEncoder.Status.ACTIVE
    encoder.finished_at = timezone.now()
    encoder.save()
    return encoder


def encoder_fail(*, encoder_id: int, message: str) -> None:
    """Mark a training encoder failed and drop the vectors it stored (the active one is untouched);
    also the job's hook when its worker died or it was cancelled before it started."""
    with transaction.atomic():
        failed = FeatureEncoder.objects.filter(pk=encoder_id, status=FeatureEncoder.Status.TRAINING).update(
            status=FeatureEncoder.Status.FAILED, error=message[:4000], finished_at=timezone.now()
        )
        if failed:
            encoder = FeatureEncoder.objects.get(pk=encoder_id)
            CutoutFeatures.objects.filter(feature_version=encoder.feature_version).delete()
