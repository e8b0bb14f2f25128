"""Subjects of an import resolved in bulk: a constant number of queries, placeholders sharing one image."""

import csv
import json

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Classification, Cutout, Survey
from tests.factories import SurveyFactory, make_cutout
from zooniverse.importer import import_classifications
from zooniverse.models import ZooniverseSubject
from zooniverse.subjects import PLACEHOLDER_SURVEY, match_cutouts

pytestmark = pytest.mark.django_db


def export_with_subjects(source, target, *, subjects: int, rows_per_subject: int = 2, first_subject: int = 900_000):
    """The real rows, repeated over ``subjects`` distinct subjects (each row's subject_data re-keyed)."""
    with open(source, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        real = list(reader)
    cid, sid, sdata = (header.index(c) for c in ("classification_id", "subject_ids", "subject_data"))
    with open(target, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(subjects * rows_per_subject):
            row = list(real[n % len(real)])
            subject = first_subject + n // rows_per_subject
            (inner,) = json.loads(row[sdata]).values()
            row[cid], row[sid] = str(first_subject * 10 + n), str(subject)
            row[sdata] = json.dumps({str(subject): inner})
            writer.writerow(row)
    return target


@pytest.fixture
def slsn(shared_data):
    return shared_data / "zooniverse_exports" / "slsn_question_classifications.csv"


def _queries_to_import(path) -> int:
    with CaptureQueriesContext(connection) as queries:
        report = import_classifications(classifications=path)
    assert report.bad_count == 0
    return len(queries)


def test_new_subjects_cost_the_same_queries_whether_ten_or_two_hundred(tmp_path, slsn):
    few = export_with_subjects(slsn, tmp_path / "few.csv", subjects=10, first_subject=100_000)
    many = export_with_subjects(slsn, tmp_path / "many.csv", subjects=200, first_subject=200_000)
    few_queries = _queries_to_import(few)
    many_queries = _queries_to_import(many)
    assert ZooniverseSubject.objects.count() == 210
    assert Classification.objects.count() == 420
    # 190 more new subjects: at most a few more statements (SQLite caps the rows of one bulk insert
    # by its limit on query parameters), never some per subject as when each was made on its own.
    assert many_queries <= few_queries + 6, (few_queries, many_queries)


def test_placeholders_share_one_set_of_files_and_a_second_import_adds_nothing(tmp_path, slsn):
    path = export_with_subjects(slsn, tmp_path / "e.csv", subjects=50)
    report = import_classifications(classifications=path)
    assert sorted(report.placeholders) == list(range(900_000, 900_050))
    placeholders = Cutout.objects.filter(survey__name=PLACEHOLDER_SURVEY)
    assert placeholders.count() == 50
    files = set(placeholders.values_list("source_file", "image", "pixels"))
    assert len(files) == 1
    assert all(default_storage.exists(name) for name in files.pop())
    mapped = ZooniverseSubject.objects.get(zooniverse_id=900_007)
    assert mapped.placeholder and mapped.matched_by == "placeholder"
    assert mapped.cutout.name == "zooniverse-900007" and mapped.cutout.metadata["zooniverse_subject_id"] == 900_007
    assert mapped.cutout.width == 32 and mapped.cutout.complexity is not None
    # The row's subject_data is the subject's metadata, less Zooniverse's own retirement state.
    assert mapped.metadata["ramean"] and "retired" not in mapped.metadata
    assert mapped.cutout.metadata["zooniverse"] == mapped.metadata
    again = import_classifications(classifications=path)
    assert (again.imported, again.already_there, again.placeholders) == (0, 100, [])
    assert placeholders.count() == 50
    # New subjects later reuse the stored placeholder files.
    more = export_with_subjects(slsn, tmp_path / "more.csv", subjects=5, first_subject=950_000)
    import_classifications(classifications=more)
    assert placeholders.count() == 55
    assert len(set(placeholders.values_list("image", flat=True))) == 1


def test_bulk_matching_tries_keys_in_order_and_takes_the_lowest_id():
    first, second = SurveyFactory(name="A"), SurveyFactory(name="B")
    older = make_cutout(first, "dup", seed=1)
    make_cutout(second, "dup", seed=2)  # same name in another survey, higher id
    by_file = make_cutout(first, "renamed", seed=3)
    Cutout.objects.filter(pk=by_file.pk).update(metadata={"file": "J1-overlay.png"})
    at_position = make_cutout(first, "positioned", seed=0)  # centred on RA 150, Dec 2
    matched = match_cutouts(
        {
            1: {"#rgz_cutout_id": "999999", "name": "dup"},  # no such id: the name decides
            2: {"Filename": "https://example.org/x/J1-overlay.png", "name": "dup"},  # file before name
            3: {"ra": "150.0", "dec": "2.0"},
            4: {"ra": "10.0", "dec": "-80.0", "name": "nowhere"},
            5: {"#rgz_cutout_id": str(by_file.pk)},
        }
    )
    assert matched[1] == (older.pk, "name")
    assert matched[2] == (by_file.pk, "file name")
    assert matched[3] == (at_position.pk, "position")
    assert 4 not in matched
    assert matched[5] == (by_file.pk, "platform id")
    assert not Survey.objects.filter(name=PLACEHOLDER_SURVEY).exists()  # matching makes nothing


@pytest.mark.parametrize("band_rows", [2000, 1])  # a few cutouts in the band, or a crowded band
def test_position_matching_reads_the_band_or_lets_the_database_try_the_boxes(band_rows, monkeypatch):
    from zooniverse import subjects

    monkeypatch.setattr(subjects, "BAND_ROWS", band_rows)
    survey = SurveyFactory(name="A")
    near = [make_cutout(survey, f"s{seed}", seed=seed) for seed in (0, 1, 2)]  # RA 150.00, 150.01, 150.02; Dec 2
    make_cutout(survey, "again-at-150.01", seed=1)  # a second cutout in the same place, higher id
    matched = match_cutouts(
        {
            10: {"ra": "150.02", "dec": "2.0"},
            11: {"ra": "150.0", "dec": "2.0"},
            12: {"ra": "150.01", "dec": "2.0002"},  # within 3 arcsec
            13: {"ra": "150.005", "dec": "2.0"},  # 18 arcsec from both: no match
            14: {"ra": "150.0", "dec": "-2.0"},
        }
    )
    assert matched == {
        10: (near[2].pk, "position"),
        11: (near[0].pk, "position"),
        12: (near[1].pk, "position"),
    }
