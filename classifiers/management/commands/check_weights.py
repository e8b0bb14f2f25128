"""python manage.py check_weights [--version-id ID ...]"""

from django.core.management.base import BaseCommand, CommandError

from classifiers import selectors, services
from core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Load model versions' weights and record whether they fit their architecture (what promotion "
        "requires). Training checks its own weights; this is for versions trained before that check, or "
        "a weights file replaced by hand. Without --version-id: every version not checked yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--version-id", type=int, action="append", dest="versions", help="a model version id")

    def handle(self, *args, **options):
        if options["versions"]:
            try:
                versions = [selectors.version_get(version_id=pk) for pk in options["versions"]]
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        else:
            versions = list(selectors.versions_unchecked())
        for version in versions:
            version = services.version_weights_check(version=version)
            verdict = self.style.ERROR(version.weights_error) if version.weights_error else self.style.SUCCESS("ok")
            self.stdout.write(f"{version.task.name} v{version.number} (id {version.pk}): {verdict}")
        if not versions:
            self.stdout.write("no version to check")
