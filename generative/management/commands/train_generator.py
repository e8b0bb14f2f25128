"""python manage.py train_generator --survey NAME [--preset cpu] [--epochs N] [--classes A B ...]"""

from django.core.management.base import CommandError

from core.errors import DomainError
from generative import selectors, services
from generative.models import GeneratorVersion
from jobs.cli import JobCommand
from jobs.selectors import job_get


class Command(JobCommand):
    help = (
        "Train a new version of a survey's class-conditional diffusion generator on its labelled cutouts (on "
        "the training queue, resumable) and follow it; the version is evaluated but not promoted unless --promote."
    )
    job_kind = services.TRAIN_JOB

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--survey", required=True, help="survey name or id")
        parser.add_argument("--preset", choices=services.PRESETS, default="cpu", help="tiny, cpu (default) or gpu")
        parser.add_argument(
            "--epochs", type=int, default=None, help="passes over the training images (default: the preset's)"
        )
        parser.add_argument(
            "--classes", nargs="+", default=None, help="labels to learn, in order (default: every label)"
        )
        parser.add_argument("--promote", action="store_true", help="promote the version if its training succeeds")

    def handle(self, *args, **options):
        try:
            survey = selectors.survey_get(survey=options["survey"])
            version = services.generator_training_start(
                survey=survey,
                preset=options["preset"],
                epochs=options["epochs"],
                classes=options["classes"],
                send=not options["inline"],
            )
            job = job_get(job_id=version.job_id)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"training the generator of {survey.name}, v{version.number} (version id {version.pk})")
        queued = f"queued job {job.pk}; follow it at /jobs/{job.pk}/ or /generative/"
        try:
            finished = self.run_or_follow(job, options, queued=queued)
        except CommandError:
            version = selectors.version_get(version_id=version.pk)
            raise CommandError(f"v{version.number} is {version.status}: {version.error}")
        if not finished:
            return
        version = selectors.version_get(version_id=version.pk)
        if version.status != GeneratorVersion.Status.READY:
            raise CommandError(f"v{version.number} is {version.status}: {version.error}")
        m = version.metrics
        self.stdout.write(
            f"v{version.number}: memorisation {m['memorisation']:.2f} (real test images {m['memorisation_real']:.2f}), "
            f"KS flux {m['ks_flux']:.2f}, extent {m['ks_extent']:.2f}, components {m['ks_components']:.2f}"
        )
        if options["promote"]:
            try:
                services.version_promote(version=version)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(self.style.SUCCESS(f"v{version.number} is now the active generator of {survey.name}"))
