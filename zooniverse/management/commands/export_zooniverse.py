from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Workflow
from zooniverse.export_writer import export_lines


class Command(BaseCommand):
    help = (
        "Write a workflow's classification export in Zooniverse's format to --out, with its subject and workflow "
        "exports beside it (<stem>_subjects.csv, <stem>_workflows.csv)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workflow", type=int, required=True)
        parser.add_argument("--out", required=True, metavar="FILE.csv")

    def handle(self, *args, workflow, out, **options):
        found = Workflow.objects.filter(pk=workflow).first()
        if found is None:
            raise CommandError(f"workflow {workflow} does not exist")
        target = Path(out)
        if not target.parent.is_dir():
            raise CommandError(f"--out {out}: its folder does not exist")
        paths = {
            "classifications": target,
            "subjects": target.with_name(f"{target.stem}_subjects.csv"),
            "workflows": target.with_name(f"{target.stem}_workflows.csv"),
        }
        for kind, path in paths.items():
            partial = path.with_name(f".{path.name}.part")
            lines = 0
            with partial.open("w", newline="", encoding="utf-8") as handle:
                for line in export_lines(kind, found):
                    handle.write(line)
                    lines += 1
            partial.replace(path)  # a failed export leaves no half-written file
            self.stdout.write(f"{kind}: {lines - 1} rows -> {path}")
