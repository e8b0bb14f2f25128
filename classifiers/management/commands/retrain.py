"""python manage.py retrain [--task NAME] [--epochs N] [--labels expert|consensus|both] [--layers radio,infrared]
[--architecture tang|d16|d8]"""

from django.core.management.base import CommandError

from classifiers import promotion, selectors, services
from classifiers.models import ModelVersion
from core.errors import DomainError
from jobs.cli import JobCommand


class Command(JobCommand):
    help = (
        "Train a new version of a classifier (FixMatch on the Tang CNN, published settings) on the training "
        "queue and follow it with a progress bar; the new version is evaluated but not promoted unless --promote."
    )
    job_kind = services.TRAIN_JOB

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--task", default=None, help="classifier task name (default: the FRI/FRII demo task)")
        parser.add_argument("--epochs", type=int, default=None, help="passes over the labelled set (default: 800)")
        parser.add_argument("--labels", choices=["expert", "consensus", "both"], default="both")
        parser.add_argument("--method", choices=["fixmatch", "supervised"], default="fixmatch")
        parser.add_argument(
            "--architecture",
            choices=services.ARCHITECTURES,
            default=None,
            help="the network: tang (default), or d16/d8, the D16/D8-equivariant CNN (escnn)",
        )
        parser.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps")
        parser.add_argument(
            "--augment-synthetic",
            action="store_true",
            help="add the survey's approved generated samples to the training split (off by default)",
        )
        parser.add_argument(
            "--layers",
            default=None,
            help="image layers as input channels, e.g. radio,infrared (several: one network branch per layer)",
        )
        parser.add_argument("--promote", action="store_true", help="promote the version if its training succeeds")
        parser.add_argument(
            "--force",
            action="store_true",
            help="with --promote: promote it even when it looks degenerate (a class of recall 0, low macro-F1)",
        )
        parser.add_argument(
            "--if-due",
            action="store_true",
            help="retrain only once the task's new consensus labels reach its threshold",
        )

    def handle(self, *args, **options):
        try:
            task = services.classifier_task_for_name(name=options["task"])
            if options["if_due"]:
                version = services.auto_retrain_if_due(task=task)
                if version is None:
                    self.stdout.write(f"{task.name}: not enough new consensus labels for a retraining")
                    return
                job = version.job
            else:
                overrides = {"max_steps": options["max_steps"]} if options["max_steps"] else {}
                if options["layers"]:
                    overrides |= services.layers_overrides(task=task, layers=options["layers"].split(","))
                kwargs = dict(
                    task=task,
                    epochs=options["epochs"],
                    labels=options["labels"],
                    method=options["method"],
                    overrides=overrides,
                    augment_synthetic=options["augment_synthetic"],
                    architecture=options["architecture"],
                )
                version = services.training_start(**kwargs, send=not options["inline"])
                job = version.job
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"training {task.name} v{version.number} (version id {version.pk})")
        queued = f"queued job {job.pk}; follow it at /jobs/{job.pk}/ or /classifiers/versions/{version.pk}/"
        if not self.run_or_follow(job, options, queued=queued):
            return
        version = selectors.version_get(version_id=version.pk)
        if version.status == ModelVersion.Status.READY:
            m = version.metrics
            self.stdout.write(
                f"v{version.number}: {m['split']} accuracy {m['accuracy']:.4f}, macro F1 {m['macro_f1']:.4f}, "
                f"ECE {m['ece']:.4f} ({m['ece_bins']} bins) on {m['n']} cutouts"
            )
            if options["promote"]:
                try:
                    promotion.version_promote_confirmed(version=version, force=options["force"])
                except DomainError as exc:
                    raise CommandError(exc.message) from exc
                self.stdout.write(self.style.SUCCESS(f"v{version.number} is now active; every cutout is being scored"))
