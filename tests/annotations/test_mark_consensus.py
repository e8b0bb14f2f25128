"""Consensus on marks: point clusters as panoptes_aggregation finds them, radio sources with their
host, retirement on drawing consensus, imported Zooniverse drawings, and the source catalogue."""

import csv
import io
import json

import numpy as np
import pytest
from astropy.io.votable import parse_single_table
from django.core.management import call_command
from rest_framework.test import APIClient

from annotations.mark_consensus import mark_consensus
from annotations.models import SubjectWorkflowStatus, Workflow
from annotations.retirement import workflow_retirement_update
from annotations.roles import Volunteer
from annotations.services import classification_create
from tests.factories import astronomer

pytestmark = pytest.mark.django_db
RNG = np.random.default_rng(7)
HOST = (150.5, 140.5)
GALAXIES = [(60.0, 250.0), (200.0, 60.0)]


def jitter(x, y, size=1.5):
    dx, dy = RNG.uniform(-size, size, 2)
    return {"x": round(float(x + dx), 2), "y": round(float(y + dy), 2)}


def volunteer_answer(v: int) -> list:
    """Volunteers 0-4 group components 0 and 1 as one source hosted near HOST; volunteer 5 sees two sources."""
    if v < 5:
        sources = [{"components": [0, 1], "host": jitter(*HOST)}]
    else:
        sources = [{"components": [0], "host": {"x": 100.0, "y": 100.0}}, {"components": [1], "host": None}]
    marks = [{"tool": 0, **jitter(*GALAXIES[0])}] if v < 5 else [{"tool": 0, "x": 280.0, "y": 280.0}]
    if v < 3:
        marks.append({"tool": 0, **jitter(*GALAXIES[1])})
    return [{"task": "T0", "value": sources}, {"task": "T1", "value": marks}]


def classify(workflow, cutout, volunteers):
    for v in volunteers:
        classification_create(
            workflow_id=workflow.pk,
            subject_id=cutout.pk,
            volunteer=Volunteer(None, f"vol{v}"),
            annotations=volunteer_answer(v),
        )


def point_clusters(workflow, cutout):
    drawing = mark_consensus(workflow=workflow)[(cutout.pk, "T1")]
    return sorted((round(c.x, 6), round(c.y, 6), c.count) for c in drawing.clusters[0])


def test_point_clusters_and_radio_source_with_host(s311):
    workflow, cutout = s311
    classify(workflow, cutout, range(6))
    results = mark_consensus(workflow=workflow)
    drawing = results[(cutout.pk, "T1")]
    assert drawing.num_votes == 6
    big, small = drawing.clusters[0]  # the lone mark at (280, 280) is noise, as for panoptes (min_samples 3)
    assert (big.count, big.volunteers, small.count) == (5, 5, 3)
    assert big.share == pytest.approx(5 / 6) and drawing.agreement == pytest.approx(5 / 6)
    assert abs(big.x - GALAXIES[0][0]) < 1.5 and abs(big.y - GALAXIES[0][1]) < 1.5

    radio = results[(cutout.pk, "T0")]
    assert radio.grouping_votes == 5 and radio.agreement == pytest.approx(5 / 6)
    [source] = radio.sources
    assert source.components == (0, 1) and source.votes == 5 and source.host_votes == 5
    assert source.host.share == 1.0
    assert abs(source.host.x - HOST[0]) < 1.5 and abs(source.host.y - HOST[1]) < 1.5
    assert 0 < source.host.spread_px < 1.5
    assert source.host.spread_arcsec == pytest.approx(source.host.spread_px * 0.6, rel=1e-3)  # ATCA 0.6"/px
    assert source.host.ra_deg == pytest.approx(cutout.ra_deg, abs=30 / 3600)  # near the cutout centre


def test_drawing_consensus_retires_early(s311):
    workflow, cutout = s311
    workflow_retirement_update(
        workflow=workflow,
        retirement={
            "criteria": "classification_count",
            "options": {"count": 20},
            "rules": [{"kind": "drawing_consensus", "task": "T0", "min_votes": 5, "agreement": 0.8}],
        },
    )
    workflow.refresh_from_db()
    classify(workflow, cutout, [5, 0, 1, 2])  # the dissenting volunteer first: 3 of 4 agree, too few votes
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutout)
    assert status.retired_at is None
    classify(workflow, cutout, [3])  # 4 of 5 agree: 0.8 after 5 volunteers
    status.refresh_from_db()
    assert status.retired_at is not None and status.retirement_reason == "consensus"


def test_drawing_rule_needs_a_drawing_task(s311):
    from core.errors import InvalidInput

    workflow, _ = s311
    with pytest.raises(InvalidInput, match="task must be a drawing or radio-component task"):
        workflow_retirement_update(
            workflow=workflow, retirement={"rules": [{"kind": "drawing_consensus", "task": "T9"}]}
        )


def test_panoptes_aggregation_finds_the_same_point_clusters(s311, tmp_path, panoptes_aggregation):
    workflow, cutout = s311
    classify(workflow, cutout, range(6))
    label = panoptes_aggregation.extract(workflow)
    reducer = f"Reducer_config_workflow_{workflow.pk}_V{label}_point_extractor_by_frame.yaml"
    panoptes_aggregation.run("reduce", "point_extractor_by_frame_t.csv", reducer, "-d", str(tmp_path), "-o", "t")
    with open(tmp_path / "point_reducer_dbscan_t.csv", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    theirs = sorted(
        (round(x, 6), round(y, 6), n)
        for x, y, n in zip(
            json.loads(row["data.frame0.T1_tool0_clusters_x"]),
            json.loads(row["data.frame0.T1_tool0_clusters_y"]),
            json.loads(row["data.frame0.T1_tool0_clusters_count"]),
            strict=True,
        )
    )
    assert theirs == point_clusters(workflow, cutout)


def test_imported_zooniverse_drawings_feed_the_same_consensus(s311, tmp_path):
    workflow, cutout = s311
    classify(workflow, cutout, range(6))
    call_command("export_zooniverse", workflow=workflow.pk, out=str(tmp_path / "c.csv"))
    out = io.StringIO()
    call_command(
        "import_zooniverse",
        classifications=str(tmp_path / "c.csv"),
        workflows=str(tmp_path / "c_workflows.csv"),
        stdout=out,
    )
    imported = Workflow.objects.exclude(pk=workflow.pk).get()
    assert point_clusters(imported, cutout) == point_clusters(workflow, cutout)
    theirs = mark_consensus(workflow=imported)[(cutout.pk, "T0")]
    ours = mark_consensus(workflow=workflow)[(cutout.pk, "T0")]
    assert [s.as_dict() for s in theirs.sources] == [s.as_dict() for s in ours.sources]


def test_catalogue_of_consensus_sources_as_csv_and_votable(s311, tmp_path):
    workflow, cutout = s311
    classify(workflow, cutout, range(6))
    api = APIClient()
    assert api.get(f"/api/workflows/{workflow.pk}/sources.csv").status_code in (401, 403)
    api.force_login(astronomer())
    response = api.get(f"/api/workflows/{workflow.pk}/sources.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["cutout"] == "S311" and row["components"] == "0 1" and row["volunteers"] == "6"
    assert float(row["grouping_agreement"]) == pytest.approx(5 / 6)
    host = mark_consensus(workflow=workflow)[(cutout.pk, "T0")].sources[0].host
    assert float(row["host_ra_deg"]) == pytest.approx(host.ra_deg, abs=1e-6)

    votable = api.get(f"/api/workflows/{workflow.pk}/sources.vot")
    assert votable.status_code == 200
    (tmp_path / "s.vot").write_bytes(votable.content)
    table = parse_single_table(str(tmp_path / "s.vot")).to_table()
    assert len(table) == 1 and str(table["host_ra_deg"].unit) == "deg"
    assert float(table["host_dec_deg"][0]) == pytest.approx(host.dec_deg, abs=1e-9)
    assert api.get(f"/api/workflows/{workflow.pk}/sources.txt").status_code == 404

    consensus = api.get(f"/api/workflows/{workflow.pk}/marks/consensus/").json()
    assert {(r["task"], r["kind"]) for r in consensus} == {("T0", "radio_components"), ("T1", "drawing")}
