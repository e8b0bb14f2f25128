import pytest
from django.core.management import call_command

from annotations.demo_survey import DEMO_SURVEY, demo_workflow, ingest_demo
from annotations.models import Cutout, SubjectWorkflowStatus
from annotations.queue import queue_next_subject
from annotations.roles import Volunteer
from jobs.models import Job

pytestmark = pytest.mark.django_db


def test_demo_cutouts_get_complexity_and_percentiles_on_ingestion():
    ingest_demo(limit=30)
    cutouts = list(Cutout.objects.all())
    assert all(c.complexity is not None and c.complexity > 0 for c in cutouts)
    assert max(c.complexity_percentile for c in cutouts) == 100.0
    ranked = sorted(cutouts, key=lambda c: c.complexity)
    assert ranked[0].complexity_percentile < ranked[-1].complexity_percentile
    compact = [c.complexity for c in cutouts if c.metadata["label"] == "Compact"]
    extended = [c.complexity for c in cutouts if c.metadata["label"] != "Compact"]
    assert compact and extended and sum(compact) / len(compact) < sum(extended) / len(extended)


def test_score_complexity_command_rescores_and_sets_queue_priority():
    ingest_demo(limit=12)
    Cutout.objects.update(complexity=None, complexity_percentile=None)
    call_command("score_complexity", survey=DEMO_SURVEY, set_priority=True, inline=True)
    job = Job.objects.get(kind="score_complexity")
    assert job.status == "succeeded" and job.done == job.total == 12
    most_complex = Cutout.objects.order_by("-complexity").first()
    assert most_complex.priority == 100.0
    assert SubjectWorkflowStatus.objects.get(subject=most_complex).priority == 100.0
    served = queue_next_subject(workflow_id=demo_workflow().pk, volunteer=Volunteer(None, "v1"))
    assert served.subject_id == most_complex.pk


def test_score_complexity_unknown_survey_is_a_clear_error():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no survey named 'nope'"):
        call_command("score_complexity", survey="nope", inline=True)
