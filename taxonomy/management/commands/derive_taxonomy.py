import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from jobs.cli import JobCommand
from taxonomy import ml
from taxonomy.models import Tag


class Command(JobCommand):
    help = (
        "Derive candidate tags from volunteers' plain-English descriptions: from the stored descriptions "
        "(a Celery job with progress; candidates are stored for curation), or from a CSV in the "
        "english_annotations.csv layout (nothing stored). --out writes the terms as JSON."
    )
    job_kind = "derive_taxonomy"

    def add_arguments(self, parser):
        parser.add_argument("--annotations", metavar="FILE.csv", help="derive from this CSV instead of the database")
        parser.add_argument("--out", metavar="FILE.json", help="write [{term, count, example_phrases, ...}] here")
        parser.add_argument(
            "--threshold",
            type=float,
            default=None,
            help=f"similarity threshold t (default {settings.RGZ_TAXONOMY_THRESHOLD})",
        )
        super().add_arguments(parser)

    def job_parameters(self, options):
        return {"threshold": options["threshold"]} if options["threshold"] is not None else {}

    def handle(self, *args, **options):
        threshold = options["threshold"]
        if threshold is not None and not 0 < threshold <= 1:
            raise CommandError("--threshold must lie in (0, 1]")
        if options["out"]:
            parent = Path(options["out"]).resolve().parent
            if not parent.is_dir():
                raise CommandError(f"--out: folder {parent} does not exist")
        if options["annotations"]:
            terms = self._from_csv(options["annotations"], threshold)
        else:
            super().handle(*args, **options)
            terms = [
                {
                    "term": t.name,
                    "count": t.support,
                    "sources": t.sources,
                    "status": t.status,
                    "example_phrases": t.example_phrases,
                    "example_sources": t.example_cutouts,
                }
                for t in Tag.objects.exclude(status=Tag.Status.RETIRED)
                .filter(support__gt=0)
                .order_by("-support", "name")
            ]
        if options["out"]:
            Path(options["out"]).write_text(json.dumps(terms, indent=1, ensure_ascii=False))
            self.stdout.write(f"wrote {len(terms)} terms to {options['out']}")

    def _from_csv(self, path: str, threshold):
        from mlcore.text.corpus import CorpusError

        if not Path(path).is_file():
            raise CommandError(f"--annotations: {path} is not a file")
        started = time.perf_counter()
        try:
            derivation, n_desc, n_phrases = ml.derive_from_csv(
                path, threshold=settings.RGZ_TAXONOMY_THRESHOLD if threshold is None else threshold
            )
        except CorpusError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{n_desc} descriptions, {n_phrases} phrases -> {len(derivation.candidates)} terms "
            f"in {time.perf_counter() - started:.1f} s"
        )
        for c in derivation.candidates[:15]:
            self.stdout.write(f"  {c.count:5d}  {c.term} ({c.label})")
        return [
            {
                "term": c.term,
                "label": c.label,
                "count": c.count,
                "sources": c.sources,
                "example_phrases": c.example_phrases,
                "example_sources": c.example_sources,
            }
            for c in derivation.candidates
        ]
