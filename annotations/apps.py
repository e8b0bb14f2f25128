from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Surveys, cutouts and classifications"

    def ready(self):
        from . import login_throttle  # noqa: F401  connects the failed sign-in counters
