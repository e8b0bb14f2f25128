from django.core.management.base import BaseCommand, CommandError

from annotations.models import Cutout, Survey
from annotations.ranking import queue_rank, queue_ranking_set
from core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Order a survey's labelling queue by coarse-grained complexity, by a classifier's uncertainty, "
        "or by both (the mean of the two percentiles); kept up to date as new scores arrive."
    )

    def add_arguments(self, parser):
        parser.add_argument("--survey", required=True)
        parser.add_argument(
            "--by",
            choices=Survey.QueueRanking.values,
            help="the ranking to use from now on (default: apply the survey's current one again)",
        )
        parser.add_argument("--task", default="", help="classifier task whose entropy ranks (uncertainty rankings)")
        parser.add_argument("--top", type=int, default=5, help="list the first N cutouts of the queue")

    def handle(self, *args, **options):
        survey = Survey.objects.filter(name=options["survey"]).first()
        if survey is None:
            raise CommandError(f"no survey named {options['survey']!r}")
        try:
            if options["by"]:
                report = queue_ranking_set(survey=survey, by=options["by"], task_name=options["task"])
            else:
                report = queue_rank(survey=survey)
        except DomainError as exc:
            raise CommandError(exc.message)
        task = f" (task {report.task})" if report.task else ""
        self.stdout.write(
            f"{survey.name}: queue ranked by {report.by}{task}: {report.ranked} ranked, {report.unranked} unranked"
        )
        first = Cutout.objects.filter(survey=survey, priority__isnull=False).order_by("-priority")[: options["top"]]
        for cutout in first:
            self.stdout.write(f"  {cutout.priority:6.1f}  {cutout.name}")
