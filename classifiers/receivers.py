"""Signal receivers, connected in ClassifiersConfig.ready(): a cheap check in the request, the
work in Celery (sent through the outbox once the classification is committed)."""

from django.conf import settings
from django.db import transaction

from jobs.outbox import task_send

from .models import ActiveLoop, ClassifierTask
from .tasks import active_loop_check


def classification_saved(sender, instance, created, raw=False, **kwargs):
    """A volunteer's classification may give its subject a consensus label: the active-learning
    loop of the survey checks whether a round is due (off the request)."""
    if not created or raw or instance.expert or instance.gold_standard:
        return
    if settings.RGZ_ACTIVE_RETRAIN_AFTER <= 0 and not ActiveLoop.objects.filter(retrain_after__gt=0).exists():
        return  # the loop is off everywhere
    if not ClassifierTask.objects.filter(workflow_id=instance.workflow_id).exists():
        return
    args = [instance.workflow_id, instance.subject_id]
    # A broker outage never fails the volunteer's submit: the task waits in the outbox.
    transaction.on_commit(lambda: task_send(active_loop_check, args=args), robust=True)
