from pathlib import Path

from jobs.cli import JobCommand
from jobs.models import Job


class Command(JobCommand):
    help = (
        "Add a band (infrared, optical, polarisation...) to existing cutouts of a survey: FITS layers are "
        "reprojected onto the radio frame; PNG/JPEG without WCS must have the radio image's pixel grid."
    )
    job_kind = "ingest_layers"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--survey", required=True, help="the survey whose cutouts receive the layers")
        parser.add_argument("--band", required=True, help="band name, e.g. infrared, optical, polarisation")
        parser.add_argument("--layer-survey", help="where the layer images come from (e.g. WISE, SWIRE)")
        parser.add_argument("--catalogue", help="CSV with columns name (the cutout) and file (the layer file)")
        super().add_arguments(parser)

    def job_parameters(self, options):
        return {
            "survey_name": options["survey"],
            "band": options["band"],
            "paths": [str(Path(p).resolve()) for p in options["paths"]],
            "layer_survey": options["layer_survey"],
            "catalogue": str(Path(options["catalogue"]).resolve()) if options["catalogue"] else None,
        }

    def report(self, job: Job) -> None:
        # How each file was placed (matched by name, reprojected, same pixel grid) is part of the answer.
        for note in job.result.get("notes", [])[:50]:
            self.stdout.write(f"note: {note}")
        super().report(job)
