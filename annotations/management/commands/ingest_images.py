from pathlib import Path

from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Ingest FITS, PNG or JPEG cutouts (files or folders); a catalogue CSV gives name, ra, dec, label per file."
    job_kind = "ingest_images"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--survey", required=True, help="survey name (created when new)")
        parser.add_argument("--catalogue", help="CSV with columns name, ra, dec and optional label, file")
        parser.add_argument("--subject-set", help="subject set to add the cutouts to")
        parser.add_argument("--workflow", type=int, help="workflow id whose queue receives the cutouts")
        super().add_arguments(parser)

    def job_parameters(self, options):
        return {
            "survey_name": options["survey"],
            "paths": [str(Path(p).resolve()) for p in options["paths"]],
            "catalogue": str(Path(options["catalogue"]).resolve()) if options["catalogue"] else None,
            "subject_set_name": options["subject_set"],
            "workflow_id": options["workflow"],
        }
