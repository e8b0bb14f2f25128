"""Signal receivers, connected in ClassifiersConfig.ready(): a cheap check in the request, the
work in Celery (sent through the outbox once the classification is committed)."""

import time

from django.conf import settings
from django.db import transaction

from jobs.outbox import task_send

from .models import ActiveLoop, ClassifierTask
from .tasks import active_loop_check

# Whether a workflow's classifications can start a round changes rarely (a loop switched on, a
# classifier task made); each process re-reads it at most this often, not on every submit.
LOOP_CHECK_SECONDS = 30.0
_loop_checks: dict[int, tuple[float, bool]] = {}


def _loop_may_run(workflow_id: int) -> bool:
    now = time.monotonic()
    hit = _loop_checks.get(workflow_id)
    if hit is not None and now - hit[0] < LOOP_CHECK_SECONDS:
        return hit[1]
    on = settings.RGZ_ACTIVE_RETRAIN_AFTER > 0 or ActiveLoop.objects.filter(retrain_after__gt=0).exists()
    answer = on and ClassifierTask.objects.filter(workflow_id=workflow_id).exists()
    if len(_loop_checks) > 10_000:
        _loop_checks.clear()
    _loop_checks[workflow_id] = (now, answer)
    return answer


def loop_checks_forget(**kwargs) -> None:
    """A loop setting or a classifier task changed: read them again on the next submit."""
    _loop_checks.clear()


def classification_saved(sender, instance, created, raw=False, **kwargs):
    """A volunteer's classification may give its subject a consensus label: the active-learning
    loop of the survey checks whether a round is due (off the request)."""
    if not created or raw or instance.expert or instance.gold_standard:
        return
    if not _loop_may_run(instance.workflow_id):
        return
    args = [instance.workflow_id, instance.subject_id]
    # A broker outage never fails the volunteer's submit: the task waits in the outbox.
    transaction.on_commit(lambda: task_send(active_loop_check, args=args), robust=True)
