"""python manage.py train_encoder --survey NAME [--steps N] [--inline | --no-wait]"""

from django.core.management.base import CommandError

from annotations import selectors as annotation_selectors
from classifiers import encoders
from classifiers.models import FeatureEncoder
from core.errors import DomainError
from jobs.cli import JobCommand


class Command(JobCommand):
    help = (
        "Train a survey's self-supervised encoder (SimCLR-style, no labels) on all its cutouts on the training "
        "queue, store one feature vector per cutout and make it the survey's active encoder when all succeeded."
    )
    job_kind = encoders.ENCODER_JOB

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--survey", required=True, help="survey name")
        parser.add_argument("--steps", type=int, default=None, help="training steps (default: EncoderConfig's)")

    def handle(self, *args, **options):
        try:
            survey = annotation_selectors.survey_get(name=options["survey"])
            encoder = encoders.encoder_training_start(survey=survey, steps=options["steps"], send=not options["inline"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"training {encoder.feature_version} (encoder id {encoder.pk})")
        job = encoder.job
        if not self.run_or_follow(job, options, queued=f"queued job {job.pk}; follow it at /jobs/{job.pk}/"):
            return
        encoder = encoders.encoder_get(encoder_id=encoder.pk)
        if encoder.status == FeatureEncoder.Status.ACTIVE:
            self.stdout.write(
                self.style.SUCCESS(f"{encoder.feature_version} is now the active encoder of {survey.name}")
            )
