from django.core.management.base import BaseCommand

from annotations.media_sweep import media_orphans_sweep
from jobs.recovery import jobs_sweep


class Command(BaseCommand):
    help = (
        "Start again (or fail, past their attempt limit) running jobs whose worker stopped beating, "
        "and delete cutout files that no cutout row took (what Celery beat does periodically)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--media-older-than",
            type=float,
            default=None,
            help="seconds; younger cutout files without a row are kept (default RGZ_MEDIA_ORPHAN_AGE_SECONDS)",
        )

    def handle(self, *args, media_older_than, **options):
        recovered = jobs_sweep()
        deleted = media_orphans_sweep(older_than_seconds=media_older_than)
        self.stdout.write(f"{len(recovered)} lost job(s) recovered, {len(deleted)} orphaned cutout file(s) deleted")
