from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Surveys, cutouts and classifications"

    def ready(self):
        from . import worker_signals

        worker_signals.connect()
