from django.apps import AppConfig


class ZooniverseConfig(AppConfig):
    name = "zooniverse"
    verbose_name = "Zooniverse interoperability"
