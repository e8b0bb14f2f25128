"""python manage.py generate --survey NAME --per-class N [--guidance G] [--seed S]"""

from generative import selectors, services
from jobs.cli import JobCommand


class Command(JobCommand):
    help = (
        "Render N samples of every class with the survey's active generator, stored as synthetic cutouts "
        "waiting for review in the gallery (/generative/gallery/ID/); none is served before it is approved."
    )
    job_kind = services.GENERATE_JOB

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--survey", required=True, help="survey name or id")
        parser.add_argument(
            "--per-class", type=int, required=True, help=f"samples per class (1-{services.MAX_PER_CLASS})"
        )
        parser.add_argument(
            "--guidance", type=float, default=None, help="classifier-free guidance scale (default: the model's)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="fixes the samples drawn (rerunning with it skips those already stored); "
            "default: the version's next unused seed, so each run renders new samples",
        )

    def job_parameters(self, options) -> dict:
        survey = selectors.survey_get(survey=options["survey"])
        version = selectors.active_version(survey=survey)
        return services.generate_job_parameters(
            survey=survey,
            version=version,
            per_class=options["per_class"],
            guidance=options["guidance"],
            seed=options["seed"],
        )
