"""A policy re-rank running again and again while volunteers are served and classify: no subject is
served twice to one volunteer, none is skipped, none goes past its retirement limit, and gold
subjects never retire. Meant for PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED against the
re-rank's bulk updates); on SQLite the same steps are serialised by the write lock."""

import random
import threading
from contextlib import suppress

import pytest
from django.db import close_old_connections, connection

from annotations.acquisition import gold_subjects_mark, policy_save
from annotations.models import Classification, Cutout, SubjectWorkflowStatus
from annotations.queue import queue_next_subject
from annotations.services import classification_create, expert_classification_create
from classifiers.acquisition import workflow_rank
from classifiers.models import ClassifierTask
from core.errors import Conflict
from tests.classifiers.test_acquisition import active_model, score
from tests.factories import make_workflow_with_subjects

LIMIT, SUBJECTS, VOLUNTEERS = 3, 10, 8
POLICY = {"weights": {"entropy": 1.0}, "exploration": 0.3, "diversity": False, "gold_start": 0.5, "gold_end": 0.2}


@pytest.mark.django_db(transaction=True)
def test_reranking_while_volunteers_are_served_serves_nobody_twice_and_nothing_past_retirement(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=SUBJECTS, retirement=LIMIT, name="Race", survey_name="race")
    task = ClassifierTask.objects.create(
        name="fr-race", survey=cutouts[0].survey, workflow=workflow, classes=["a", "b"]
    )
    version = active_model(task)
    for cutout in cutouts:
        score(cutout, task, version, entropy=random.random())
    expert_classification_create(
        workflow=workflow, subject=cutouts[0], annotations=[{"task": "T0", "value": 2}], source="x"
    )
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values=POLICY)
    served: dict[str, list[int]] = {}
    errors: list[Exception] = []
    done = threading.Event()
    ranked_once = threading.Event()
    reranks = [0]

    def volunteer():
        me = volunteer_factory()
        mine = served.setdefault(me.key, [])
        try:
            for _ in range(SUBJECTS + 2):
                status = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
                if status is None:
                    break
                mine.append(status.subject_id)
                with suppress(Conflict):  # filled up meanwhile: the queue's own refusal
                    classification_create(
                        workflow_id=workflow.pk,
                        subject_id=status.subject_id,
                        volunteer=me,
                        annotations=[{"task": "T0", "value": 1}],
                    )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    def reranker():
        try:
            while not done.is_set():
                # new scores arrive and the queue is re-ranked under the volunteers' feet
                pk = random.choice(cutouts).pk
                entry = Cutout.objects.get(pk=pk).model_scores[task.name]
                Cutout.objects.filter(pk=pk).update(model_scores={task.name: {**entry, "entropy": random.random()}})
                workflow_rank(workflow=workflow)
                reranks[0] += 1
                ranked_once.set()
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    ranking = threading.Thread(target=reranker)
    ranking.start()
    assert ranked_once.wait(timeout=60)  # the re-rank loop is going before the first volunteer comes
    before = reranks[0]
    workers = [threading.Thread(target=volunteer) for _ in range(VOLUNTEERS)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=180)
    done.set()
    ranking.join(timeout=60)
    assert not errors, [str(e) for e in errors]
    assert reranks[0] > before  # re-ranks really ran while volunteers were served

    for key, subjects in served.items():
        assert len(subjects) == len(set(subjects)), f"{key} was served a subject twice: {subjects}"
    real = SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=False)
    stored = {s.subject_id: Classification.objects.filter(subject_id=s.subject_id).count() for s in real}
    assert all(n <= LIMIT for n in stored.values()), stored
    # none skipped: 8 volunteers x 9 real subjects is room for every slot, so all retired full
    assert all(n == LIMIT for n in stored.values()), stored
    assert all(s.retired_at is not None and s.classification_count == LIMIT for s in real)
    gold = SubjectWorkflowStatus.objects.get(workflow=workflow, gold=True)
    assert gold.retired_at is None
    assert gold.classification_count == Classification.objects.filter(subject=cutouts[0], expert=False).count()
