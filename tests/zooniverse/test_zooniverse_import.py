import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Classification, SubjectWorkflowStatus, WorkflowVersion
from tests.factories import SurveyFactory, make_cutout
from zooniverse.importer import import_classifications
from zooniverse.models import ZooniverseSubject, ZooniverseWorkflow

pytestmark = pytest.mark.django_db


def rows_of(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_question_export_with_workflows_then_again_adds_nothing(shared_data):
    exports = shared_data / "zooniverse_exports"
    first = import_classifications(
        classifications=exports / "slsn_question_classifications.csv", workflows=exports / "slsn_workflows.csv"
    )
    assert (first.imported, first.bad_count) == (7, 0)
    link = ZooniverseWorkflow.objects.get(zooniverse_id=10)
    assert link.workflow.retirement == {"options": {"count": 10}, "criteria": "classification_count"}
    assert not link.workflow.active  # volunteers classify it on Zooniverse, not here
    stored = Classification.objects.order_by("id").first()
    assert stored.source == "zooniverse" and stored.idempotency_key == "zooniverse:543695319"
    assert stored.annotations[0]["value"] == "Yes" and stored.workflow_version.label == "16.55"
    assert stored.metadata["zooniverse"]["created_at"] == "2024-02-23 16:17:42 UTC"
    assert stored.finished_at.isoformat().startswith("2024-02-23T16:17:42")
    assert WorkflowVersion.objects.filter(workflow=link.workflow).count() >= 1
    again = import_classifications(
        classifications=exports / "slsn_question_classifications.csv", workflows=exports / "slsn_workflows.csv"
    )
    assert (again.imported, again.already_there) == (0, 7)
    assert Classification.objects.count() == 7


def test_overlapping_export_adds_only_new_rows(tmp_path, shared_data):
    rows = rows_of(shared_data / "zooniverse_exports" / "slsn_question_classifications.csv")
    early = write_rows(tmp_path / "early.csv", rows[:4])
    import_classifications(classifications=early)
    report = import_classifications(
        classifications=shared_data / "zooniverse_exports" / "slsn_question_classifications.csv"
    )
    assert (report.imported, report.already_there) == (4, 3)


def test_user_identities_stay_pseudonymous(shared_data):
    import_classifications(classifications=shared_data / "zooniverse_exports" / "cat_drawing_classifications.csv")
    names = {r[1] for r in rows_of(shared_data / "zooniverse_exports" / "cat_drawing_classifications.csv")[1:]}
    stored = json.dumps(list(Classification.objects.values("volunteer_key", "metadata", "session_key")))
    assert not any(name and name in stored for name in names)
    assert (
        Classification.objects.filter(volunteer_key__startswith="zooniverse:").count() == Classification.objects.count()
    )
    drawing = Classification.objects.first().annotations[0]["value"]
    assert isinstance(drawing, list) and "pathX" in drawing[0]  # drawing marks kept as raw JSON


def test_free_text_and_tag_exports_of_text2tag(shared_data):
    text2tag = shared_data / "text2tag"
    tags = import_classifications(classifications=text2tag / "expert_classifications_anon.csv")
    free = import_classifications(classifications=text2tag / "english_annotations.csv")
    assert (tags.imported, free.imported, tags.bad_count, free.bad_count) == (1257, 2920, 0, 0)
    sample = Classification.objects.filter(metadata__zooniverse__workflow_id=20494).order_by("id").first()
    assert sample.annotations == [{"task": "T0", "value": "compact core, extended towards South"}]
    tagged = Classification.objects.filter(metadata__zooniverse__workflow_id=20705).first()
    assert isinstance(tagged.annotations[0]["value"], list)
    # Both workflows see the same 299 subjects, mapped once each.
    assert ZooniverseSubject.objects.count() == 299
    statuses = SubjectWorkflowStatus.objects.filter(workflow__zooniverse__zooniverse_id=20494)
    assert sum(s.classification_count for s in statuses) == 2920


def test_subjects_match_cutouts_by_file_name_platform_id_or_position(tmp_path, shared_data):
    survey = SurveyFactory(name="EMU")
    by_file = make_cutout(survey, "J205850-532040_overlay", seed=1)
    by_id = make_cutout(survey, "pushed", seed=2)
    make_cutout(survey, "at-150-2", seed=0)  # centred on RA 150, Dec 2
    header = ["classification_id", "workflow_id", "annotations", "subject_ids", "subject_data"]
    data = [
        header,
        [
            1,
            20705,
            '[{"task":"T0","value":["Single"]}]',
            11,
            json.dumps({"11": {"Filename": "J205850-532040_overlay.png"}}),
        ],
        [2, 20705, '[{"task":"T0","value":["Double"]}]', 12, json.dumps({"12": {"#rgz_cutout_id": str(by_id.pk)}})],
        [3, 20705, '[{"task":"T0","value":["Double"]}]', 13, json.dumps({"13": {"ra": 150.0, "dec": 2.0}})],
        [4, 20705, '[{"task":"T0","value":["Double"]}]', 14, json.dumps({"14": {"name": "unknown source"}})],
    ]
    report = import_classifications(classifications=write_rows(tmp_path / "c.csv", data))
    mapping = {z.zooniverse_id: z for z in ZooniverseSubject.objects.all()}
    assert mapping[11].cutout == by_file and mapping[11].matched_by == "file name"
    assert mapping[12].cutout == by_id and mapping[12].matched_by == "platform id"
    assert mapping[13].matched_by == "position" and abs(mapping[13].cutout.ra_deg - 150.0) < 1 / 3600
    assert mapping[14].placeholder and report.placeholders == [14]


def test_bad_rows_are_reported_and_valid_rows_still_imported(tmp_path, shared_data):
    exports = shared_data / "zooniverse_exports"
    rows = rows_of(exports / "slsn_question_classifications.csv")
    header = rows[0]
    broken = list(rows[1])
    broken[header.index("annotations")] = '[{"task": "T0", "value": '
    unknown_version = list(rows[2])
    unknown_version[header.index("workflow_version")] = "99.1"
    no_subject = list(rows[3])
    no_subject[header.index("subject_ids")] = ""
    flagged = list(rows[5])
    flagged[header.index("gold_standard")], flagged[header.index("expert")] = "true", "expert"
    path = tmp_path / "mixed.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, broken, unknown_version, no_subject, rows[4], flagged])
    path.write_text(buffer.getvalue() + '543700000,not-logged-in-x,,ab,10,Superluminous Supernovae,16.55,"2024\n')
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_zooniverse",
        classifications=str(path),
        workflows=str(exports / "slsn_workflows.csv"),
        stdout=out,
        stderr=err,
    )
    messages = err.getvalue()
    assert "row 2: broken JSON in annotations" in messages
    assert "row 3: unknown workflow version 99.1 of workflow 10" in messages
    assert "row 4: no subject id" in messages
    assert "row 7: truncated or malformed line" in messages
    assert "2 imported" in out.getvalue() and "4 bad rows" in out.getvalue()
    gold = Classification.objects.get(idempotency_key=f"zooniverse:{flagged[0]}")
    assert gold.gold_standard and gold.expert


def test_nothing_valid_exits_non_zero_and_stores_nothing(tmp_path):
    path = write_rows(
        tmp_path / "bad.csv",
        [
            ["classification_id", "workflow_id", "annotations", "subject_ids"],
            ["x", "10", "[]", "1"],
            ["5", "10", "{oops", "1"],
        ],
    )
    with pytest.raises(CommandError, match="nothing valid"):
        call_command("import_zooniverse", classifications=str(path))
    assert Classification.objects.count() == 0
    not_export = write_rows(tmp_path / "other.csv", [["a", "b"], ["1", "2"]])
    with pytest.raises(CommandError, match="not a Zooniverse classification export"):
        call_command("import_zooniverse", classifications=str(not_export))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_zooniverse", classifications=str(tmp_path / "missing.csv"))


@pytest.mark.parametrize("export", ["slsn_question_classifications.csv", "cat_drawing_classifications.csv"])
def test_the_postgresql_path_stores_what_the_row_by_row_path_stores(shared_data, monkeypatch, export):
    """On PostgreSQL the export is parsed by the database; every stored field must equal Python's reading."""
    from django.db import connection

    from zooniverse import export_reader, importer, staged_import

    if connection.vendor != "postgresql":
        pytest.skip("the staged path runs on PostgreSQL only")
    monkeypatch.setattr(staged_import, "CHUNK_ROWS", 3)  # several chunks, and a short last one

    def no_fallback(*args, **kwargs):
        raise AssertionError("a chunk of a clean export fell back to the row-by-row path")

    monkeypatch.setattr(importer, "_store_stream", no_fallback)
    path = shared_data / "zooniverse_exports" / export
    report = import_classifications(classifications=path)
    assert report.bad_count == 0 and report.imported >= 7
    with path.open(newline="", encoding="utf-8-sig") as handle:
        records = [
            r for r in export_reader.read_classification_stream(handle) if not isinstance(r, export_reader.BadRow)
        ]
    stored = {c.idempotency_key: c for c in Classification.objects.filter(source="zooniverse")}
    assert len(stored) == len({r.classification_id for r in records})
    for record in records:
        row = stored[f"zooniverse:{record.classification_id}"]
        expected = importer._classification(record, row.workflow, row.workflow_version, _subject(record))
        for field in ("annotations", "metadata", "volunteer_key", "started_at", "finished_at", "gold_standard",
                      "expert", "user_agent", "subject_id"):  # fmt: skip
            got, want = getattr(row, field), getattr(expected, field)
            if field == "metadata":  # a repeated classification keeps its first row number
                got, want = (
                    {**got, "zooniverse": {**got["zooniverse"], "row": 0}},
                    {
                        **want,
                        "zooniverse": {**want["zooniverse"], "row": 0},
                    },
                )
            assert got == want, (record.row, field)


def _subject(record):
    return ZooniverseSubject.objects.get(zooniverse_id=record.subject_ids[0])


def test_header_text_never_reaches_sql(tmp_path, shared_data, monkeypatch):
    """Extra columns with hostile names (quotes, SQL, the staging table's own column) are carried, not run."""
    from django.db import connection

    from zooniverse import importer

    if connection.vendor != "postgresql":
        pytest.skip("the staged path runs on PostgreSQL only")
    rows = rows_of(shared_data / "zooniverse_exports" / "slsn_question_classifications.csv")
    hostile = ['x"; DROP TABLE annotations_classification; --', "n", "c0"]
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows[0] + hostile)
        for row in rows[1:]:
            writer.writerow(row + ["a", "b", "c"])

    def no_fallback(*args, **kwargs):
        raise AssertionError("the staged path gave up on a clean file")

    monkeypatch.setattr(importer, "_store_stream", no_fallback)
    report = import_classifications(classifications=path)
    assert report.imported == len(rows) - 1
    assert Classification.objects.count() == len(rows) - 1


def test_a_copy_end_marker_line_loses_no_row(tmp_path, shared_data):
    """A line holding only backslash-dot ends COPY's input early; that chunk must go the careful way."""
    lines = (shared_data / "zooniverse_exports" / "slsn_question_classifications.csv").read_text().splitlines(True)
    path = tmp_path / "marker.csv"
    path.write_text("".join(lines[:3]) + "\\.\n" + "".join(lines[3:]))
    report = import_classifications(classifications=path)
    assert report.imported == len(lines) - 1
    assert report.bad_count == 1 and "row 4" in report.bad_rows[0]
