from django.apps import AppConfig


class ExplorerConfig(AppConfig):
    name = "explorer"
    verbose_name = "Data browser: cutouts across surveys, labels, tags and scores"
