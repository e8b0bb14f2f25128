"""Signal receivers, connected in TaxonomyConfig.ready(): cheap checks, work goes to Celery."""

from django.db import transaction


def classification_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    if not any(isinstance(a, dict) and isinstance(a.get("value"), (str, list)) for a in instance.annotations or []):
        return
    from .tasks import description_added_task

    # robust: a failure to queue is logged and never fails the volunteer's submit.
    transaction.on_commit(lambda: description_added_task.delay(instance.pk), robust=True)
