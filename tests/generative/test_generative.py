"""The generator registry end to end: train (tiny preset), evaluate, promote, generate, review;
approved samples reach the queue flagged synthetic, nothing else does; bad input is refused."""

from pathlib import Path

import pytest
import torch
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotations.ml import read_cutout_image
from annotations.models import Cutout, SubjectWorkflowStatus
from generative import jobs as generative_jobs
from generative.models import GeneratedSample, GeneratorVersion
from tests.factories import UserFactory, astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small(settings):
    torch.set_num_threads(1)
    settings.RGZ_GENERATIVE_EVAL_PER_CLASS = 2


@pytest.fixture
def labelled():
    """A workflow over 12 real cutouts labelled FRI / FRII alternately."""
    workflow, cutouts = make_workflow_with_subjects(n=12, retirement=3, name="Generative", survey_name="gen-survey")
    for i, cutout in enumerate(cutouts):
        Cutout.objects.filter(pk=cutout.pk).update(metadata={"label": "FRI" if i % 2 else "FRII"})
    return workflow, cutouts


def admin_client():
    client = APIClient()
    client.force_authenticate(UserFactory(username="boss", is_staff=True))
    return client


def train_tiny(survey="gen-survey", *extra):
    call_command("train_generator", "--survey", survey, "--preset", "tiny", "--epochs", "2", "--inline", *extra)
    return GeneratorVersion.objects.order_by("-pk").first()


def test_training_evaluates_and_stores_a_ready_version(labelled):
    version = train_tiny()
    assert version.status == "ready" and version.classes == ["FRI", "FRII"]
    assert version.config["unet"]["network"] == "rab" and version.config["unet"]["n_classes"] == 2
    assert {"memorisation", "memorisation_real", "ks_flux", "ks_extent", "ks_components"} <= set(version.metrics)
    assert len(version.history) >= 1 and version.weights and version.sample_grid
    split = version.training_data
    assert split["test"] and not set(split["test"]) & set(split["train"])  # evaluated on held-out cutouts


def test_the_evaluation_is_plotted_and_shown_with_its_measures(client, labelled):
    from PIL import Image

    version = train_tiny()
    for plot in (version.properties_plot, version.loss_plot):
        with Image.open(plot.path) as image:
            assert image.format == "PNG" and image.width > 200 and image.height > 100
    body = admin_client().get(f"/api/generative/versions/{version.pk}/").json()
    assert body["properties_plot_url"] == version.properties_plot.url and body["loss_plot_url"] == version.loss_plot.url
    client.force_login(UserFactory(username="boss", is_staff=True))
    page = client.get(f"/generative/versions/{version.pk}/").content.decode()
    assert version.properties_plot.url in page and version.loss_plot.url in page
    assert 'data-key="memorisation"' in page and 'data-key="ks_flux"' in page
    assert 'data-class="FRI"' in page and 'data-class="FRII"' in page
    # a new evaluation replaces the plot with its own and keeps one file
    first_plot = version.properties_plot.path
    job = admin_client().post(f"/api/generative/versions/{version.pk}/evaluate/").json()
    from jobs.runner import job_run

    job_run(job_id=job["job"])
    version.refresh_from_db()
    assert version.properties_plot.path != first_plot and not Path(first_plot).exists()
    assert Path(version.properties_plot.path).is_file()


def test_promote_generate_review_and_serve_flagged_synthetic(labelled, django_capture_on_commit_callbacks):
    workflow, cutouts = labelled
    version = train_tiny()
    admin = admin_client()
    promoted = admin.post(f"/api/generative/versions/{version.pk}/promote/")
    assert promoted.status_code == 200 and promoted.json()["status"] == "active"
    assert admin.post(f"/api/generative/versions/{version.pk}/promote/").status_code == 409

    with django_capture_on_commit_callbacks(execute=True):
        started = admin.post("/api/generative/generate/", {"survey": "gen-survey", "per_class": 2}, format="json")
    assert started.status_code == 202
    samples = list(GeneratedSample.objects.order_by("pk"))
    assert len(samples) == 4 and {s.requested_class for s in samples} == {"FRI", "FRII"}
    assert all(s.review == "pending" and s.cutout.synthetic for s in samples)
    assert all(s.cutout.image and s.cutout.pixels and s.guidance == version.config["guidance"] for s in samples)
    # pending samples are in no queue
    assert not SubjectWorkflowStatus.objects.filter(subject__synthetic=True).exists()

    listed = admin.get("/api/generative/samples/", {"survey": "gen-survey", "review": "pending"}).json()
    assert len(listed) == 4
    approve = [samples[0].pk, samples[2].pk]
    reviewed = admin.post(
        "/api/generative/samples/review/", {"survey": "gen-survey", "ids": approve, "review": "approved"}, format="json"
    )
    assert reviewed.status_code == 200 and reviewed.json()["reviewed"] == 2
    admin.post(
        "/api/generative/samples/review/",
        {"survey": "gen-survey", "ids": [samples[1].pk], "review": "rejected"},
        format="json",
    )
    queued = set(SubjectWorkflowStatus.objects.filter(workflow=workflow).values_list("subject_id", flat=True))
    assert {samples[0].cutout_id, samples[2].cutout_id} <= queued
    assert samples[1].cutout_id not in queued and samples[3].cutout_id not in queued

    # a volunteer is eventually served an approved sample (within the workflow's share), unmarked
    # until answered, and told after the answer that it was generated
    workflow.synthetic_share = 1.0
    workflow.save(update_fields=["synthetic_share"])
    served = set()
    volunteer = APIClient()
    for _ in range(len(cutouts) + 2):
        body = volunteer.get("/api/queue/next/", {"workflow": workflow.pk}).json()
        subject = body["subject"]
        if subject is None:
            break
        assert "synthetic" not in subject
        stored = volunteer.post(
            "/api/classifications/",
            {"workflow": workflow.pk, "subject": subject["id"], "annotations": [{"task": "T0", "value": 1}]},
            format="json",
        ).json()
        generated = stored["synthetic_notice"] is not None
        assert body["realism_question"] or not generated
        served.add((subject["id"], generated))
    assert (samples[0].cutout_id, True) in served and (samples[2].cutout_id, True) in served
    assert all(not synthetic for pk, synthetic in served if pk in {c.pk for c in cutouts})
    assert samples[1].cutout_id not in {pk for pk, _ in served}


def test_a_failed_training_leaves_the_active_version_in_place(labelled, settings):
    first = train_tiny()
    admin_client().post(f"/api/generative/versions/{first.pk}/promote/")
    settings.RGZ_GENERATIVE_MIN_PER_CLASS = 7  # each class has 6
    with pytest.raises(CommandError, match="too few usable labelled cutouts"):
        train_tiny()
    failed = GeneratorVersion.objects.order_by("-pk").first()
    assert failed.status == "failed" and failed.error
    assert GeneratorVersion.objects.get(pk=first.pk).status == "active"


def test_bad_requests_are_refused_with_the_reason(labelled, django_capture_on_commit_callbacks):
    admin = admin_client()
    bad_preset = admin.post("/api/generative/train/", {"survey": "gen-survey", "preset": "huge"}, format="json")
    assert bad_preset.status_code == 400 and "preset" in bad_preset.json()
    no_survey = admin.post("/api/generative/train/", {"survey": "nowhere"}, format="json")
    assert no_survey.status_code == 404
    no_generator = admin.post("/api/generative/generate/", {"survey": "gen-survey", "per_class": 2}, format="json")
    assert no_generator.status_code == 409 and "no active generator" in no_generator.json()["detail"]
    zero = admin.post("/api/generative/generate/", {"survey": "gen-survey", "per_class": 0}, format="json")
    assert zero.status_code == 400
    review = {"survey": "gen-survey", "ids": [999999], "review": "approved"}
    foreign = admin.post("/api/generative/samples/review/", review, format="json")
    assert foreign.status_code == 404
    assert admin.post("/api/generative/surveys/1/rollback/").status_code in (404, 409)
    with pytest.raises(CommandError, match="no active generator"):
        call_command("generate", "--survey", "gen-survey", "--per-class", "2", "--inline")
    # roles: volunteers see nothing, astronomers may review but not train
    assert APIClient().get("/api/generative/versions/").status_code in (401, 403)
    astro = APIClient()
    astro.force_authenticate(astronomer())
    assert astro.get("/api/generative/versions/").status_code == 200
    assert astro.post("/api/generative/train/", {"survey": "gen-survey"}, format="json").status_code == 403


def test_registry_and_gallery_pages(client, labelled):
    version = train_tiny()
    client.force_login(UserFactory(username="boss", is_staff=True))
    page = client.get("/generative/")
    assert page.status_code == 200 and f'data-version="{version.pk}"' in page.content.decode()
    assert "Promote" in page.content.decode()
    survey_id = version.survey_id
    assert client.get(f"/generative/gallery/{survey_id}/").status_code == 200
    assert client.get("/generative/gallery/99999/").status_code == 404
    client.logout()
    assert client.get("/generative/").status_code == 302


def test_generating_again_skips_what_is_stored_and_another_guidance_renders_anew(labelled):
    version = train_tiny()
    admin_client().post(f"/api/generative/versions/{version.pk}/promote/")
    call_command("generate", "--survey", "gen-survey", "--per-class", "1", "--seed", "0", "--inline")
    # the same seed again, as a resumed job would
    call_command("generate", "--survey", "gen-survey", "--per-class", "1", "--seed", "0", "--inline")
    assert GeneratedSample.objects.count() == 2
    call_command("generate", "--survey", "gen-survey", "--per-class", "1", "--seed", "0", "--guidance", "4", "--inline")
    assert sorted(GeneratedSample.objects.values_list("guidance", flat=True)) == [2.0, 2.0, 4.0, 4.0]
    names = list(Cutout.objects.filter(synthetic=True).values_list("name", flat=True))
    assert len(set(names)) == 4 and all("gen-survey" not in n for n in names)


def test_two_versions_are_compared_side_by_side(client, labelled):
    first, second = train_tiny(), train_tiny()
    admin = admin_client()
    body = admin.get("/api/generative/compare/", {"a": first.pk, "b": second.pk}).json()
    rows = {row["key"]: row for row in body["rows"]}
    assert body["a"]["number"] == 1 and body["b"]["number"] == 2
    assert rows["ks_flux"]["diff"] == pytest.approx(rows["ks_flux"]["b"] - rows["ks_flux"]["a"])
    assert admin.get("/api/generative/compare/", {"a": first.pk}).status_code == 400
    assert admin.get("/api/generative/compare/", {"a": first.pk, "b": 99999}).status_code == 404
    client.force_login(UserFactory(username="boss", is_staff=True))
    page = client.get("/generative/", follow=True)
    assert 'class="compare-form"' in page.content.decode()
    compared = client.get("/generative/compare/", {"a": first.pk, "b": second.pk})
    assert compared.status_code == 200 and 'data-key="memorisation"' in compared.content.decode()
    assert first.properties_plot.url in compared.content.decode()
    assert second.properties_plot.url in compared.content.decode()
    assert client.get("/generative/compare/", {"a": "x"}).status_code == 404


def test_a_training_draws_live_sample_grids_and_keeps_one(labelled, settings, monkeypatch):
    settings.RGZ_GENERATIVE_GRID_EVERY = 1
    stored = []
    real_store = generative_jobs._grid_store
    monkeypatch.setattr(generative_jobs, "_grid_store", lambda pk, png: stored.append(png) or real_store(pk, png))
    version = train_tiny()  # tiny: 2 epochs, a preview after the first
    assert len(stored) == 1 and stored[0].startswith(b"\x89PNG")
    assert version.sample_grid and version.status == "ready"
    grids = list((settings.MEDIA_ROOT / "generative" / "grids").iterdir())
    assert [p.name for p in grids] == [version.sample_grid.name.rsplit("/", 1)[1]]  # previews replaced, none left


def test_samples_are_stored_at_the_size_of_the_cutouts_learned_from(labelled):
    """Drawn at the preset's 32 px, served at the 64 px of the real cutouts (the field they cover),
    so the survey's pixel scale holds and the size does not give them away."""
    workflow, cutouts = labelled
    version = train_tiny()
    assert version.config["unet"]["image_size"] == 32 and {(c.width, c.height) for c in cutouts} == {(64, 64)}
    admin_client().post(f"/api/generative/versions/{version.pk}/promote/")
    call_command("generate", "--survey", "gen-survey", "--per-class", "1", "--seed", "0", "--inline")
    assert set(Cutout.objects.filter(synthetic=True).values_list("width", "height")) == {(64, 64)}
    # each sample records its drawn peak beside the real images' median peak at the generator's size
    reference = version.training_data["median_peak"]
    assert 0 < reference <= 1
    for cutout in Cutout.objects.filter(synthetic=True):
        drawn = cutout.metadata["#drawn_peak"]
        assert cutout.metadata["#real_median_peak"] == reference and 0 < drawn
        stored = float(read_cutout_image(cutout.source_file.path).data.max())
        assert drawn >= stored - 1e-6  # resampling to the stored size never brightens
    # with the cutouts it learned from gone, a sample keeps the size it was drawn at
    Cutout.objects.filter(pk__in=version.training_data["train"]).delete()
    call_command("generate", "--survey", "gen-survey", "--per-class", "1", "--seed", "1", "--inline")
    latest = Cutout.objects.filter(synthetic=True).order_by("-pk")[:2]
    assert {(c.width, c.height) for c in latest} == {(32, 32)}
