"""Whether a workflow has generated subjects (asked on every lease) is read from the small index
of generated cutouts, not by scanning all of the workflow's subjects."""

import pytest
from django.db import connection

from annotations.models import SubjectWorkflowStatus
from annotations.synthetic import synthetic_subjects_exist
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="reads SQLite's query plan (PostgreSQL's depends on table sizes)"
)
def test_synthetic_lookup_reads_the_partial_index():
    workflow, cutouts = make_workflow_with_subjects(n=30, retirement=5)
    assert synthetic_subjects_exist(workflow=workflow) is False
    cutouts[7].synthetic = True
    cutouts[7].save(update_fields=["synthetic"])
    assert synthetic_subjects_exist(workflow=workflow) is True
    rows = SubjectWorkflowStatus.objects.filter(workflow=workflow, subject__synthetic=True)
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(step) for step in cursor.fetchall())
    assert "cutout_synthetic_only" in plan, plan
