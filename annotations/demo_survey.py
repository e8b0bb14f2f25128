"""The demo survey: the FIRST images of ``firstgalaxydata`` with their literature labels."""

from __future__ import annotations

from jobs.reports import JobReport

from . import ml
from .complexity import complexity_percentiles_update
from .ingestion import Progress, _no_progress, cutout_create, survey_get_or_create
from .models import Cutout, Workflow
from .services import (
    expert_classification_create,
    subject_set_get_or_create,
    workflow_create,
    workflow_link_subject_set,
)
from .task_definitions import DEMO_MORPHOLOGY_ANSWERS, demo_workflow_definition

DEMO_SURVEY = "FIRST demo (firstgalaxydata)"
DEMO_WORKFLOW = "Radio morphology"


def ingest_demo(*, limit: int | None = None, progress: Progress = _no_progress) -> JobReport:
    """The FIRST images of ``firstgalaxydata`` with their literature labels as expert classifications."""
    survey = survey_get_or_create(
        name=DEMO_SURVEY,
        telescope="VLA (FIRST)",
        frequency_mhz=1400.0,
        beam_arcsec=5.0,
        pixel_scale_arcsec=1.8,
        description="2,158 FIRST radio galaxies labelled FRI / FRII / Compact / Bent in the literature "
        "(firstgalaxydata, Griese et al. 2023).",
    )
    workflow = demo_workflow()
    subject_set = subject_set_get_or_create(survey=survey, display_name="FIRST demo")
    if not workflow.subject_sets.filter(pk=subject_set.pk).exists():
        workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
    answer_index = {value: i for i, (value, _) in enumerate(DEMO_MORPHOLOGY_ANSWERS)}
    existing = set(Cutout.objects.filter(survey=survey).values_list("name", flat=True))
    images = list(ml.demo_images(limit))
    report = JobReport()
    progress(0, len(images), f"loading {len(images)} FIRST images")
    for done, item in enumerate(images, start=1):
        if item.name in existing:
            report.skipped += 1
        else:
            try:
                image = ml.read_cutout_image(item.png)
            except ml.ImageReadError as exc:
                report.failed += 1
                report.errors.append(f"firstgalaxydata {item.split}/{item.label}/{item.name}.png: {exc}")
                progress(done, len(images), item.name)
                continue
            cutout = cutout_create(
                survey=survey,
                name=item.name,
                prepared=ml.prepare_cutout(image, source_bytes=item.png),
                ra_deg=item.ra_deg,
                dec_deg=item.dec_deg,
                subject_set=subject_set,
                metadata={"label": item.label, "split": item.split, "catalogue": item.catalogue},
            )
            expert_classification_create(
                workflow=workflow,
                subject=cutout,
                annotations=[{"task": "T0", "value": answer_index[item.label]}],
                source=f"literature:{item.catalogue}",
            )
            report.created += 1
        progress(done, len(images), item.name)
    complexity_percentiles_update(survey=survey)
    return report


def demo_workflow() -> Workflow:
    workflow = Workflow.objects.filter(display_name=DEMO_WORKFLOW).first()
    if workflow is None:
        tasks, strings = demo_workflow_definition()
        workflow = workflow_create(
            display_name=DEMO_WORKFLOW,
            tasks=tasks,
            strings=strings,
            description="Classify the morphology of FIRST radio sources and describe them in your own words.",
        )
    return workflow
