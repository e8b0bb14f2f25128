"""Generated subjects carry the hidden ``#synthetic`` flag in exports and Zooniverse pushes, and the
blinded realism answer travels with the classification."""

import json

import pytest

from annotations.models import Cutout, SubjectWorkflowStatus, Workflow
from annotations.roles import Volunteer
from annotations.services import classification_create, cutout_set_priority
from annotations.source_catalogue import consensus_sources
from annotations.task_definitions import demo_workflow_definition
from tests.factories import make_workflow_with_subjects
from tests.zooniverse.test_zooniverse_sync import standin  # noqa: F401  (the Panoptes stand-in)
from zooniverse import sync
from zooniverse.export_reader import CLASSIFICATION_COLUMNS, SUBJECT_COLUMNS
from zooniverse.export_writer import classification_rows, subject_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed():
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=10, name="Export mixed")
    Cutout.objects.filter(pk=cutouts[2].pk).update(
        synthetic=True, metadata={"#generator_version": 2, "#requested_class": "Bent", "#seed": 7}
    )
    for cutout in cutouts:
        classification_create(
            workflow_id=workflow.pk,
            subject_id=cutout.pk,
            volunteer=Volunteer(None, "vol"),
            annotations=[{"task": "T0", "value": 3}],
            realism="generated" if cutout == cutouts[2] else "",
        )
    return workflow, cutouts


def by_name(columns, row):
    return dict(zip(columns, row, strict=True))


def test_classification_and_subject_exports_flag_generated_subjects(mixed):
    workflow, cutouts = mixed
    rows = [by_name(CLASSIFICATION_COLUMNS, row) for row in classification_rows(workflow)]
    by_subject = {row["subject_ids"]: row for row in rows}
    generated = json.loads(by_subject[cutouts[2].pk]["subject_data"])[str(cutouts[2].pk)]
    assert generated["#synthetic"] is True and generated["#requested_class"] == "Bent"
    real = json.loads(by_subject[cutouts[0].pk]["subject_data"])[str(cutouts[0].pk)]
    assert "#synthetic" not in real
    assert json.loads(by_subject[cutouts[2].pk]["metadata"])["realism"] == "generated"
    assert "realism" not in json.loads(by_subject[cutouts[0].pk]["metadata"])
    subjects = {row[0]: by_name(SUBJECT_COLUMNS, row) for row in subject_rows(workflow)}
    assert json.loads(subjects[cutouts[2].pk]["metadata"])["#synthetic"] is True
    assert "#synthetic" not in json.loads(subjects[cutouts[1].pk]["metadata"])


def link_to_project(workflow, state):
    """The workflow linked to a new project's workflow on the Panoptes stand-in."""
    project = state.add_project("EMU pilot", "rgz/emu-pilot")
    tasks, strings = demo_workflow_definition()
    zooniverse_workflow = state.add_workflow(project, "Morphology", tasks=tasks, strings=strings, version="1.1")
    return sync.link_create(workflow=workflow, project_id=int(project), zooniverse_workflow_id=int(zooniverse_workflow))


def test_push_sends_generated_subjects_with_the_hidden_flag(standin, mixed):  # noqa: F811
    workflow, cutouts = mixed
    Workflow.objects.filter(pk=workflow.pk).update(synthetic_share=0.5)  # room for the one generated subject
    for rank, cutout in enumerate(cutouts):
        cutout_set_priority(cutout=cutout, priority=float(rank))
    state = standin.state
    link = link_to_project(workflow, state)
    assert sync.sync_push(link_id=link.pk).created == 3
    pushed = {s["metadata"]["#rgz_cutout_id"]: s["metadata"] for s in state.resources["subjects"].values()}
    generated = pushed[cutouts[2].pk]
    assert generated["#synthetic"] is True
    assert (generated["#generator_version"], generated["#requested_class"], generated["#seed"]) == (2, "Bent", 7)
    assert "#synthetic" not in pushed[cutouts[0].pk]
    # nothing a volunteer can read gives a generated subject away: its name is hidden, and a real
    # subject shows no key that a generated one lacks (each shows none)
    for cutout in cutouts:
        assert [key for key in pushed[cutout.pk] if not key.startswith("#")] == []
        assert pushed[cutout.pk]["#filename"] == f"{cutout.name}.png"


def test_generated_subjects_never_enter_the_source_catalogue(monkeypatch, mixed):
    """The catalogue of sky sources reads mark consensus; a generated subject's is left out."""
    from types import SimpleNamespace

    from annotations import source_catalogue

    workflow, cutouts = mixed
    fake = {c.pk: SimpleNamespace(kind="radio_components", sources=[], subject_id=c.pk, task="T9") for c in cutouts}

    def consensus(*, workflow):
        return fake

    monkeypatch.setattr(source_catalogue, "mark_consensus", consensus)
    for c in fake.values():
        c.sources = [SimpleNamespace(components=[1], share=1.0, host=None, host_votes=0)]
        c.num_votes, c.agreement = 1, 1.0
    rows = consensus_sources(workflow=workflow)
    seen = {row["subject"] for row in rows}
    assert seen == {cutouts[0].pk, cutouts[1].pk}


def test_the_synthetic_share_caps_the_generated_subjects_pushed_and_the_rest_wait(standin):  # noqa: F811
    workflow, cutouts = make_workflow_with_subjects(n=12, retirement=10, name="Capped push")
    generated = cutouts[8:]  # 8 real, 4 generated; a share of 0.2 lets 2 in (2 of 10)
    Cutout.objects.filter(pk__in=[c.pk for c in generated]).update(synthetic=True)
    Workflow.objects.filter(pk=workflow.pk).update(synthetic_share=0.2)
    state = standin.state
    link = link_to_project(workflow, state)
    report = sync.sync_push(link_id=link.pk)
    assert report.created == 10 and report.extra["synthetic_held_back"] == 2
    assert "2 generated subject(s) held back" in " ".join(report.notes)
    flags = [s["metadata"].get("#synthetic", False) for s in state.resources["subjects"].values()]
    assert flags.count(True) == 2
    for cutout in make_workflow_with_subjects(n=4, name="more", survey_name="more")[1]:  # 4 more real ones
        SubjectWorkflowStatus.objects.create(workflow=workflow, subject=cutout)
    again = sync.sync_push(link_id=link.pk)
    assert again.created == 5  # the 4 real ones and one generated (3 of 15 at most)
    flags = [s["metadata"].get("#synthetic", False) for s in state.resources["subjects"].values()]
    assert flags.count(True) == 3 and again.extra["synthetic_held_back"] == 1


def test_room_for_generated_subjects_keeps_them_within_the_share():
    from zooniverse.sync.push import synthetic_room

    assert synthetic_room(0.05, 19, 0) == 1 and synthetic_room(0.05, 18, 0) == 0
    assert synthetic_room(0.2, 8, 0) == 2 and synthetic_room(0.2, 8, 3) == 0
    assert synthetic_room(0.0, 1000, 0) == 0 and synthetic_room(1.0, 0, 50) == float("inf")
