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


def test_postgresql_copy_path_reports_bad_marks_by_row_like_the_row_by_row_path(shared_data, tmp_path, monkeypatch):
    from tests.conftest import postgres_in_use
    from zooniverse import importer, staged_import

    if not postgres_in_use():
        pytest.skip("the COPY path runs on PostgreSQL only")
    source = shared_data / "zooniverse_exports" / "cat_drawing_classifications.csv"
    with open(source, newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("annotations")
    annotations = json.loads(rows[4][column])
    annotations[0]["value"][0]["toolType"] = "spiral"  # nothing else unusual: JSON PostgreSQL reads
    rows[4][column] = json.dumps(annotations)
    annotations = json.loads(rows[7][column])
    annotations[0]["value"][0]["tool"] = -1
    annotations[0]["value"][0].pop("toolIndex", None)
    rows[7][column] = json.dumps(annotations)
    changed = tmp_path / "cat.csv"
    with open(changed, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    monkeypatch.setattr(staged_import, "CHUNK_ROWS", 4)  # rows 2-5, 6-9, 10-13...: two chunks hold a bad mark
    careful = importer._store_stream
    fallbacks = []

    def counted(records, *args, **kwargs):
        records = list(records)
        fallbacks.append([r.row for r in records])
        return careful(iter(records), *args, **kwargs)

    monkeypatch.setattr(importer, "_store_stream", counted)

    clean = import_classifications(classifications=source)
    assert clean.bad_count == 0 and clean.imported == len(rows) - 1 and fallbacks == []  # all through COPY
    Classification.objects.all().delete()
    report = import_classifications(classifications=changed)
    assert report.bad_count == 2 and report.imported == len(rows) - 3
    assert "row 5: task T0 mark 0: unknown tool type 'spiral'" in report.bad_rows
    assert "row 8: task T0 mark 0: no tool index" in report.bad_rows
    assert [chunk[0] for chunk in fallbacks] == [2, 6]  # only the chunks with a bad mark went row by row
    assert not Classification.objects.filter(metadata__zooniverse__row__in=[5, 8]).exists()
