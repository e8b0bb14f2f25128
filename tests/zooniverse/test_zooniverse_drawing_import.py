"""Zooniverse drawing exports: marks from unknown tools are reported by row, the rest imported."""

import csv
import json

import pytest

from annotations.models import Classification
from zooniverse.importer import import_classifications

pytestmark = pytest.mark.django_db


def test_drawing_export_with_an_unknown_tool_is_reported_and_the_rest_kept(shared_data, tmp_path):
    source = shared_data / "zooniverse_exports" / "cat_drawing_classifications.csv"
    with open(source, newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("annotations")
    annotations = json.loads(rows[3][column])
    annotations[0]["value"][0]["toolType"] = "spiral"
    rows[3][column] = json.dumps(annotations)
    annotations = json.loads(rows[5][column])
    annotations[0]["value"][0]["x"] = float("nan")
    annotations[0]["value"][0].pop("pathX", None)
    rows[5][column] = json.dumps(annotations)  # Python writes NaN, which JSON readers accept
    changed = tmp_path / "cat.csv"
    with open(changed, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)

    real = import_classifications(classifications=source)
    assert real.bad_count == 0  # the real freehand-line and polygon marks are known Zooniverse shapes
    Classification.objects.all().delete()
    report = import_classifications(classifications=changed)
    assert report.bad_count == 2 and report.imported == len(rows) - 3
    assert "row 4: task T0 mark 0: unknown tool type 'spiral'" in report.bad_rows
    assert "row 6: task T0 mark 0: x is not a finite number" in report.bad_rows
