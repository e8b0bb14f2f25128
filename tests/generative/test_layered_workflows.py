"""Approved samples join the survey's workflows, but not those whose real subjects show other
bands: a generated sample is radio only and would stand out among subjects with layers."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Cutout, CutoutLayer, SubjectWorkflowStatus
from annotations.services import subject_set_get_or_create, workflow_create, workflow_link_subject_set
from annotations.task_definitions import demo_workflow_definition
from generative.models import GeneratedSample, GeneratorVersion
from tests.factories import UserFactory, make_cutout, make_workflow_with_subjects

pytestmark = pytest.mark.django_db


def test_approved_samples_skip_workflows_whose_subjects_show_layers():
    radio_only, cutouts = make_workflow_with_subjects(n=2, retirement=3, name="Radio only", survey_name="layer-survey")
    survey = cutouts[0].survey
    tasks, strings = demo_workflow_definition()
    with_infrared = workflow_create(display_name="Radio and infrared", tasks=tasks, strings=strings)
    overlay_set = subject_set_get_or_create(survey=survey, display_name="Overlays")
    workflow_link_subject_set(workflow=with_infrared, subject_set=overlay_set)
    overlaid = make_cutout(survey, "overlaid", subject_set=overlay_set)
    CutoutLayer.objects.create(
        cutout=overlaid, band="infrared", survey_name="WISE", source_format="png", matched_by="sky_position"
    )
    version = GeneratorVersion.objects.create(survey=survey, number=1, status="active", classes=["FRII"])
    generated = make_cutout(survey, "generated-v1-0-2")
    Cutout.objects.filter(pk=generated.pk).update(synthetic=True)
    sample = GeneratedSample.objects.create(
        version=version, cutout=generated, requested_class="FRII", seed=0, guidance=2.0
    )

    admin = APIClient()
    admin.force_authenticate(UserFactory(username="boss", is_staff=True))
    body = {"survey": survey.name, "ids": [sample.pk], "review": "approved"}
    assert admin.post("/api/generative/samples/review/", body, format="json").status_code == 200
    queued = set(SubjectWorkflowStatus.objects.filter(subject=generated).values_list("workflow_id", flat=True))
    assert queued == {radio_only.pk}
    # the layered workflow still serves its own subjects
    assert SubjectWorkflowStatus.objects.filter(workflow=with_infrared, subject=overlaid).exists()
