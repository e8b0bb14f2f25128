"""Generated samples and classifier training: never counted (labels, splits, the unlabelled pool)
unless a training run turns augmentation on; then only the approved ones, in the training split,
labelled with the class they were generated as."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.ingestion import cutout_create, synthetic_cutout_create
from annotations.ml import prepare_cutout, read_cutout_image
from annotations.models import Cutout
from annotations.services import expert_classification_create
from classifiers import selectors, services
from classifiers.models import ModelVersion
from generative import services as generative_services
from generative.ml import sky_image
from generative.models import GeneratorVersion
from tests.factories import UserFactory, blob_array, fits_bytes, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

FRI, FRII = 1, 2  # answer indices of the demo morphology question


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def survey_with_samples():
    """12 real cutouts labelled by experts, and generated samples: FRI and FRII approved, one FRI
    pending, one FRII rejected, one Bent (a class the task lacks) approved."""
    workflow, _ = make_workflow_with_subjects(n=0, retirement=20, name="Morphology", survey_name="aug-survey")
    subject_set = workflow.subject_sets.first()
    survey = subject_set.survey
    for i in range(12):
        raw = fits_bytes(blob_array(size=48, seed=i, lobes=1 + i % 2))
        cutout = cutout_create(
            survey=survey, name=f"src-{i:02d}", prepared=prepare_cutout(read_cutout_image(raw), source_bytes=raw)
        )
        subject_set.cutouts.add(cutout)
        value = FRI if i % 2 == 0 else FRII
        expert_classification_create(
            workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": value}], source="t"
        )
    task = services.classifier_task_create(name="aug", survey=survey, workflow=workflow, classes=["FRI", "FRII"])
    generator = GeneratorVersion.objects.create(
        survey=survey, number=1, status="active", classes=["FRI", "FRII", "Bent"]
    )
    samples = {}
    for name, requested, lobes in [
        ("fri-a", "FRI", 1),
        ("fri-b", "FRI", 1),
        ("frii-a", "FRII", 2),
        ("fri-pending", "FRI", 1),
        ("frii-rejected", "FRII", 2),
        ("bent", "Bent", 2),
    ]:
        cutout = synthetic_cutout_create(
            survey=survey,
            name=f"generated-{name}",
            image=sky_image(blob_array(size=48, seed=100 + len(samples), lobes=lobes) / 10),
            metadata={"#generator_version": 1, "#requested_class": requested, "#seed": len(samples)},
        )
        samples[name] = generative_services.sample_create(
            version=generator, cutout=cutout, requested_class=requested, seed=len(samples), guidance=2.0
        )
    approve = [samples[k].pk for k in ("fri-a", "fri-b", "frii-a", "bent")]
    generative_services.samples_review(survey=survey, sample_ids=approve, review="approved")
    generative_services.samples_review(survey=survey, sample_ids=[samples["frii-rejected"].pk], review="rejected")
    # an expert answered a generated subject in the queue: still no label for training by default
    expert_classification_create(
        workflow=workflow, subject=samples["fri-a"].cutout, annotations=[{"task": "T0", "value": FRII}], source="t2"
    )
    return task, {k: s.cutout_id for k, s in samples.items()}


def test_generated_samples_never_count_by_default(survey_with_samples):
    task, generated = survey_with_samples
    data = selectors.training_set(task=task, source="both")
    used = set(data.labels) | set(data.train + data.val + data.test + data.unlabelled)
    assert not used & set(generated.values())
    assert len(data.labels) == 12 and data.synthetic == []


def test_augmentation_adds_only_approved_samples_to_the_training_split(survey_with_samples):
    task, generated = survey_with_samples
    plain = selectors.training_set(task=task, source="both")
    data = selectors.training_set(task=task, source="both", augment_synthetic=True)
    approved = {generated["fri-a"]: 0, generated["fri-b"]: 0, generated["frii-a"]: 1}  # Bent: not a task class
    assert data.synthetic == sorted(approved)
    assert {pk: data.labels[pk] for pk in data.synthetic} == approved  # the class asked for, not the expert's answer
    assert data.train == plain.train + sorted(approved)
    assert data.val == plain.val and data.test == plain.test and data.unlabelled == plain.unlabelled


def test_a_training_run_turns_augmentation_on_and_records_it(survey_with_samples):
    task, generated = survey_with_samples
    options = ["--task", "aug", "--epochs", "1", "--labels", "expert", "--method", "supervised", "--max-steps", "2"]
    call_command("retrain", *options, "--inline")
    call_command("retrain", *options, "--augment-synthetic", "--inline")
    plain, augmented = ModelVersion.objects.filter(task=task).order_by("number")
    assert plain.status == augmented.status == "ready"
    assert not plain.augment_synthetic and augmented.augment_synthetic
    assert plain.training_data["synthetic"] == []
    synthetic = sorted(generated[k] for k in ("fri-a", "fri-b", "frii-a"))
    assert augmented.training_data["synthetic"] == synthetic
    assert set(synthetic) <= set(augmented.training_data["train"])
    assert not set(generated.values()) & set(plain.training_data["train"] + plain.training_data["test"])
    assert not set(generated.values()) & set(augmented.training_data["val"] + augmented.training_data["test"])


def test_the_api_takes_the_switch_and_refuses_a_bad_value(survey_with_samples):
    client = APIClient()
    client.force_authenticate(UserFactory(username="boss", is_staff=True))
    url = reverse("api-classifier-retrain", args=["aug"])
    bad = client.post(url, {"augment_synthetic": "sometimes", "labels": "expert"}, format="json")
    assert bad.status_code == 400 and "augment_synthetic" in bad.json()
    started = client.post(url, {"augment_synthetic": True, "labels": "expert", "epochs": 1}, format="json")
    assert started.status_code == 202 and started.json()["augment_synthetic"] is True
    assert ModelVersion.objects.get(pk=started.json()["id"]).augment_synthetic


def test_generated_rows_take_the_real_rows_brightness_where_it_was_recorded():
    """Rows of generated cutouts keep their drawn peak times the real median here over the real
    median at the generator's size; one with nothing recorded keeps the pipeline's peak of 1."""
    from types import SimpleNamespace

    import numpy as np

    from classifiers import ml

    x = np.zeros((5, 1, 8, 8), np.float32)
    for i, peak in enumerate([0.6, 0.8, 1.0, 0.9, 0.9]):  # three real rows, then two generated
        x[i, 0, 3:5, 3:5] = peak  # a generated row's pipeline peak of 1 fell to 0.9 in the resampling
        x[i, 0, 2, 2] = peak / 2
    arrays = ml.CutoutArrays(x=x, ids=[1, 2, 3, 10, 11])
    generated = {
        10: SimpleNamespace(metadata={"#drawn_peak": 0.2, "#real_median_peak": 0.4}),
        11: SimpleNamespace(metadata={"#requested_class": "FRI"}),  # made before brightness was recorded
    }
    out, summary = ml.synthetic_brightness_matched(arrays, generated)
    assert summary == {"real_median_peak": pytest.approx(0.8), "matched": 1, "unmatched": 1}
    assert np.allclose(out.x[3], x[3] * (0.2 * 0.8 / 0.4))  # the same image, dimmer by its matched peak
    assert np.array_equal(out.x[[0, 1, 2, 4]], x[[0, 1, 2, 4]])
    assert np.array_equal(arrays.x, x)  # the input is left alone


def test_a_training_with_augmentation_records_how_the_generated_images_were_brightened(survey_with_samples):
    task, generated = survey_with_samples
    for name in ("fri-a", "frii-a"):
        cutout = Cutout.objects.get(pk=generated[name])
        cutout.metadata = {**cutout.metadata, "#drawn_peak": 0.3, "#real_median_peak": 0.5}
        cutout.save(update_fields=["metadata"])
    options = ["--task", "aug", "--epochs", "1", "--labels", "expert", "--method", "supervised", "--max-steps", "2"]
    call_command("retrain", *options, "--augment-synthetic", "--inline")
    version = ModelVersion.objects.get(task=task)
    brightness = version.training_data["synthetic_brightness"]
    assert brightness["matched"] == 2 and brightness["unmatched"] == 1  # fri-b has none recorded
    assert 0 < brightness["real_median_peak"] <= 1
    assert any("2 generated image(s) given the real images' brightness" in n for n in version.job.result["notes"])
