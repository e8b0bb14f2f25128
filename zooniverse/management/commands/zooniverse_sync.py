from jobs.cli import JobCommand
from zooniverse import sync


class Command(JobCommand):
    help = (
        "Sync a linked workflow with its Zooniverse project: 'push' uploads the open subjects with their "
        "#priority and retires on Zooniverse what the platform retired; 'pull' downloads a fresh classification "
        "export and imports its new rows. Runs on a Celery worker with a progress bar (or --inline)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["push", "pull"])
        parser.add_argument("--link", type=int, required=True, help="the link id (see zooniverse_link --list)")
        super().add_arguments(parser)

    def job_parameters(self, options) -> dict:
        self.job_kind = sync.PUSH_JOB if options["action"] == "push" else sync.PULL_JOB
        link = sync.link_get(link_id=options["link"])
        return {"link_id": link.pk}
