"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

from .runtime_folders import broker_folders_create

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rgzplatform.settings.local")

app = Celery("rgzplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _broker_folders(sender, **kwargs):
    # Once the configuration is read, before a worker or a sender opens the broker.
    broker_folders_create(sender.conf.broker_transport_options or {})
