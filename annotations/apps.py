from django.apps import AppConfig

from rgzplatform.runtime_folders import sqlite_folders_create


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Surveys, cutouts and classifications"

    def ready(self):
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in
        from PIL import Image

        from jobs.registry import register_job_runner

        from . import login_throttle  # noqa: F401  connects the failed sign-in counters
        from .complexity import score_survey_complexity
        from .demo_survey import ingest_demo
        from .ingestion import ingest_image_files, ingest_mosaic
        from .layers import ingest_layers
        from .volunteer_history import claim_on_sign_in

        # Pillow's own decompression-bomb guard, for every image it opens in this process: it
        # warns above this many pixels and refuses above twice as many (mlcore.io refuses both).
        Image.MAX_IMAGE_PIXELS = settings.RGZ_MAX_IMAGE_PIXELS

        # The embedded SQLite file's folder: settings only name it, this process is about to use it.
        sqlite_folders_create(settings.DATABASES)
        user_logged_in.connect(claim_on_sign_in, dispatch_uid="annotations-claim-anonymous-history")
        register_job_runner("ingest_images", ingest_image_files)
        register_job_runner("ingest_fits", ingest_mosaic)
        register_job_runner("ingest_demo", ingest_demo)
        register_job_runner("ingest_layers", ingest_layers)
        register_job_runner("score_complexity", score_survey_complexity)
