"""Signal receivers, connected in TaxonomyConfig.ready(): cheap checks, work goes to Celery."""

from django.db import transaction

from annotations.tag_vocabulary import vocabulary_forget
from jobs.outbox import task_send

from .models import Description, TagLink
from .tasks import description_added_task


def classification_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    if not any(isinstance(a, dict) and isinstance(a.get("value"), (str, list)) for a in instance.annotations or []):
        return
    # A broker outage never fails the volunteer's submit: the task waits in the outbox.
    transaction.on_commit(lambda: task_send(description_added_task, args=[instance.pk]), robust=True)


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
