from pathlib import Path

from core.errors import InvalidInput
from jobs.cli import JobCommand


class Command(JobCommand):
    help = "Cut every catalogue source out of a FITS survey mosaic (astropy Cutout2D), keeping a WCS per cutout."
    job_kind = "ingest_fits"

    def add_arguments(self, parser):
        parser.add_argument("--survey", required=True)
        parser.add_argument("--mosaic", required=True, help="FITS mosaic with a celestial WCS")
        parser.add_argument(
            "--catalogue", required=True, help="CSV with columns name, ra, dec (degrees), optional label"
        )
        parser.add_argument("--size", required=True, type=float, help="cutout side in arcseconds")
        parser.add_argument("--subject-set")
        parser.add_argument("--workflow", type=int)
        super().add_arguments(parser)

    def job_parameters(self, options):
        if options["size"] <= 0:
            raise InvalidInput(f"--size must be a positive number of arcseconds, not {options['size']}")
        for flag in ("mosaic", "catalogue"):
            if not Path(options[flag]).is_file():
                raise InvalidInput(f"--{flag} {options[flag]}: no such file")
        return {
            "survey_name": options["survey"],
            "mosaic": str(Path(options["mosaic"]).resolve()),
            "catalogue": str(Path(options["catalogue"]).resolve()),
            "size_arcsec": options["size"],
            "subject_set_name": options["subject_set"],
            "workflow_id": options["workflow"],
        }
