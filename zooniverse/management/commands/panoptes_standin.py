import time

from django.core.management.base import BaseCommand, CommandError

from annotations.selectors import workflow_current_version, workflow_get
from core.errors import DomainError
from zooniverse.panoptes_standin import StandinServer, StandinState


class Command(BaseCommand):
    help = (
        "Serve the Panoptes stand-in on loopback (the subset of Zooniverse's API that panoptes-client uses), "
        "with one project and one workflow, to try the sync without a Zooniverse account. Ctrl-C stops it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--username", default="rgz-sync")
        parser.add_argument("--password", default="standin-password")
        parser.add_argument("--from-workflow", type=int, help="copy this platform workflow's tasks to the project")

    def handle(self, *args, port, username, password, from_workflow, **options):
        tasks, strings, name = {}, {}, "Stand-in workflow"
        if from_workflow is not None:
            try:
                workflow = workflow_get(workflow_id=from_workflow)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            version = workflow_current_version(workflow=workflow)
            tasks, strings, name = version.tasks, version.strings, workflow.display_name
        state = StandinState(username=username, password=password)
        project = state.add_project("Stand-in project", "rgz/standin")
        zooniverse_workflow = state.add_workflow(project, name, tasks=tasks, strings=strings)
        try:
            server = StandinServer(state, port=port).start()
        except OSError as exc:
            raise CommandError(f"port {port}: {exc}") from exc
        self.stdout.write(f"Panoptes stand-in at {server.url}: project {project}, workflow {zooniverse_workflow}")
        self.stdout.write(
            f"  export PANOPTES_ENDPOINT={server.url} PANOPTES_USERNAME={username} PANOPTES_PASSWORD={password}"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.stop()
