from django.core.management.base import BaseCommand, CommandError

from annotations.selectors import workflow_get
from core.errors import DomainError
from zooniverse import sync
from zooniverse.models import ZooniverseLink


class Command(BaseCommand):
    help = (
        "Link a platform workflow to a workflow of a live Zooniverse project (credentials come from "
        "PANOPTES_USERNAME / PANOPTES_PASSWORD or PANOPTES_CLIENT_ID / PANOPTES_CLIENT_SECRET), or list links."
    )

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="list the links and stop")
        parser.add_argument("--workflow", type=int, help="the platform workflow id")
        parser.add_argument("--project", type=int, help="the Zooniverse project id")
        parser.add_argument("--zooniverse-workflow", type=int, help="the Zooniverse workflow id")
        parser.add_argument("--endpoint", help="the Panoptes endpoint (PANOPTES_ENDPOINT by default)")
        parser.add_argument(
            "--pull-every", type=int, default=60, metavar="MINUTES", help="scheduled pulls; 0 for on demand only"
        )

    def handle(self, *args, **options):
        if options["list"]:
            for link in ZooniverseLink.objects.select_related("workflow"):
                self.stdout.write(
                    f"{link.pk}: {link.workflow.display_name} <-> {link.endpoint} project {link.project_id} "
                    f"workflow {link.zooniverse_workflow_id}, subject set {link.subject_set_id or '-'}, "
                    f"pull every {link.pull_every_minutes or '-'} min"
                )
            return
        missing = [flag for flag in ("workflow", "project", "zooniverse_workflow") if options[flag] is None]
        if missing:
            raise CommandError("give " + ", ".join("--" + flag.replace("_", "-") for flag in missing))
        if options["pull_every"] < 0:
            raise CommandError("--pull-every must be 0 or more minutes")
        try:
            link = sync.link_create(
                workflow=workflow_get(workflow_id=options["workflow"]),
                project_id=options["project"],
                zooniverse_workflow_id=options["zooniverse_workflow"],
                endpoint=options["endpoint"],
                pull_every_minutes=options["pull_every"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(f"link {link.pk}: now run `manage.py zooniverse_sync push --link {link.pk}`")
        )
