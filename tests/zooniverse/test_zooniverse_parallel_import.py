"""Chunks of an import on several connections at once (PostgreSQL): the same rows as one connection,
idempotent, bad rows and damaged bytes reported by row, the first error raised."""

import csv

import pytest
from django.db import connection, transaction

from annotations.models import Classification, Cutout
from core.bulk import insert_sharing
from tests.zooniverse.test_zooniverse_subjects import export_with_subjects
from zooniverse import staged_import
from zooniverse.importer import import_classifications
from zooniverse.models import ZooniverseSubject

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = (
    "volunteer_key",
    "annotations",
    "metadata",
    "started_at",
    "finished_at",
    "user_agent",
    "gold_standard",
    "expert",
    "source",
)


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("chunks run in parallel on PostgreSQL only")


@pytest.fixture
def export(tmp_path, shared_data):
    # 60 rows over 30 subjects; chunks of 7 rows, so subjects straddle chunk boundaries.
    return export_with_subjects(
        shared_data / "zooniverse_exports" / "slsn_question_classifications.csv",
        tmp_path / "export.csv",
        subjects=30,
        rows_per_subject=2,
    )


def stored():
    rows = {}
    for c in Classification.objects.select_related("workflow_version"):
        subject = ZooniverseSubject.objects.get(cutout_id=c.subject_id).zooniverse_id
        rows[c.idempotency_key] = (
            *(getattr(c, name) for name in FIELDS),
            c.workflow_version.label,
            subject,
        )
    return rows


def forget_everything():
    Classification.objects.all().delete()
    ZooniverseSubject.objects.all().delete()
    Cutout.objects.all().delete()


def test_two_connections_store_what_one_stores(postgres, export, monkeypatch):
    monkeypatch.setattr(staged_import, "CHUNK_ROWS", 7)
    serial = import_classifications(classifications=export, workers=1)
    one = stored()
    forget_everything()

    report = import_classifications(classifications=export, workers=2)
    assert (report.imported, report.already_there, report.bad_count) == (60, 0, 0)
    assert stored() == one and len(one) == 60
    # A subject met by two chunks at once is one placeholder, counted once.
    assert Cutout.objects.count() == ZooniverseSubject.objects.count() == 30
    assert sorted(report.placeholders) == sorted(serial.placeholders) and len(report.placeholders) == 30

    again = import_classifications(classifications=export, workers=2)
    assert (again.imported, again.already_there, again.placeholders) == (0, 60, [])
    assert Classification.objects.count() == 60


def test_bad_rows_and_bad_bytes_are_reported_by_row_in_file_order(postgres, export, monkeypatch):
    monkeypatch.setattr(staged_import, "CHUNK_ROWS", 7)
    with open(export, newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    rows[20][header.index("annotations")] = "[{broken"  # record 21: a chunk in the middle
    rows[50][header.index("annotations")] = "[{broken"  # record 51: a later one
    for index in (10, 40):  # records 11 and 41: a Latin-1 byte in the workflow name
        rows[index][header.index("workflow_name")] = "Superlumin\udcf6us"  # written as the byte 0xf6
    with open(export, "w", newline="", encoding="utf-8", errors="surrogateescape") as handle:
        csv.writer(handle).writerows(rows)

    report = import_classifications(classifications=export, workers=2)
    assert report.imported == 58 and report.bad_count == 2
    assert [line.split(":")[0] for line in report.bad_rows] == ["row 21", "row 51"]
    (warning,) = report.warnings
    assert "column workflow_name, 2 row(s): 11, 41" in warning
    assert Classification.objects.count() == 58


def test_an_error_in_a_chunk_stops_the_import_and_is_raised(postgres, export, monkeypatch):
    monkeypatch.setattr(staged_import, "CHUNK_ROWS", 7)
    real = staged_import.import_chunk

    def failing(chunk, *args, **kwargs):
        if chunk.first_row > 30:
            raise RuntimeError("the disk is full")
        return real(chunk, *args, **kwargs)

    monkeypatch.setattr(staged_import, "import_chunk", failing)
    with pytest.raises(RuntimeError, match="the disk is full"):
        import_classifications(classifications=export, workers=2)
    # Chunks are committed one by one: those done are kept, and importing again completes the file.
    kept = Classification.objects.count()
    assert 7 <= kept < 60
    monkeypatch.setattr(staged_import, "import_chunk", real)
    report = import_classifications(classifications=export, workers=2)
    assert (report.imported, report.already_there) == (60 - kept, kept)


def test_inside_a_transaction_the_import_uses_its_connection(postgres):
    assert staged_import.workers_for(4) == 4
    with transaction.atomic():
        assert staged_import.workers_for(4) == 1


def test_insert_sharing_sends_the_common_fields_once_and_skips_conflicts():
    survey_rows = [
        ZooniverseSubject(zooniverse_id=zid, cutout=None, metadata={"n": zid, "nested": [1, "two"]}, matched_by="x")
        for zid in (5, 6)
    ]
    cutout = Cutout.objects.create(
        survey=_survey(), name="c", width=1, height=1, source_format="png", source_file="a", image="b", pixels="c"
    )
    for row in survey_rows:
        row.cutout = cutout
    insert_sharing(
        ZooniverseSubject, survey_rows, varying=("zooniverse_id", "metadata", "matched_by"), ignore_conflicts=True
    )
    insert_sharing(ZooniverseSubject, survey_rows[:1], varying=("zooniverse_id", "metadata"), ignore_conflicts=True)
    got = {s.zooniverse_id: (s.cutout_id, s.metadata, s.matched_by) for s in ZooniverseSubject.objects.all()}
    assert got == {
        5: (cutout.pk, {"n": 5, "nested": [1, "two"]}, "x"),
        6: (cutout.pk, {"n": 6, "nested": [1, "two"]}, "x"),
    }
    with pytest.raises(ValueError, match="no field colour"):
        insert_sharing(ZooniverseSubject, survey_rows, varying=("colour",), ignore_conflicts=True)


def _survey():
    from tests.factories import SurveyFactory

    return SurveyFactory()


def test_the_command_takes_workers_and_refuses_fewer_than_one(export, monkeypatch):
    import io

    from django.core.management import CommandError, call_command

    monkeypatch.setattr(staged_import, "CHUNK_ROWS", 7)
    with pytest.raises(CommandError, match="--workers must be at least 1, not 0"):
        call_command("import_zooniverse", classifications=str(export), workers=0)
    assert Classification.objects.count() == 0
    out = io.StringIO()
    call_command("import_zooniverse", classifications=str(export), workers=2, stdout=out)
    assert "60 imported, 0 already there, 0 bad rows" in out.getvalue()
    assert Classification.objects.count() == 60
