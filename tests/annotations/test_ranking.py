"""Ordering a survey's labelling queue by complexity, classifier uncertainty or both."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.complexity import complexity_percentiles_update
from annotations.models import UNRANKED, Cutout, SubjectWorkflowStatus
from annotations.ranking import queue_rank, queue_ranking_set
from annotations.services import cutout_set_priority
from tests.factories import astronomer, make_cutout, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

# (complexity, entropy of task "fr"): src-4 has no classifier score, src-3 no complexity
SCORES = [(1.0, 0.60), (2.0, 0.10), (3.0, 0.40), (None, 0.69), (5.0, None)]


@pytest.fixture
def survey_queue():
    workflow, cutouts = make_workflow_with_subjects(n=5)
    for cutout, (complexity, entropy) in zip(cutouts, SCORES, strict=True):
        cutout.complexity = complexity
        cutout.complexity_percentile = None
        cutout.model_scores = {"fr": {"entropy": entropy, "version": 1}} if entropy is not None else {}
        cutout.save()
    survey = cutouts[0].survey
    complexity_percentiles_update(survey=survey)  # 4 scored cutouts: 25, 50, 75, 100
    return workflow, survey


def priorities(survey) -> dict[str, float | None]:
    return dict(Cutout.objects.filter(survey=survey).values_list("name", "priority"))


def queue_priorities(workflow) -> dict[str, float]:
    rows = SubjectWorkflowStatus.objects.filter(workflow=workflow).values_list("subject__name", "priority")
    return dict(rows)


def test_complexity_ranking_serves_the_most_complex_first(survey_queue):
    workflow, survey = survey_queue
    report = queue_ranking_set(survey=survey, by="complexity")
    assert (report.ranked, report.unranked) == (4, 1)
    assert priorities(survey) == {"src-0": 25.0, "src-1": 50.0, "src-2": 75.0, "src-3": None, "src-4": 100.0}
    assert queue_priorities(workflow)["src-4"] == 100.0 and queue_priorities(workflow)["src-3"] == UNRANKED


def test_uncertainty_ranking_serves_the_highest_entropy_first(survey_queue):
    _, survey = survey_queue
    queue_ranking_set(survey=survey, by="uncertainty", task_name="fr")
    got = priorities(survey)
    assert got == {"src-0": 75.0, "src-1": 25.0, "src-2": 50.0, "src-3": 100.0, "src-4": None}
    survey.refresh_from_db()
    assert (survey.queue_ranking, survey.queue_ranking_task) == ("uncertainty", "fr")


def test_both_rankings_average_the_percentiles_and_use_what_a_cutout_has(survey_queue):
    workflow, survey = survey_queue
    queue_ranking_set(survey=survey, by="complexity+uncertainty", task_name="fr")
    got = priorities(survey)
    assert got == {"src-0": 50.0, "src-1": 37.5, "src-2": 62.5, "src-3": 100.0, "src-4": 100.0}
    assert queue_priorities(workflow) == got


def test_new_scores_rerank_a_ranked_survey_and_manual_leaves_priorities(survey_queue):
    workflow, survey = survey_queue
    queue_ranking_set(survey=survey, by="complexity")
    late = make_cutout(survey, "src-late", subject_set=workflow.subject_sets.first(), seed=9)
    Cutout.objects.filter(pk=late.pk).update(complexity=10.0)
    complexity_percentiles_update(survey=survey)  # what ingestion and score_complexity do
    assert priorities(survey)["src-late"] == 100.0
    queue_ranking_set(survey=survey, by="manual")
    cutout_set_priority(cutout=late, priority=3.0)
    complexity_percentiles_update(survey=survey)
    assert priorities(survey)["src-late"] == 3.0  # a manual order is not overwritten
    assert queue_rank(survey=survey).by == "manual"


def test_bad_rankings_are_refused_and_change_nothing(survey_queue):
    _, survey = survey_queue
    queue_ranking_set(survey=survey, by="complexity")
    before = priorities(survey)
    client = APIClient()
    client.force_authenticate(astronomer())
    url = reverse("api-survey-queue-ranking", args=[survey.pk])
    for payload, message in (
        ({"by": "alphabetical"}, "queue ranking must be one of"),
        ({"by": "uncertainty"}, "name the classifier task"),
        ({"by": "uncertainty", "task": "no-such-task"}, "no cutout of test-survey has scores"),
    ):
        response = client.put(url, payload, format="json")
        assert response.status_code == 400 and message in response.json()["detail"], response.json()
    survey.refresh_from_db()
    assert survey.queue_ranking == "complexity" and priorities(survey) == before
    assert client.put(reverse("api-survey-queue-ranking", args=[999999]), {"by": "manual"}).status_code == 404
    assert APIClient().put(url, {"by": "manual"}, format="json").status_code in (401, 403)


def test_the_api_reads_and_sets_the_ranking(survey_queue):
    _, survey = survey_queue
    client = APIClient()
    client.force_authenticate(astronomer())
    url = reverse("api-survey-queue-ranking", args=[survey.pk])
    assert client.get(url).json() == {"survey": "test-survey", "by": "manual", "task": "", "ranked": 0, "unranked": 5}
    response = client.put(url, {"by": "complexity+uncertainty", "task": "fr"}, format="json")
    assert response.status_code == 200 and response.json()["ranked"] == 5
    assert client.get(url).json()["by"] == "complexity+uncertainty"


def test_rank_queue_command(survey_queue, capsys):
    _, survey = survey_queue
    call_command("rank_queue", "--survey", "test-survey", "--by", "uncertainty", "--task", "fr", "--top", "2")
    out = capsys.readouterr().out
    assert "queue ranked by uncertainty (task fr): 4 ranked, 1 unranked" in out
    assert out.strip().splitlines()[1].split() == ["100.0", "src-3"]
    with pytest.raises(CommandError, match="no survey named 'nope'"):
        call_command("rank_queue", "--survey", "nope", "--by", "complexity")
    with pytest.raises(CommandError, match="name the classifier task"):
        call_command("rank_queue", "--survey", "test-survey", "--by", "uncertainty")


def test_generated_cutouts_take_a_complexity_percentile_without_moving_the_real_ones(survey_queue):
    workflow, survey = survey_queue
    before = dict(Cutout.objects.filter(survey=survey).values_list("name", "complexity_percentile"))
    for name, score in (("generated-low", 0.5), ("generated-high", 9.0), ("generated-mid", 2.5)):
        cutout = make_cutout(survey=survey, name=name)
        Cutout.objects.filter(pk=cutout.pk).update(synthetic=True, complexity=score)
    complexity_percentiles_update(survey=survey)
    after = dict(Cutout.objects.filter(survey=survey).values_list("name", "complexity_percentile"))
    assert {name: after[name] for name in before} == before
    assert (after["generated-low"], after["generated-mid"], after["generated-high"]) == (0.0, 50.0, 100.0)
