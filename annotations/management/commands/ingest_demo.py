from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Load the demo survey: 2,158 real FIRST images (firstgalaxydata) with literature labels."
    job_kind = "ingest_demo"

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="load only the first N images (for quick trials)")
        super().add_arguments(parser)

    def job_parameters(self, options):
        return {"limit": options["limit"]}
