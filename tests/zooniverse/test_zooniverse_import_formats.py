"""Exports as they come: invalid UTF-8 bytes in real rows, and the 2015 layout (``id``, not ``classification_id``)."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Classification
from zooniverse.importer import import_classifications
from zooniverse.models import ZooniverseWorkflow

pytestmark = pytest.mark.django_db

NAME = b",Superluminous Supernovae,16.55,"


@pytest.fixture
def slsn(shared_data):
    return shared_data / "zooniverse_exports" / "slsn_question_classifications.csv"


def _with_latin1_workflow_name(source, target):
    """The real export, with three bytes of another encoding in every row's workflow_name."""
    data = source.read_bytes()
    assert data.count(NAME) == 7
    target.write_bytes(data.replace(NAME, b",Superluminous Supernov\xe4\xe4\xe4e,16.55,"))
    return target


def _import(path, **extra):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_zooniverse", classifications=str(path), stdout=out, stderr=err, **extra)
    return out.getvalue(), err.getvalue()


def test_invalid_bytes_are_replaced_and_the_warning_names_column_and_rows(tmp_path, slsn):
    path = _with_latin1_workflow_name(slsn, tmp_path / "latin1.csv")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # the file really is not UTF-8
    out, err = _import(path)
    assert "7 imported, 0 already there, 0 bad rows" in out
    assert "invalid UTF-8 bytes replaced by U+FFFD in column workflow_name, 7 row(s): 2, 3, 4, 5, 6, 7, 8" in err
    assert str(path) in err
    link = ZooniverseWorkflow.objects.get(zooniverse_id=10)
    assert link.display_name == "Superluminous Supernov\ufffd\ufffd\ufffde"
    # Every other cell is intact: the answers and the metadata read as in the clean export.
    stored = Classification.objects.get(idempotency_key="zooniverse:543695319")
    assert stored.annotations[0]["value"] == "Yes"
    assert stored.metadata["zooniverse"]["created_at"] == "2024-02-23 16:17:42 UTC"
    again_out, _ = _import(path)
    assert "0 imported, 7 already there" in again_out
    assert Classification.objects.count() == 7


def test_invalid_bytes_in_one_json_cell_name_that_row_only(tmp_path, slsn, monkeypatch):
    from zooniverse import staged_import

    monkeypatch.setattr(staged_import, "CHUNK_ROWS", 3)  # on PostgreSQL: only the middle chunk is damaged
    lines = slsn.read_bytes().splitlines(keepends=True)
    assert b'""value"":""Yes""' in lines[5]
    lines[5] = lines[5].replace(b'""value"":""Yes""', b'""value"":""Y\xe4s""', 1)
    path = tmp_path / "one-cell.csv"
    path.write_bytes(b"".join(lines))
    report = import_classifications(classifications=path)
    assert (report.imported, report.bad_count) == (7, 0)
    assert report.warnings == [f"{path}: invalid UTF-8 bytes replaced by U+FFFD in column annotations, 1 row(s): 6"]
    values = [c.annotations[0]["value"] for c in Classification.objects.order_by("id")]
    assert values.count("Y\ufffds") == 1


def test_invalid_bytes_in_the_header_are_reported_too(tmp_path, slsn):
    rows = _rows(slsn)
    path = _write(tmp_path / "header.csv", [rows[0] + ["n-o-te"]] + [row + ["x"] for row in rows[1:]])
    path.write_bytes(path.read_bytes().replace(b"n-o-te", b"n\xf6te", 1))
    report = import_classifications(classifications=path)
    assert report.imported == 7
    assert any("column header, 1 row(s): 1" in w for w in report.warnings)


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def _write(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_the_2015_layout_reads_id_as_the_classification_id(tmp_path, slsn):
    rows = _rows(slsn)
    rows[0] = ["id" if name == "classification_id" else name for name in rows[0]]
    path = _write(tmp_path / "2015.csv", rows)
    out, err = _import(path)
    assert "7 imported" in out
    assert "2015 layout, column id read as classification_id" in err
    assert Classification.objects.filter(idempotency_key="zooniverse:543695319").exists()
    # The same classifications in today's layout are the same rows: nothing is added.
    report = import_classifications(classifications=slsn)
    assert (report.imported, report.already_there) == (0, 7)
    assert not report.warnings


def test_two_id_columns_without_classification_id_are_refused(tmp_path, slsn):
    rows = _rows(slsn)
    rows[0] = ["id" if name == "classification_id" else name for name in rows[0]] + ["id"]
    path = _write(tmp_path / "two-ids.csv", [rows[0]] + [row + ["1"] for row in rows[1:]])
    with pytest.raises(CommandError, match=r"2 columns named id: which one holds the classification id is ambiguous"):
        _import(path)
    assert Classification.objects.count() == 0


def test_an_id_column_beside_classification_id_is_an_ordinary_extra_column(tmp_path, slsn):
    rows = _rows(slsn)
    path = _write(tmp_path / "both.csv", [rows[0] + ["id"]] + [row + ["5"] for row in rows[1:]])
    report = import_classifications(classifications=path)
    assert report.imported == 7 and not report.warnings
    assert Classification.objects.filter(idempotency_key="zooniverse:543695319").exists()
