from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from jobs.cli import ProgressBar
from zooniverse.importer import import_classifications


class Command(BaseCommand):
    help = (
        "Import a Zooniverse classification export (with its workflow and subject exports if given). "
        "Idempotent: rows already imported are skipped; bad rows are reported with their row number."
    )

    def add_arguments(self, parser):
        parser.add_argument("--classifications", required=True, metavar="FILE.csv")
        parser.add_argument("--workflows", metavar="FILE.csv", help="workflow export: task definitions and versions")
        parser.add_argument("--subjects", metavar="FILE.csv", help="subject export: metadata used to match cutouts")
        parser.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help="connections importing chunks at once on PostgreSQL (default: one per core)",
        )

    def handle(self, *args, classifications, workflows, subjects, workers=None, **options):
        if workers is not None and workers < 1:
            raise CommandError(f"--workers must be at least 1, not {workers}")
        bar = ProgressBar(self.stdout)
        try:
            report = import_classifications(
                classifications=classifications,
                workflows=workflows,
                subjects=subjects,
                workers=workers,
                progress=lambda done, total, message: bar.update(done, total, message),
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write("")
        for line in report.warnings:
            self.stderr.write(f"warning: {line}")
        for line in report.bad_rows[:50]:
            self.stderr.write(f"{classifications} {line}")
        if report.bad_count > 50:
            self.stderr.write(f"... and {report.bad_count - 50} more bad rows")
        if report.placeholders:
            shown = ", ".join(map(str, report.placeholders[:20]))
            more = " ..." if len(report.placeholders) > 20 else ""
            self.stdout.write(
                f"{len(report.placeholders)} subject(s) matched no cutout; placeholders made: {shown}{more}"
            )
        summary = f"{report.imported} imported, {report.already_there} already there, {report.bad_count} bad rows"
        if report.valid == 0:
            raise CommandError(f"nothing valid in {classifications}: {summary}")
        self.stdout.write(self.style.SUCCESS(summary))
