"""Several image layers as input channels: the multi-branch network and `retrain --layers` (smoke
tests only: whether a second band helps needs real infrared cutouts)."""

import io

import numpy as np
import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from annotations.models import Cutout
from classifiers import ml as classifier_ml
from classifiers.models import ModelVersion
from mlcore.ssl.config import FixMatchConfig, NetworkConfig
from mlcore.ssl.estimator import SSLClassifier
from mlcore.ssl.network import MultiBranchCNN, build_network
from tests.classifiers.test_classifiers import _small, labelled_task  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.django_db


def test_multibranch_network_has_one_branch_per_layer():
    torch.manual_seed(0)
    net = build_network(NetworkConfig(architecture="multibranch", in_channels=2, image_size=64))
    assert isinstance(net, MultiBranchCNN) and len(net.branches) == 2
    x = torch.rand(3, 2, 64, 64)  # (B, C, H, W)
    assert net(x).shape == (3, 2) and net.embed(x).shape == (3, net.n_features)
    # Each branch sees its own layer only: changing layer 1 leaves branch 0's features alone.
    changed = x.clone()
    changed[:, 1] = torch.rand(3, 64, 64)
    net.eval()
    half = net.n_features // 2
    assert torch.equal(net.embed(x)[:, :half], net.embed(changed)[:, :half])
    assert not torch.equal(net.embed(x)[:, half:], net.embed(changed)[:, half:])


def test_layer_count_must_match_the_input_channels():
    with pytest.raises(ValueError, match="2 layer"):
        FixMatchConfig(layers=("radio", "infrared"))
    config = FixMatchConfig.from_dict(
        {"layers": ["radio", "infrared"], "network": {"architecture": "multibranch", "in_channels": 2}}
    )
    assert config.layers == ("radio", "infrared")


def test_fixmatch_trains_on_two_layers():
    """A class that only the second layer shows: a few supervised steps on a tiny set run and give
    finite probabilities of the right shape (a smoke test, not a measure of benefit)."""
    rng = np.random.default_rng(0)
    n, size = 24, 64
    y = np.arange(n) % 2
    x = rng.random((n, 2, size, size)).astype(np.float32) * 0.2
    x[y == 1, 1, 24:40, 24:40] = 1.0  # (N, 2, S, S): the bright patch is in layer 1 only
    config = FixMatchConfig(
        method="fixmatch",
        epochs=2,
        batch_size=8,
        mu=1,
        mc_samples=2,
        layers=("radio", "infrared"),
        network=NetworkConfig(architecture="multibranch", in_channels=2, image_size=size),
    )
    clf = SSLClassifier(config, device="cpu").fit(x, y, x[:8])
    proba = clf.predict_proba(x)
    assert proba.shape == (n, 2) and np.isfinite(proba).all()
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def add_infrared_layers(survey_name: str, folder, skip: set[str]) -> None:
    """A synthetic second band on the radio grid (a central "host galaxy" over noise), as PNGs named
    after each cutout (matched by source name)."""
    rng = np.random.default_rng(1)
    for cutout in Cutout.objects.filter(survey__name=survey_name):
        if cutout.name in skip:
            continue
        yy, xx = np.mgrid[0 : cutout.height, 0 : cutout.width]
        host = 200 * np.exp(-((xx - cutout.width / 2) ** 2 + (yy - cutout.height / 2) ** 2) / 18.0)
        grey = np.clip(host + rng.random((cutout.height, cutout.width)) * 20, 0, 255).astype(np.uint8)
        Image.fromarray(grey).save(folder / f"{cutout.name}_ir.png")
    call_command("ingest_layers", str(folder), survey=survey_name, band="infrared", inline=True, stdout=io.StringIO())


def test_retrain_with_layers_trains_scores_and_reports_missing_layers(
    labelled_task,  # noqa: F811
    tmp_path,
    django_capture_on_commit_callbacks,
):
    with pytest.raises(CommandError, match="has a 'infrared' layer"):
        call_command("retrain", "--task", "fr", "--layers", "radio,infrared", "--inline")
    folder = tmp_path / "infrared"
    folder.mkdir()
    add_infrared_layers(labelled_task.survey.name, folder, skip={"src-15"})
    with pytest.raises(CommandError, match="distinct layers"):
        call_command("retrain", "--task", "fr", "--layers", "radio,radio", "--inline")
    with django_capture_on_commit_callbacks(execute=True):  # the promotion's scoring job runs here
        call_command(
            "retrain",
            "--task",
            "fr",
            "--epochs",
            "1",
            "--labels",
            "expert",
            "--max-steps",
            "2",
            "--layers",
            "radio,infrared",
            "--inline",
            "--promote",
            "--force",  # two steps of training may well predict one class: promoted all the same
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    version = ModelVersion.objects.get(task=labelled_task)
    assert version.status == ModelVersion.Status.ACTIVE and version.architecture == "multibranch"
    assert version.config["layers"] == ["radio", "infrared"] and version.config["network"]["in_channels"] == 2
    scored = Cutout.objects.filter(survey=labelled_task.survey).exclude(model_scores={})
    assert scored.count() == 15  # every cutout but the one without an infrared layer
    arrays = classifier_ml.cutout_arrays(
        list(Cutout.objects.filter(name__in=["src-00", "src-15"]).order_by("name")),
        size=64,
        layers=("radio", "infrared"),
    )
    assert arrays.x.shape == (1, 2, 64, 64)
    assert arrays.errors == [f"cutout {Cutout.objects.get(name='src-15').pk} (src-15): it has no infrared layer"]
