"""Which workflow version a classification was made with ("major.minor").

A version's definition changes only when a workflow export is imported again, so the submit path
reads it once per process and keeps it VERSION_CACHE_SECONDS (a re-import's new wording reaches
every web process within that time; the process that saves a version forgets its cache at once).
"""

from __future__ import annotations

import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.errors import InvalidInput

from .models import Workflow, WorkflowVersion

VERSION_CACHE_SECONDS = 30.0
VERSION_CACHE_SIZE = 512
_versions: dict[tuple[int, int, int], tuple[float, WorkflowVersion]] = {}


def parse_version_label(label: str) -> tuple[int, int]:
    try:
        major_text, minor_text = str(label).split(".")
        return int(major_text), int(minor_text)
    except ValueError:
        raise InvalidInput(f"workflow_version must look like 'major.minor', not {label!r}", field="workflow_version")


def resolve_version(workflow: Workflow, label: str | None) -> WorkflowVersion:
    """The version a classification was made with ("major.minor"); the current one when omitted."""
    if not label:
        major, minor = workflow.version_major, workflow.version_minor
    else:
        major, minor = parse_version_label(label)
    version = WorkflowVersion.objects.filter(workflow=workflow, major=major, minor=minor).first()
    if version is None:
        raise InvalidInput(f"workflow {workflow.pk} has no version {major}.{minor}", field="workflow_version")
    return version


def workflow_version_cached(workflow: Workflow, label: str | None) -> WorkflowVersion:
    """As resolve_version, from this process's cache when read in the last VERSION_CACHE_SECONDS."""
    major, minor = parse_version_label(label) if label else (workflow.version_major, workflow.version_minor)
    key = (workflow.pk, major, minor)
    now = time.monotonic()
    hit = _versions.get(key)
    if hit is not None and now - hit[0] < VERSION_CACHE_SECONDS:
        return hit[1]
    version = resolve_version(workflow, f"{major}.{minor}")
    if len(_versions) >= VERSION_CACHE_SIZE:
        _versions.clear()
    _versions[key] = (now, version)
    return version


@receiver(post_save, sender=WorkflowVersion, dispatch_uid="workflow-version-cache-save")
@receiver(post_delete, sender=WorkflowVersion, dispatch_uid="workflow-version-cache-delete")
def _forget_versions(**kwargs) -> None:
    versions_forget()


def versions_forget() -> None:
    _versions.clear()
