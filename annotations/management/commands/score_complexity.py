from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Score every cutout of a survey with coarse-grained complexity and store its percentile in the survey."
    job_kind = "score_complexity"

    def add_arguments(self, parser):
        parser.add_argument("--survey", required=True)
        parser.add_argument(
            "--set-priority", action="store_true", help="make the complexity percentile the queue priority"
        )
        super().add_arguments(parser)

    def job_parameters(self, options):
        return {"survey_name": options["survey"], "set_priority": options["set_priority"]}
