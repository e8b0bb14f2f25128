"""A job's state in words, failures included: "succeeded with 1 failure (2157/2158)", not "succeeded"."""

from .models import Job


def job_failures(job: Job) -> int:
    """Items the job reported as failed (a finished job that failed outright counts as none)."""
    failed = (job.result or {}).get("failed") if isinstance(job.result, dict) else None
    if isinstance(failed, int) and failed > 0:
        return failed
    return 0


def job_outcome(job: Job) -> str:
    if job.status == Job.Status.QUEUED:
        return "queued"
    if job.status == Job.Status.RUNNING and job.cancel_requested_at is None:
        return f"running {job.done}/{job.total}" if job.total else "running"
    if job.status == Job.Status.FAILED:
        return "failed"
    if job.status == Job.Status.CANCELLED:
        return "cancelled"
    if job.cancel_requested_at is not None:
        return f"cancelling ({job.done}/{job.total})"
    failures = job_failures(job)
    if not failures:
        return "succeeded"
    total = job.total or (
        failures + int((job.result or {}).get("created", 0)) + int((job.result or {}).get("skipped", 0))
    )
    plural = "failure" if failures == 1 else "failures"
    return f"succeeded with {failures} {plural} ({max(total - failures, 0)}/{total})"
