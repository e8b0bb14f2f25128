"""Bad input and faults of the generators: too few images of a class, an unknown class, weights
that do not fit, approving twice, a worker killed mid-training or mid-generation. Each ends in a
clear 4xx or a failed job with the reason, and nothing already stored is lost."""

import pytest
import torch
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotations.models import Cutout
from generative import jobs as generative_jobs
from generative import services
from generative.models import GeneratedSample, GeneratorVersion
from jobs.models import Job
from jobs.registry import job_kind
from jobs.runner import job_run
from mlcore.generative.config import preset
from mlcore.generative.diffusion import DiffusionGenerator
from tests.factories import UserFactory, make_workflow_with_subjects

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for a worker process dying: no except-Exception handler sees it."""


@pytest.fixture(autouse=True)
def _small(settings):
    torch.set_num_threads(1)
    settings.RGZ_GENERATIVE_EVAL_PER_CLASS = 2


@pytest.fixture
def survey():
    """12 real cutouts: 5 labelled FRI, 7 FRII."""
    workflow, cutouts = make_workflow_with_subjects(n=12, retirement=3, name="Faults", survey_name="fault-survey")
    for i, cutout in enumerate(cutouts):
        Cutout.objects.filter(pk=cutout.pk).update(metadata={"label": "FRI" if i < 5 else "FRII"})
    return workflow.subject_sets.first().survey


def admin_client():
    client = APIClient()
    client.force_authenticate(UserFactory(username="boss", is_staff=True))
    return client


def trained_active(survey) -> GeneratorVersion:
    version = services.generator_training_start(survey=survey, preset="tiny", epochs=1)
    job_run(job_id=version.job_id)
    return services.version_promote(version=GeneratorVersion.objects.get(pk=version.pk))


def test_too_few_images_of_a_class_fails_the_training_naming_the_class_and_count(survey, settings):
    settings.RGZ_GENERATIVE_MIN_PER_CLASS = 6
    with pytest.raises(CommandError, match=r"FRI has 5 \(at least 6 of each class"):
        call_command("train_generator", "--survey", "fault-survey", "--preset", "tiny", "--inline")
    version = GeneratorVersion.objects.get()
    assert version.status == "failed" and "FRI has 5" in version.error and "FRII" not in version.error


def test_an_unknown_class_is_refused_before_anything_is_stored(survey):
    response = admin_client().post(
        "/api/generative/train/", {"survey": "fault-survey", "classes": ["FRI", "Bent"]}, format="json"
    )
    assert response.status_code == 400
    assert "unknown class(es) Bent" in response.json()["detail"] and "FRI, FRII" in response.json()["detail"]
    with pytest.raises(CommandError, match="unknown class"):
        call_command("train_generator", "--survey", "fault-survey", "--classes", "Hybrid", "--inline")
    assert not GeneratorVersion.objects.exists()


@pytest.mark.parametrize("weights", ["other architecture", "not a weights file"])
def test_weights_that_do_not_fit_fail_the_generation_and_keep_everything(survey, settings, weights):
    version = trained_active(survey)
    path = settings.MEDIA_ROOT / version.weights.name
    if weights == "other architecture":
        other = preset("tiny", n_classes=3, max_steps=1)
        DiffusionGenerator(other).fit(torch.rand(3, 1, 32, 32).numpy(), [0, 1, 2]).save(path)
    else:
        path.write_bytes(b"\x00 not torch")
    job = services.samples_generate_start(survey=survey, per_class=1)
    assert job_run(job_id=job.pk) == {}
    job.refresh_from_db()
    assert job.status == "failed"
    assert ("does not hold weights" if weights == "not a weights file" else "another architecture") in job.message
    assert not GeneratedSample.objects.exists() and not Cutout.objects.filter(synthetic=True).exists()
    version.refresh_from_db()
    assert version.status == "active" and version.metrics  # the registry keeps the version as it was


def test_weights_that_do_not_fit_fail_a_new_evaluation_and_keep_the_old_metrics(survey, settings):
    version = trained_active(survey)
    metrics = dict(version.metrics)
    other = preset("tiny", n_classes=3, max_steps=1)
    DiffusionGenerator(other).fit(torch.rand(3, 1, 32, 32).numpy(), [0, 1, 2]).save(
        settings.MEDIA_ROOT / version.weights.name
    )
    job = services.generator_evaluation_start(version=version)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "another architecture" in job.message
    version.refresh_from_db()
    assert version.status == "active" and version.metrics == metrics


def test_approving_a_sample_twice_is_a_conflict_that_changes_nothing(survey):
    trained_active(survey)
    call_command("generate", "--survey", "fault-survey", "--per-class", "1", "--inline")
    sample = GeneratedSample.objects.first()
    admin = admin_client()
    body = {"survey": "fault-survey", "ids": [sample.pk], "review": "approved"}
    assert admin.post("/api/generative/samples/review/", body, format="json").status_code == 200
    sample.refresh_from_db()
    first_review = sample.reviewed_at
    again = admin.post("/api/generative/samples/review/", body, format="json")
    assert again.status_code == 409 and "approved already" in again.json()["detail"]
    sample.refresh_from_db()
    assert sample.review == "approved" and sample.reviewed_at == first_review
    withdrawn = {**body, "review": "rejected"}  # changing one's mind is not a repeat
    assert admin.post("/api/generative/samples/review/", withdrawn, format="json").status_code == 200


def test_a_sample_rejected_then_approved_again_goes_back_into_the_queue(survey):
    from annotations.models import SubjectWorkflowStatus

    trained_active(survey)
    call_command("generate", "--survey", "fault-survey", "--per-class", "1", "--inline")
    sample = GeneratedSample.objects.first()
    admin = admin_client()
    body = {"survey": "fault-survey", "ids": [sample.pk]}
    statuses = SubjectWorkflowStatus.objects.filter(subject_id=sample.cutout_id)
    for review, retired in (("approved", False), ("rejected", True), ("approved", False)):
        response = admin.post("/api/generative/samples/review/", {**body, "review": review}, format="json")
        assert response.status_code == 200
        assert statuses.exists()
        assert all((s.retired_at is not None) == retired for s in statuses.all()), review


def test_a_worker_killed_mid_training_resumes_from_the_checkpoint_and_the_active_version_stays(survey, monkeypatch):
    active = trained_active(survey)
    version = services.generator_training_start(survey=survey, preset="tiny", epochs=3)
    assert job_kind(services.TRAIN_JOB).redeliver
    real = generative_jobs._history_append

    def die_after_first_epoch(version_id, row):
        if row["epoch"] == 1:
            real(version_id, row)
            raise WorkerKilled
        return real(version_id, row)

    monkeypatch.setattr(generative_jobs, "_history_append", die_after_first_epoch)
    with pytest.raises(WorkerKilled):
        job_run(job_id=version.job_id)
    version.refresh_from_db()
    assert version.status == "training" and generative_jobs.checkpoint_path(version).is_file()
    assert GeneratorVersion.objects.get(pk=active.pk).status == "active"
    monkeypatch.setattr(generative_jobs, "_history_append", real)
    job_run(job_id=version.job_id)  # the redelivered message
    version.refresh_from_db()
    assert version.status == "ready" and [h["epoch"] for h in version.history] == [1, 2, 3]
    assert GeneratorVersion.objects.get(pk=active.pk).status == "active"
    assert not generative_jobs.checkpoint_path(version).exists()  # done: nothing left to resume


def test_a_training_that_fails_after_its_epochs_keeps_the_active_version_and_drops_its_checkpoint(survey, monkeypatch):
    active = trained_active(survey)
    version = services.generator_training_start(survey=survey, preset="tiny", epochs=2)

    def broken_evaluation(*args, **kwargs):
        assert generative_jobs.checkpoint_path(version).is_file()  # the epochs wrote it
        raise RuntimeError("the evaluation ran out of memory")

    monkeypatch.setattr(generative_jobs.ml, "evaluate", broken_evaluation)
    with pytest.raises(RuntimeError):
        job_run(job_id=version.job_id)
    version.refresh_from_db()
    assert version.status == "failed" and "ran out of memory" in version.error and not version.weights
    assert not generative_jobs.checkpoint_path(version).exists()
    active.refresh_from_db()
    assert active.status == "active" and active.weights and active.metrics


def test_a_worker_killed_mid_generation_keeps_what_it_stored_and_the_redelivery_finishes(survey, monkeypatch):
    trained_active(survey)
    assert job_kind(services.GENERATE_JOB).redeliver
    job = services.samples_generate_start(survey=survey, per_class=2)
    real = generative_jobs.services.sample_create
    made = []

    def die_after_two(**kwargs):
        if len(made) == 2:
            raise WorkerKilled
        made.append(real(**kwargs))
        return made[-1]

    monkeypatch.setattr(generative_jobs.services, "sample_create", die_after_two)
    with pytest.raises(WorkerKilled):
        job_run(job_id=job.pk)
    assert GeneratedSample.objects.count() == 2
    assert Cutout.objects.filter(synthetic=True).count() == 2  # the third sample's cutout went with it
    monkeypatch.setattr(generative_jobs.services, "sample_create", real)
    result = job_run(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).status == "succeeded", Job.objects.get(pk=job.pk).message
    assert result["skipped"] == 2 and result["created"] == 2
    seeds = list(GeneratedSample.objects.values_list("seed", flat=True))
    assert len(seeds) == 4 and len(set(seeds)) == 4  # nothing rendered twice


def test_asking_again_renders_new_samples_and_a_fixed_seed_reruns_skip_what_is_stored(survey):
    version = trained_active(survey)
    admin = admin_client()
    body = {"survey": "fault-survey", "per_class": 1}
    for _ in range(2):  # the Generate button sends no seed
        started = admin.post("/api/generative/generate/", body, format="json")
        assert started.status_code == 202, started.content
        job_run(job_id=started.json()["job"])
    assert GeneratedSample.objects.count() == 4  # two classes, twice, all different
    assert len(set(GeneratedSample.objects.values_list("seed", flat=True))) == 4
    assert services.selectors.next_sample_seed(version=version) == 2
    call_command("generate", "--survey", "fault-survey", "--per-class", "1", "--seed", "1", "--inline")
    assert GeneratedSample.objects.count() == 4  # seed 1's samples were there already


@pytest.mark.parametrize("seed", ["-1", str(2**31)])
def test_a_seed_out_of_range_is_refused_before_anything_is_stored(survey, seed):
    trained_active(survey)
    with pytest.raises(CommandError, match="seed must be from 0 to 2147483647"):
        call_command("generate", "--survey", "fault-survey", "--per-class", "1", "--seed", seed, "--inline")
    response = admin_client().post(
        "/api/generative/generate/", {"survey": "fault-survey", "per_class": 1, "seed": int(seed)}, format="json"
    )
    assert response.status_code == 400 and "seed" in response.json(), response.json()
    assert not GeneratedSample.objects.exists()


def test_volunteers_see_no_generated_cutout_before_it_is_approved_or_after_it_is_rejected(survey):
    trained_active(survey)
    call_command("generate", "--survey", "fault-survey", "--per-class", "1", "--inline")
    first, second = GeneratedSample.objects.order_by("pk")
    volunteer, astro = APIClient(), admin_client()

    def listed(client):
        rows = client.get("/api/cutouts/", {"survey": "fault-survey"}).json()
        return {r["id"] for r in (rows["results"] if isinstance(rows, dict) else rows)}

    def reachable(client, sample):
        urls = [f"/api/cutouts/{sample.cutout_id}/{tail}" for tail in ("", "contours/", "pixels/")]
        return [client.get(url).status_code for url in urls]

    assert {first.cutout_id, second.cutout_id} & listed(volunteer) == set()
    assert reachable(volunteer, first) == [404, 404, 404]  # pending: as if it did not exist
    assert {first.cutout_id, second.cutout_id} <= listed(astro) and reachable(astro, first) == [200, 200, 200]
    body = {"survey": "fault-survey", "ids": [first.pk, second.pk], "review": "approved"}
    assert astro.post("/api/generative/samples/review/", body, format="json").status_code == 200
    assert {first.cutout_id, second.cutout_id} <= listed(volunteer)
    assert reachable(volunteer, first) == [200, 200, 200]
    body = {**body, "ids": [second.pk], "review": "rejected"}
    assert astro.post("/api/generative/samples/review/", body, format="json").status_code == 200
    assert second.cutout_id not in listed(volunteer) and first.cutout_id in listed(volunteer)
    assert reachable(volunteer, second) == [404, 404, 404]
    real = Cutout.objects.filter(survey=survey, synthetic=False).first()
    assert real.pk in listed(volunteer) and volunteer.get(f"/api/cutouts/{real.pk}/").status_code == 200
