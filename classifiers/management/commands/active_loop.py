"""python manage.py active_loop --survey NAME [--force] [--retrain-after N] [--inline | --no-wait]"""

from django.core.management.base import CommandError

from annotations.selectors import survey_get
from classifiers import active_loop
from core.errors import DomainError
from jobs.cli import JobCommand


class Command(JobCommand):
    help = (
        "Run a round of a survey's active-learning loop (retrain warm-started from the active version, promote, "
        "rescore, re-rank, push #priority to linked Zooniverse projects) when enough new consensus labels have "
        "come in, or now with --force; follows the round's job with a progress bar."
    )
    job_kind = active_loop.ROUND_JOB

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--survey", required=True, help="survey name")
        parser.add_argument("--force", action="store_true", help="run a round now, however many new labels")
        parser.add_argument(
            "--retrain-after",
            type=int,
            default=None,
            help="set the survey's own number of new consensus labels that starts a round (0: never), and stop",
        )

    def handle(self, *args, **options):
        try:
            survey = survey_get(name=options["survey"])
            if options["retrain_after"] is not None:
                active_loop.loop_threshold_set(survey=survey, retrain_after=options["retrain_after"])
                self.stdout.write(self.style.SUCCESS(self._state_line(survey)))
                return
            if not options["force"]:
                state = active_loop.loop_state(survey=survey)
                self.stdout.write(self._state_line(survey, state))
                if not state.due:
                    self.stdout.write("not due: use --force to run a round now")
                    return
            job, new = active_loop.active_round_start(
                survey=survey, trigger="by hand" if options["force"] else "due", send=not options["inline"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if not new:
            self.stdout.write(f"a round of {survey.name} is already {job.status} (job {job.pk}): following it")
            options = {**options, "inline": False}
        self.run_or_follow(job, options, queued=f"queued round {job.pk}; follow it at /jobs/{job.pk}/")

    def _state_line(self, survey, state=None) -> str:
        state = state or active_loop.loop_state(survey=survey)
        counts = ", ".join(f"{name}: {n}" for name, n in state.new_labels.items()) or "no task with an active version"
        threshold = f"every {state.threshold} new consensus labels" if state.threshold > 0 else "off"
        return f"{survey.name}: loop {threshold}; new consensus labels since the last training: {counts}"
