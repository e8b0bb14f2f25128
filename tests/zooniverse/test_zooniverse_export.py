import csv
import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotations.consensus import question_consensus
from annotations.models import Classification
from annotations.roles import Volunteer
from annotations.services import classification_create
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db
AGGREGATION = Path(__file__).resolve().parents[2] / ".venv-aggregation" / "bin" / "panoptes_aggregation"


@pytest.fixture
def classified():
    """Six volunteers on four subjects: questions, free text with quotes and newlines, tags."""
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=10, name="Export test")
    for v in range(6):
        for i, cutout in enumerate(cutouts):
            classification_create(
                workflow_id=workflow.pk,
                subject_id=cutout.pk,
                volunteer=Volunteer(None, f"vol{v}"),
                annotations=[
                    {"task": "T0", "value": (v + i) % 3},
                    {"task": "T1", "value": f'bent "tails",\nround {v}'},
                    {"task": "T2", "value": ["jet", "lobe"][: (v + i) % 3]},
                ],
            )
    return workflow, cutouts


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_writes_zooniverse_columns_and_label_text(classified, tmp_path):
    workflow, cutouts = classified
    call_command("export_zooniverse", workflow=workflow.pk, out=str(tmp_path / "c.csv"))
    rows = read_csv(tmp_path / "c.csv")
    assert list(rows[0])[:4] == ["classification_id", "user_name", "user_id", "user_ip"] and len(rows) == 24
    first = rows[0]
    assert first["workflow_version"] == "1.1" and first["created_at"].endswith(" UTC")
    assert first["user_name"].startswith("not-logged-in-") and first["user_id"] == ""
    import json

    annotations = json.loads(first["annotations"])
    assert annotations[0] == {
        "task": "T0",
        "task_label": "Which best describes this radio source?",
        "value": "Compact: a single unresolved blob",
    }
    assert annotations[1]["value"] == 'bent "tails",\nround 0'  # quotes, comma and newline survive
    subject_data = json.loads(first["subject_data"])
    assert subject_data[first["subject_ids"]]["#rgz_cutout_id"] == int(first["subject_ids"])
    subjects = read_csv(tmp_path / "c_subjects.csv")
    assert len(subjects) == 4 and subjects[0]["classifications_count"] == "6"
    workflows = read_csv(tmp_path / "c_workflows.csv")
    tasks = json.loads(workflows[0]["tasks"])
    assert tasks["T2"]["type"] == "multiple" and len(tasks["T2"]["answers"]) == 10  # tag pick as a question


def test_export_bad_input(tmp_path):
    with pytest.raises(CommandError, match="workflow 999 does not exist"):
        call_command("export_zooniverse", workflow=999, out=str(tmp_path / "c.csv"))
    workflow, _ = make_workflow_with_subjects(n=1)
    with pytest.raises(CommandError, match="folder does not exist"):
        call_command("export_zooniverse", workflow=workflow.pk, out=str(tmp_path / "nope" / "c.csv"))


def test_export_download_is_for_astronomers(classified):
    workflow, _ = classified
    client = APIClient()
    url = f"/api/workflows/{workflow.pk}/export/classifications.csv"
    assert client.get(url).status_code == 403
    client.force_login(astronomer())
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == 24
    assert client.get(f"/api/workflows/{workflow.pk}/export/other.csv").status_code == 404


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def test_panoptes_aggregation_reads_the_export_and_its_counts_equal_the_platforms(classified, tmp_path):
    if not AGGREGATION.exists():
        if os.environ.get("CI"):
            pytest.fail("panoptes_aggregation is not installed (make aggregation-env)")
        pytest.skip("panoptes_aggregation is not installed (make aggregation-env)")
    workflow, _ = classified
    call_command("export_zooniverse", workflow=workflow.pk, out=str(tmp_path / "c.csv"))

    def run(*args):
        result = subprocess.run([str(AGGREGATION), *args], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]

    run("config", "c_workflows.csv", str(workflow.pk), "-v", "1.1", "-d", str(tmp_path))
    run("extract", "c.csv", f"Extractor_config_workflow_{workflow.pk}_V1.1.yaml", "-d", str(tmp_path), "-o", "t")
    run(
        "reduce",
        "question_extractor_t.csv",
        f"Reducer_config_workflow_{workflow.pk}_V1.1_question_extractor.yaml",
        "-d",
        str(tmp_path),
        "-o",
        "t",
    )
    reduced = read_csv(tmp_path / "question_reducer_t.csv")
    platform = question_consensus(workflow=workflow)
    assert len(reduced) == len(platform) == 8  # 4 subjects x 2 question tasks
    for row in reduced:
        theirs = {
            k[5:]: float(v) for k, v in row.items() if k.startswith("data.") and v and k != "data.aggregation_version"
        }
        ours = {slug(label): float(n) for label, n in platform[(int(row["subject_id"]), row["task"])].counts.items()}
        assert theirs == ours, (row["subject_id"], row["task"])
    assert Classification.objects.count() == 24


def test_consensus_counts_fractions_and_agreement(classified):
    workflow, cutouts = classified
    consensus = question_consensus(workflow=workflow)
    first = consensus[(cutouts[0].pk, "T0")]
    # volunteers 0..5 answered (v + 0) % 3: answers 0, 1, 2 twice each
    assert first.num_votes == 6 and set(first.counts.values()) == {2}
    assert first.agreement == pytest.approx(1 / 3)
    assert sum(first.fractions().values()) == pytest.approx(1.0)
    tags = consensus[(cutouts[0].pk, "T2")]
    assert tags.counts["jet"] == 4 and tags.counts["lobe"] == 2 and tags.most_likely == "jet"
    assert (cutouts[0].pk, "T1") not in consensus  # free text is not a question
