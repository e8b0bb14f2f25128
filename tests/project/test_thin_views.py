"""Views stay thin: no ORM call in a view module, one query-parameter module, typed responses,
and the services and selectors the views now call."""

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from annotations import selectors, services
from annotations.models import SubjectWorkflowStatus, Workflow
from core.errors import InvalidInput
from tests.factories import astronomer, demo_workflow_definition, make_workflow_with_subjects

ROOT = Path(__file__).resolve().parents[2]
VIEW_MODULES = sorted(
    {
        *ROOT.glob("*/views.py"),
        *ROOT.glob("*/api/views.py"),
        *ROOT.glob("*/api/*_views.py"),
        *(ROOT / "zooniverse" / name for name in ("api.py", "sync_api.py")),
    }
)
ORM_NAMES = {"objects", "select_for_update", "in_bulk"}


def orm_calls(path: Path) -> list[str]:
    """``X.objects``, ``select_for_update``, ``in_bulk`` and ``get_object_or_404`` in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ORM_NAMES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.Name) and node.id == "get_object_or_404":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} get_object_or_404")
    return found


def test_view_modules_make_no_orm_calls():
    assert len(VIEW_MODULES) >= 13
    calls = [call for path in VIEW_MODULES for call in orm_calls(path)]
    assert calls == [], "reads go through selectors, writes through services:\n" + "\n".join(calls)


def test_query_parameters_are_read_by_one_module():
    """No copies of the parameter helpers in views, and no view imports another module's private names."""
    helpers = {"_int_param", "_bool_param", "int_param", "bool_param", "float_param"}
    offenders = []
    for path in VIEW_MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in helpers:
                offenders.append(f"{path.relative_to(ROOT)}: defines {node.name}")
            if isinstance(node, ast.ImportFrom):
                names = [(a.name, a.asname or "") for a in node.names]
                offenders += [f"{path.relative_to(ROOT)}: imports {n}" for n, a in names if "_" in (n[:1], a[:1])]
    assert offenders == []


TYPED = [
    ("/api/cutouts/{id}/contours/", "get"),
    ("/api/workflows/{id}/consensus/", "get"),
    ("/api/workflows/{id}/skill/", "get"),
    ("/api/workflows/{id}/retirement/", "get"),
    ("/api/workflows/{id}/retirement/", "put"),
    ("/api/workflows/{id}/retirement/preview/", "post"),
    ("/api/cutouts/{id}/descriptions/", "get"),
    ("/api/workflows/{id}/acquisition/", "get"),
    ("/api/workflows/{id}/acquisition/", "put"),
    ("/api/workflows/{id}/acquisition/rollback/", "post"),
    ("/api/workflows/{id}/acquisition/preview/", "get"),
    ("/api/workflows/{id}/acquisition/preview/", "post"),
    ("/api/workflows/{id}/gold/", "post"),
    ("/api/workflows/{id}/queue-front/", "post"),
    ("/api/cutouts/{id}/similar/", "get"),
]


@pytest.mark.django_db
def test_every_json_response_has_a_described_shape(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, method in TYPED:
        assert path in schema["paths"], path
        body = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in body, f"{method.upper()} {path}: {body}"
        component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
        assert component.get("properties"), f"{method.upper()} {path}: {component}"


@pytest.mark.django_db
def test_workflow_with_subject_sets_is_created_whole_or_not_at_all():
    workflow, cutouts = make_workflow_with_subjects(n=3)
    subject_set = workflow.subject_sets.get()
    tasks, strings = demo_workflow_definition()
    created = services.workflow_create_with_subject_sets(
        display_name="second", tasks=tasks, strings=strings, subject_set_ids=[subject_set.pk], retirement_count=4
    )
    assert list(created.subject_sets.all()) == [subject_set]
    assert SubjectWorkflowStatus.objects.filter(workflow=created).count() == 3
    assert created.retirement_limit == 4
    before = Workflow.objects.count()
    with pytest.raises(InvalidInput, match="subject set 999999 does not exist"):
        services.workflow_create_with_subject_sets(
            display_name="third", tasks=tasks, strings=strings, subject_set_ids=[subject_set.pk, 999999]
        )
    assert Workflow.objects.count() == before  # nothing stored, not even the links made before


@pytest.mark.django_db
def test_workflow_post_with_an_unknown_subject_set_is_a_400_that_stores_nothing():
    tasks, strings = demo_workflow_definition()
    api = APIClient()
    api.force_authenticate(astronomer())
    body = {"display_name": "x", "tasks": tasks, "strings": strings, "subject_sets": [424242]}
    response = api.post(reverse("api-workflows"), body, format="json")
    assert response.status_code == 400 and response.json()["field"] == "subject_sets"
    assert not Workflow.objects.filter(display_name="x").exists()


@pytest.mark.django_db
def test_selectors_filter_as_the_views_did():
    workflow, cutouts = make_workflow_with_subjects(n=3)
    assert selectors.workflow_first_active() == workflow
    statuses = selectors.subject_status_list(workflow=workflow.pk, retired=False)
    assert [s.subject_id for s in statuses] == [c.pk for c in cutouts]
    assert not selectors.subject_status_list(workflow=workflow.pk, retired=True).exists()
    assert selectors.survey_get(name="test-survey").pk == cutouts[0].survey_id


@pytest.mark.django_db
def test_sync_links_count_pushed_subjects_in_one_query():
    from zooniverse.models import ZooniverseLink

    api = APIClient()
    api.force_authenticate(astronomer())
    for i in range(3):
        workflow, _ = make_workflow_with_subjects(n=1, name=f"w{i}", survey_name=f"s{i}")
        ZooniverseLink.objects.create(workflow=workflow, project_id=1, zooniverse_workflow_id=i + 1)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(reverse("api-zooniverse-links"))
    assert response.status_code == 200 and [row["pushed_subjects"] for row in response.json()] == [0, 0, 0]
    link_queries = [q for q in queries.captured_queries if "zooniverse" in q["sql"].lower()]
    assert len(link_queries) == 1, [q["sql"] for q in link_queries]
