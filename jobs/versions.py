"""Shared by the apps whose jobs train a model version (classifiers, generators): a version is
trained only while it says ``training``, and any error fails it with the reason before the job
fails, so the active version is never touched."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.errors import DomainError

from .reports import JobReport

logger = logging.getLogger(__name__)


def version_training_run(
    version, *, train: Callable[[JobReport], None], fail: Callable[..., None], training_status: str
) -> JobReport:
    """Run ``train(report)`` for a version in ``training_status``; skip any other version."""
    report = JobReport()
    if version.status != training_status:
        report.skipped = 1
        report.notes.append(f"version {version.pk} is {version.status}; nothing to do")
        return report
    try:
        train(report)
    except DomainError as exc:
        fail(version_id=version.pk, message=exc.message)
        raise
    except Exception as exc:
        logger.exception("training of %s failed", version)
        fail(version_id=version.pk, message=f"unexpected error: {exc}")
        raise
    return report
