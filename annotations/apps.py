from django.apps import AppConfig

from rgzplatform.runtime_folders import sqlite_folders_create


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Surveys, cutouts and classifications"

    def ready(self):
        from django.conf import settings
        from PIL import Image

        from . import login_throttle  # noqa: F401  connects the failed sign-in counters

        # Pillow's own decompression-bomb guard, for every image it opens in this process: it
        # warns above this many pixels and refuses above twice as many (mlcore.io refuses both).
        Image.MAX_IMAGE_PIXELS = settings.RGZ_MAX_IMAGE_PIXELS

        from . import worker_signals

        worker_signals.connect()
        # The embedded SQLite file's folder: settings only name it, this process is about to use it.
        sqlite_folders_create(settings.DATABASES)
