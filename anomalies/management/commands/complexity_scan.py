from django.core.management.base import CommandError

from anomalies import services
from anomalies.dispatch import scan_start
from anomalies.models import Scan
from core.errors import DomainError
from jobs.cli import JobCommand


class Command(JobCommand):
    help = (
        "Blind coarse-grained complexity scan of a FITS mosaic: a square aperture slid in tiles (Celery "
        "subtasks, resumable), merged into anomaly catalogues (top 5 %, 1 %, 0.5 %) written as CSV and VOTable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mosaic", help="FITS mosaic with a celestial WCS (memory-mapped, read in tiles)")
        parser.add_argument("--aperture", type=float, help="aperture side in arcseconds")
        parser.add_argument("--stride", type=float, help="step between apertures in arcseconds")
        parser.add_argument("--out", help="catalogue CSV to write (a VOTable is written beside it)")
        parser.add_argument(
            "--top",
            type=float,
            nargs="+",
            default=list(services.DEFAULT_TOP_PERCENTS),
            help="catalogue levels in percent (default 5 1 0.5)",
        )
        parser.add_argument("--tile-frames", type=int, default=32, help="apertures per tile side")
        parser.add_argument("--resume", metavar="SCAN_ID", help="carry on a scan that stopped (done tiles are kept)")
        parser.add_argument("--inline", action="store_true", help="run every tile in this process")
        parser.add_argument("--no-wait", action="store_true", help="queue the scan's job and its tiles and return")

    def handle(self, *args, **options):
        try:
            scan = self._scan(options)
            job = scan_start(scan, send=not options["inline"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for note in scan.notes:
            self.stderr.write(f"warning: {note}")
        left = scan.tiles.filter(done=False).count()
        queued = f"scan {scan.pk}: {left} tile(s) queued; page /scans/{scan.pk}/"
        if not (options["inline"] or options["no_wait"]):
            self.stdout.write(queued)
        if not self.run_or_follow(job, options, queued=queued):
            return
        scan.refresh_from_db()
        if scan.status != Scan.Status.SUCCEEDED:
            raise CommandError(f"scan {scan.pk} {scan.status}: {scan.message}")
        self.stdout.write(self.style.SUCCESS(scan.message))
        if scan.out_path:
            self.stdout.write(f"catalogue: {scan.out_path} (and {scan.out_path.rsplit('.', 1)[0]}.vot)")

    def _scan(self, options) -> Scan:
        if options["resume"]:
            scan = Scan.objects.filter(pk=options["resume"]).first()
            if scan is None:
                raise CommandError(f"no scan {options['resume']}")
            return scan
        missing = [f"--{name}" for name in ("mosaic", "aperture", "stride", "out") if options[name] is None]
        if missing:
            raise CommandError(f"missing {', '.join(missing)} (or --resume SCAN_ID)")
        return services.scan_create(
            mosaic=options["mosaic"],
            aperture_arcsec=options["aperture"],
            stride_arcsec=options["stride"],
            out=options["out"],
            top_percents=options["top"],
            tile_frames=options["tile_frames"],
        )
