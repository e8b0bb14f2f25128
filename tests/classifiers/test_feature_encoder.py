"""Survey encoders: the training job (vectors for every cutout, activation only on success), the
command, the API, and similarity and novelty in the encoder's feature space."""

from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Cutout
from classifiers import encoders, services
from classifiers.models import ClassifierTask, CutoutFeatures, FeatureEncoder
from core.errors import InvalidInput
from jobs.models import Job
from jobs.runner import job_run
from tests.classifiers.test_acquisition import active_model
from tests.factories import (
    JobRunningAPIClient,
    UserFactory,
    astronomer,
    job_result,
    make_cutout,
    make_workflow_with_subjects,
)

pytestmark = pytest.mark.django_db

TINY = {"image_size": 16, "width": 4, "feature_dim": 8, "projection_dim": 8, "batch_size": 4, "steps": 3}


@pytest.fixture(autouse=True)
def tiny_encoder(settings):
    import torch

    torch.set_num_threads(1)
    settings.RGZ_ENCODER_SETTINGS = dict(TINY)


@pytest.fixture
def survey_cutouts():
    workflow, cutouts = make_workflow_with_subjects(n=6, name="Enc", survey_name="enc")
    return workflow, cutouts


def train(survey, steps=None, progress=None) -> FeatureEncoder:
    encoder = encoders.encoder_training_start(survey=survey, steps=steps, send=False)
    job_run(job_id=encoder.job.pk, on_progress=progress)
    return FeatureEncoder.objects.get(pk=encoder.pk)


def vectors_of(feature_version: str):
    return CutoutFeatures.objects.filter(feature_version=feature_version)


def corrupt(cutout) -> None:
    with open(cutout.source_file.path, "wb") as handle:
        handle.write(b"not a FITS file")


def test_training_stores_a_vector_per_cutout_and_activates(survey_cutouts):
    from mlcore.features import ContrastiveEncoder

    _, cutouts = survey_cutouts
    _, elsewhere = make_workflow_with_subjects(n=1, name="Other", survey_name="other")
    seen = []
    encoder = train(cutouts[0].survey, progress=lambda done, total, message: seen.append(message))
    assert encoder.status == "active" and encoder.error == ""
    assert encoder.feature_version == "encoder:enc:v1"
    stored = vectors_of("encoder:enc:v1")
    assert sorted(stored.values_list("cutout_id", flat=True)) == sorted(c.pk for c in cutouts)
    assert set(stored.values_list("dim", flat=True)) == {8} and not stored.exclude(model_version=None).exists()
    # the full settings: the platform's, with EncoderConfig's defaults for the rest
    assert encoder.config["image_size"] == 16 and encoder.config["steps"] == 3 and encoder.config["temperature"] == 0.2
    assert len(encoder.loss_history) == 3 and encoder.finished_at is not None
    loaded = ContrastiveEncoder.load(encoder.weights.path, device="cpu")
    assert loaded.config.feature_dim == 8
    assert "reading images 6/6" in seen and "features 6/6" in seen
    assert any(m.startswith("training step 3/3, about ") and " left" in m for m in seen)
    result = job_result(encoder.job.pk)
    assert result["stored"] == 6 and result["feature_version"] == "encoder:enc:v1"
    assert not CutoutFeatures.objects.filter(cutout=elsewhere[0]).exists()  # another survey's cutout


def test_a_second_run_demotes_the_first(survey_cutouts):
    _, cutouts = survey_cutouts
    first = train(cutouts[0].survey)
    second = train(cutouts[0].survey, steps=4)
    first.refresh_from_db()
    assert (first.status, second.status) == ("ready", "active")
    assert second.feature_version == "encoder:enc:v2" and len(second.loss_history) == 4
    assert vectors_of("encoder:enc:v2").count() == 6
    assert encoders.encoder_active(survey_id=cutouts[0].survey_id) == second


def test_a_failed_run_leaves_the_active_encoder_and_its_vectors(survey_cutouts):
    _, cutouts = survey_cutouts
    first = train(cutouts[0].survey)
    for cutout in cutouts[:3]:
        corrupt(cutout)
    failed = train(cutouts[0].survey)
    assert failed.status == "failed"
    assert "3 usable cutouts" in failed.error and "at least 4" in failed.error
    assert Job.objects.get(pk=failed.job.pk).status == Job.Status.FAILED
    first.refresh_from_db()
    assert first.status == "active" and vectors_of(first.feature_version).count() == 6
    assert not vectors_of(failed.feature_version).exists()


def test_a_failure_after_the_vectors_drops_them_and_activates_nothing(survey_cutouts, monkeypatch):
    _, cutouts = survey_cutouts
    first = train(cutouts[0].survey)

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(encoders, "encoder_activate", broken)
    with pytest.raises(OSError):
        train(cutouts[0].survey)
    failed = FeatureEncoder.objects.get(number=2)
    assert failed.status == "failed" and "disk full" in failed.error
    assert not vectors_of(failed.feature_version).exists()
    first.refresh_from_db()
    assert first.status == "active" and vectors_of(first.feature_version).count() == 6


def test_an_unreadable_cutout_is_skipped_and_reported(survey_cutouts):
    _, cutouts = survey_cutouts
    corrupt(cutouts[2])
    encoder = train(cutouts[0].survey)
    assert encoder.status == "active"
    assert not vectors_of(encoder.feature_version).filter(cutout=cutouts[2]).exists()
    assert vectors_of(encoder.feature_version).count() == 5
    assert any(f"cutout {cutouts[2].pk}" in line for line in Job.objects.get(pk=encoder.job.pk).errors)


def test_too_few_cutouts_are_a_clear_error(settings):
    _, cutouts = make_workflow_with_subjects(n=3, name="Few", survey_name="few")
    settings.RGZ_ENCODER_SETTINGS = {**TINY, "batch_size": 8}
    encoder = train(cutouts[0].survey)
    assert encoder.status == "failed" and "3 usable cutouts" in encoder.error and "at least 8" in encoder.error
    _, lone = make_workflow_with_subjects(n=1, name="Lone", survey_name="lone")
    with pytest.raises(InvalidInput, match="1 cutout"):
        encoders.encoder_training_start(survey=lone[0].survey, send=False)
    assert not FeatureEncoder.objects.filter(survey=lone[0].survey).exists()


def test_the_command_trains_inline(survey_cutouts):
    out = StringIO()
    call_command("train_encoder", "--survey", "enc", "--steps", "4", "--inline", stdout=out)
    assert "encoder:enc:v1 is now the active encoder of enc" in out.getvalue()
    encoder = FeatureEncoder.objects.get()
    assert encoder.status == "active" and encoder.config["steps"] == 4
    with pytest.raises(CommandError, match="does not exist"):
        call_command("train_encoder", "--survey", "missing", "--inline", stdout=StringIO())
    with pytest.raises(CommandError, match="steps"):
        call_command("train_encoder", "--survey", "enc", "--steps", "0", "--inline", stdout=StringIO())


def admin_api():
    client = JobRunningAPIClient()
    client.force_authenticate(UserFactory(username="boss", is_staff=True))
    return client


def test_the_api_starts_a_training_for_admins_only(survey_cutouts):
    _, cutouts = survey_cutouts
    url = reverse("api-survey-encoder", args=[cutouts[0].survey_id])
    assert APIClient().post(url, {}, format="json").status_code in (401, 403)
    for user in (UserFactory(username="volunteer"), astronomer()):
        client = APIClient()
        client.force_authenticate(user)
        assert client.post(url, {}, format="json").status_code == 403
    assert not FeatureEncoder.objects.exists()
    client = admin_api()
    for bad in (0, -3, "many", 10**9):
        response = client.post(url, {"steps": bad}, format="json")
        assert response.status_code == 400 and "steps" in response.json(), response.content
    assert client.post(reverse("api-survey-encoder", args=[999999]), {}, format="json").status_code == 404
    response = client.post(url, {"steps": 4}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["job_url"].endswith(f"/api/jobs/{body['job']}/") and body["feature_version"] == "encoder:enc:v1"
    encoder = FeatureEncoder.objects.get(pk=body["id"])
    assert encoder.status == "active"  # the job ran once the request committed

    listing = APIClient()
    listing.force_authenticate(astronomer("astro2"))
    rows = listing.get(url).json()
    assert [(r["id"], r["status"], r["steps"]) for r in rows] == [(encoder.pk, "active", 4)]
    assert rows[0]["loss_first"] == encoder.loss_history[0] and rows[0]["loss_last"] == encoder.loss_history[-1]
    assert rows[0]["job"] == str(encoder.job_id)
    assert APIClient().get(url).status_code in (401, 403)
    assert listing.get(reverse("api-survey-encoder", args=[999999])).status_code == 404


@pytest.fixture
def two_spaces():
    """Survey "enc" (4 cutouts) with hand-made vectors in both spaces, ordered differently: in the
    classifier's, c0's nearest is c1; in the encoder's, c3."""
    workflow, cutouts = make_workflow_with_subjects(n=4, name="Spaces", survey_name="enc")
    survey = cutouts[0].survey
    task = ClassifierTask.objects.create(name="fr-sp", survey=survey, workflow=workflow, classes=["FRI", "FRII"])
    version = active_model(task)
    ids = [c.pk for c in cutouts]
    services.cutout_features_store(
        version=version, ids=ids, vectors=np.array([[0, 0], [1, 0], [5, 0], [9, 0]], np.float32)
    )
    encoder = FeatureEncoder.objects.create(survey=survey, number=1, status="active", feature_version="encoder:enc:v1")
    encoders.encoder_features_store(
        encoder=encoder, ids=ids, vectors=np.array([[0, 0, 0], [20, 0, 0], [30, 0, 0], [0, 2, 0]], np.float32)
    )
    return cutouts, version, encoder


@pytest.fixture
def astro_api():
    client = APIClient()
    client.force_authenticate(astronomer())
    return client


def similar(api, cutout_id, **params):
    return api.get(reverse("api-cutout-similar", args=[cutout_id]), params)


def test_similar_chooses_the_feature_space(two_spaces, astro_api):
    cutouts, version, _ = two_spaces
    names = lambda body: [n["name"] for n in body["neighbours"]]  # noqa: E731
    default = similar(astro_api, cutouts[0].pk, k=1).json()
    assert (default["feature_version"], default["space"], names(default)) == ("fr-sp:v1", "classifier", ["src-1"])
    encoder = similar(astro_api, cutouts[0].pk, k=2, space="encoder")
    assert encoder.status_code == 200, encoder.content
    body = encoder.json()
    assert (body["feature_version"], body["space"], names(body)) == ("encoder:enc:v1", "encoder", ["src-3", "src-1"])
    assert [n["distance"] for n in body["neighbours"]] == pytest.approx([2.0, 20.0])
    assert similar(astro_api, cutouts[0].pk, k=1, space="classifier").json()["feature_version"] == "fr-sp:v1"
    # without an active classifier the default falls back on the encoder
    version.status = "ready"
    version.save()
    assert similar(astro_api, cutouts[0].pk, k=1).json()["feature_version"] == "encoder:enc:v1"
    response = similar(astro_api, cutouts[0].pk, space="classifier")
    assert response.status_code == 409 and "classifier space" in response.json()["detail"]


def test_a_space_without_vectors_is_a_409_and_an_unknown_one_a_400(two_spaces, astro_api):
    cutouts, _, encoder = two_spaces
    late = make_cutout(cutouts[0].survey, "late", seed=20)  # came after the encoder
    response = similar(astro_api, late.pk, space="encoder")
    assert response.status_code == 409 and "encoder space" in response.json()["detail"]
    FeatureEncoder.objects.filter(pk=encoder.pk).update(status="ready")  # no active encoder
    assert similar(astro_api, cutouts[0].pk, space="encoder").status_code == 409
    response = similar(astro_api, cutouts[0].pk, space="pixels")
    assert response.status_code == 400 and "space" in response.json()["detail"]


def test_the_novelty_gallery_takes_a_space(two_spaces, client):
    cutouts, version, _ = two_spaces
    client.force_login(astronomer())
    url = reverse("survey-novelty", args=[cutouts[0].survey_id])
    by_default = client.get(url)
    assert by_default.context["feature_version"] == "fr-sp:v1"
    encoder = client.get(url, {"space": "encoder"})
    assert encoder.status_code == 200 and encoder.context["feature_version"] == "encoder:enc:v1"
    assert [item.cutout.name for item in encoder.context["items"]][:2] == ["src-2", "src-3"]
    assert b"space=encoder" in encoder.content  # "more like this" searches the same space
    assert client.get(url, {"space": "pixels"}).status_code == 400
    version.status = "ready"
    version.save()
    assert client.get(url).context["feature_version"] == "encoder:enc:v1"
    empty = client.get(url, {"space": "classifier"})
    assert empty.status_code == 200 and empty.context["items"] == []


def test_a_training_cancelled_before_it_started_fails_the_encoder(survey_cutouts):
    from jobs.dispatch import job_cancel

    _, cutouts = survey_cutouts
    encoder = encoders.encoder_training_start(survey=cutouts[0].survey, send=False)
    job_cancel(job=encoder.job)
    encoder.refresh_from_db()
    assert encoder.status == "failed" and "cancelled" in encoder.error
    # the next start is not blocked by it
    assert encoders.encoder_training_start(survey=cutouts[0].survey, send=False).number == 2


def test_the_encoder_learns_from_real_cutouts_only_and_gives_generated_ones_vectors(survey_cutouts, monkeypatch):
    from classifiers import encoder_job

    _, cutouts = survey_cutouts
    generated = cutouts[:2]
    Cutout.objects.filter(pk__in=[c.pk for c in generated]).update(synthetic=True)
    seen_by_fit = []
    real_fit = encoder_job.ml.encoder_fit

    def fit(config, x, on_step):
        seen_by_fit.append(len(x))
        return real_fit(config, x, on_step)

    monkeypatch.setattr(encoder_job.ml, "encoder_fit", fit)
    encoder = train(cutouts[0].survey)
    assert encoder.status == "active", encoder.error
    assert seen_by_fit == [4]  # the six cutouts less the two generated ones
    stored = set(vectors_of(encoder.feature_version).values_list("cutout_id", flat=True))
    assert stored == {c.pk for c in cutouts}


def test_too_few_real_cutouts_fail_the_encoder_whatever_the_generated_ones(settings):
    _, cutouts = make_workflow_with_subjects(n=6, name="Mostly generated", survey_name="mostly-generated")
    Cutout.objects.filter(pk__in=[c.pk for c in cutouts[:4]]).update(synthetic=True)
    settings.RGZ_ENCODER_SETTINGS = {**TINY, "batch_size": 4}
    encoder = train(cutouts[0].survey)
    assert encoder.status == "failed" and "2 usable cutouts" in encoder.error and "2 real of its 6" in encoder.error
