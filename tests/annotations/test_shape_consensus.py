"""Consensus on circles, ellipses, rectangles and lines: clusters as panoptes_aggregation's
shape_reducer_dbscan finds them, on the platform's own Zooniverse export."""

import csv
import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from annotations.mark_consensus import mark_consensus
from annotations.roles import Volunteer
from annotations.services import classification_create
from mlcore.marks import cluster_shapes, mean_angle
from tests.factories import astronomer

pytestmark = pytest.mark.django_db
SHAPES = {1: "circle", 2: "ellipse", 3: "rectangle", 4: "line"}  # tool index in the radio-source workflow's T1
# What the agreeing volunteers draw; the ellipse's angle straddles 0/360 degrees.
TRUE = {
    1: {"x": 150.0, "y": 150.0, "r": 30.0},
    2: {"x": 100.0, "y": 200.0, "rx": 40.0, "ry": 15.0, "angle": 0.0},
    3: {"x": 40.0, "y": 50.0, "width": 60.0, "height": 30.0},
    4: {"x1": 200.0, "y1": 200.0, "x2": 260.0, "y2": 240.0},
}
ODD = {
    1: {"x": 250.0, "y": 60.0, "r": 10.0},
    2: {"x": 200.0, "y": 100.0, "rx": 20.0, "ry": 5.0, "angle": 90.0},
    3: {"x": 200.0, "y": 20.0, "width": 20.0, "height": 20.0},
    4: {"x1": 10.0, "y1": 280.0, "x2": 50.0, "y2": 290.0},
}


def drawn(tool: int, rng, agree: bool) -> dict:
    mark = dict(TRUE[tool] if agree else ODD[tool])
    for name in mark:
        if name == "angle":
            mark[name] = round(float(rng.uniform(-4, 4)) % 360, 2)  # 356..360 and 0..4
        else:
            mark[name] = round(mark[name] + float(rng.uniform(-1.2, 1.2)), 2)
    return {"tool": tool, **mark}


def classify(workflow, cutout, volunteers: int = 7):
    """Volunteers 0-4 draw every shape where the others do; 5 and 6 draw elsewhere."""
    rng = np.random.default_rng(11)
    for v in range(volunteers):
        marks = [drawn(tool, rng, v < 5) for tool in SHAPES]
        classification_create(
            workflow_id=workflow.pk,
            subject_id=cutout.pk,
            volunteer=Volunteer(None, f"vol{v}"),
            annotations=[{"task": "T0", "value": [{"components": [0], "host": None}]}, {"task": "T1", "value": marks}],
        )


def test_shapes_cluster_by_their_parameters(s311):
    workflow, cutout = s311
    classify(workflow, cutout)
    result = mark_consensus(workflow=workflow)[(cutout.pk, "T1")]
    assert set(result.shapes) == set(SHAPES)
    for tool, shape in SHAPES.items():
        [cluster] = result.shapes[tool]  # the two odd marks are noise (min_samples 3)
        assert (cluster.shape, cluster.count, cluster.volunteers) == (shape, 5, 5)
        assert cluster.share == pytest.approx(5 / 7)
        for name, value in TRUE[tool].items():
            if name == "angle":  # the circular mean, not the arithmetic one (which would be near 180)
                assert min(cluster.params[name], 360 - cluster.params[name]) < 4
            else:
                assert cluster.params[name] == pytest.approx(value, abs=1.2)
        assert cluster.ra_deg == pytest.approx(cutout.ra_deg, abs=150 * 0.6 / 3600 / np.cos(np.radians(cutout.dec_deg)))
    assert result.agreement == pytest.approx(5 / 7)

    api = APIClient()
    api.force_login(astronomer())
    rows = api.get(f"/api/workflows/{workflow.pk}/marks/consensus/").json()
    [drawing] = [r for r in rows if r["task"] == "T1"]
    assert drawing["shapes"]["2"][0]["shape"] == "ellipse" and set(drawing["shapes"]["2"][0]["params"]) == {
        "x",
        "y",
        "rx",
        "ry",
        "angle",
    }


def test_too_few_shapes_make_no_cluster_and_bad_numbers_are_left_out():
    assert cluster_shapes("circle", np.array([[1.0, 1.0, 2.0], [1.0, 1.0, 2.0]])) == []
    ellipses = np.array([[10, 10, 5, 3, 359.0], [10, 10, 5, 3, 1.0], [10, 10, 5, 3, 3.0], [10, 10, 5, 3, 180.0]])
    [cluster] = cluster_shapes("ellipse", ellipses)
    assert cluster.count == 3 and cluster.members == (0, 1, 2)
    assert cluster.params["angle"] == pytest.approx(1.0, abs=1e-3)
    assert mean_angle(np.array([350.0, 20.0]), 360.0) == pytest.approx(5.0, abs=1e-3)


def test_panoptes_aggregation_finds_the_same_shape_clusters(s311, tmp_path, panoptes_aggregation):
    workflow, cutout = s311
    classify(workflow, cutout)
    label = panoptes_aggregation.extract(workflow)
    ours = mark_consensus(workflow=workflow)[(cutout.pk, "T1")].shapes
    for tool, shape in SHAPES.items():
        extractor = f"shape_extractor_{shape}"
        reducer = f"Reducer_config_workflow_{workflow.pk}_V{label}_{extractor}.yaml"
        panoptes_aggregation.run("reduce", f"{extractor}_t.csv", reducer, "-d", str(tmp_path), "-o", shape)
        with open(tmp_path / f"shape_reducer_dbscan_{shape}.csv", newline="") as handle:
            [row] = list(csv.DictReader(handle))
        names = list(TRUE[tool])
        columns = [json.loads(row[f"data.frame0.T1_tool{tool}_clusters_{name}"]) for name in names]
        counts = json.loads(row[f"data.frame0.T1_tool{tool}_clusters_count"])
        theirs = sorted((*(round(v, 6) for v in values), n) for *values, n in zip(*columns, counts, strict=True))
        mine = sorted((*(round(c.params[name], 6) for name in names), c.count) for c in ours[tool])
        assert theirs == mine, shape
