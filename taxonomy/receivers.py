"""Signal receivers, connected in TaxonomyConfig.ready(): cheap checks, work goes to Celery."""

from django.db import transaction

from annotations.tag_vocabulary import vocabulary_forget
from jobs.outbox import task_send

from .inbox import inbox_push
from .models import Description, TagLink
from .tasks import description_added_task, inbox_drain_task


def classification_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    if not any(isinstance(a, dict) and isinstance(a.get("value"), (str, list)) for a in instance.annotations or []):
        return
    # A broker outage never fails the volunteer's submit: the task waits in the outbox.
    transaction.on_commit(lambda: classification_queue(instance.pk), robust=True)


def classification_queue(classification_id: int) -> None:
    """Queue a new classification's words and tag picks for the worker: into the inbox, with a
    drain when none is pending; or, without a shared Redis cache, as a task of its own."""
    drain = inbox_push(classification_id)
    if drain is None:
        task_send(description_added_task, args=[classification_id])
    elif drain:
        task_send(inbox_drain_task)


def volunteer_history_claimed(sender, from_key, to_key, classification_ids, **kwargs):
    """Descriptions and tag picks follow their classifications to the volunteer's account."""
    Description.objects.filter(classification_id__in=classification_ids, volunteer_key=from_key).update(
        volunteer_key=to_key
    )
    TagLink.objects.filter(classification_id__in=classification_ids, volunteer_key=from_key).update(
        volunteer_key=to_key
    )


def taxonomy_published(sender, **kwargs):
    """A new published version: the tag vocabulary this process keeps is read again."""
    vocabulary_forget()
