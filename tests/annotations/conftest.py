"""Fixtures of the mark-consensus tests: the ATLAS subject S311 in a radio-source workflow, and
panoptes_aggregation (in .venv-aggregation) run on the platform's own Zooniverse export."""

import io
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from annotations.models import Cutout
from annotations.services import workflow_create
from annotations.task_definitions import radio_source_workflow_definition

AGGREGATION = Path(__file__).resolve().parents[2] / ".venv-aggregation" / "bin" / "panoptes_aggregation"


@pytest.fixture
def s311(shared_data):
    tasks, strings = radio_source_workflow_definition()
    workflow = workflow_create(display_name="Radio sources", tasks=tasks, strings=strings, retirement_count=20)
    path = shared_data / "rgz_atlas_examples" / "S311.fits"
    call_command("ingest_images", str(path), survey="ATLAS", workflow=workflow.pk, inline=True, stdout=io.StringIO())
    return workflow, Cutout.objects.get(name="S311")


class PanoptesAggregation:
    """panoptes_aggregation's command line, run in one folder."""

    def __init__(self, folder: Path):
        self.folder = folder

    def run(self, *args: str) -> None:
        result = subprocess.run([str(AGGREGATION), *args], cwd=self.folder, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]

    def extract(self, workflow) -> str:
        """Export the workflow's classifications (c.csv, c_workflows.csv), write panoptes' configs
        and run its extractors (outputs ``*_t.csv``); returns the workflow version's label."""
        call_command("export_zooniverse", workflow=workflow.pk, out=str(self.folder / "c.csv"))
        version = workflow.versions.get(major=workflow.version_major, minor=workflow.version_minor)
        label = f"{version.major}.{version.minor}"
        folder = str(self.folder)
        self.run("config", "c_workflows.csv", str(workflow.pk), "-v", label, "-d", folder)
        self.run("extract", "c.csv", f"Extractor_config_workflow_{workflow.pk}_V{label}.yaml", "-d", folder, "-o", "t")
        return label


@pytest.fixture
def panoptes_aggregation(tmp_path) -> PanoptesAggregation:
    """Skipped where the aggregation environment is missing (a failure on CI, where it must be)."""
    if not AGGREGATION.exists():
        if os.environ.get("CI"):
            pytest.fail("panoptes_aggregation is not installed (make aggregation-env)")
        pytest.skip("panoptes_aggregation is not installed (make aggregation-env)")
    return PanoptesAggregation(tmp_path)
