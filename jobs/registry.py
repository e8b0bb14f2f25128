"""The job kinds: each app registers its runners from its AppConfig.ready(), with its options."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass

import pydantic
from django.conf import settings

from core.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class JobKind:
    """How a kind of job runs.

    ``runner`` takes the job's parameters as keyword arguments plus ``progress(done, total,
    message)`` and returns a ``JobReport``. ``queue`` is its Celery queue (None: the default).
    ``redeliver``: when the worker process running it dies, its message goes back to the broker
    (acknowledged late) instead of being failed and sent again by the recovery. ``max_attempts``
    (read at each start, so settings apply) caps the starts; past it the job fails and
    ``on_abandoned(**parameters, message=...)`` undoes what it must.
    """

    runner: Callable[..., object]
    queue: str | None = None
    redeliver: bool = False
    max_attempts: Callable[[], int] | None = None
    on_abandoned: Callable[..., None] | None = None


JOB_KINDS: dict[str, JobKind] = {}


def register_job_runner(
    kind: str,
    runner: Callable[..., object],
    *,
    queue: str | None = None,
    redeliver: bool = False,
    max_attempts: Callable[[], int] | None = None,
    on_abandoned: Callable[..., None] | None = None,
) -> None:
    """Let an app run its long work as a job (call from its AppConfig.ready())."""
    JOB_KINDS[kind] = JobKind(
        runner=runner, queue=queue, redeliver=redeliver, max_attempts=max_attempts, on_abandoned=on_abandoned
    )


def job_kind(kind: str) -> JobKind:
    if kind not in JOB_KINDS:
        raise NotFound(f"unknown job kind {kind!r}")
    return JOB_KINDS[kind]


def job_attempt_limit(kind: str) -> int:
    """How many starts a job of this kind gets: its own limit, else RGZ_JOB_MAX_ATTEMPTS."""
    limit = JOB_KINDS[kind].max_attempts if kind in JOB_KINDS else None
    return limit() if limit is not None else settings.RGZ_JOB_MAX_ATTEMPTS


def job_parameters_validate(kind: str, parameters: dict) -> dict:
    """The parameters a job's runner can take, checked against its signature and type hints
    before anything is queued (else the worker fails later with a TypeError)."""
    model = _parameters_model(job_kind(kind).runner)
    try:
        validated = model.model_validate(parameters)
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "parameters"
        accepted = ", ".join(model.model_fields) or "none"
        raise InvalidInput(
            f"job {kind!r}, parameter {name!r}: {error['msg']} (it takes: {accepted})", field=f"parameters.{name}"
        )
    return validated.model_dump(mode="json", exclude_unset=True)


@functools.cache
def _parameters_model(runner: Callable[..., object]) -> type[pydantic.BaseModel]:
    try:
        hints = typing.get_type_hints(runner)
    except Exception:  # a hint that only exists for type checkers: check names, not types
        hints = {}
    fields = {}
    extra = "forbid"
    for name, parameter in inspect.signature(runner).parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            extra = "allow"
        elif name != "progress" and parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[name] = (hints.get(name, typing.Any), default)
    config = pydantic.ConfigDict(extra=extra, arbitrary_types_allowed=True)
    return pydantic.create_model(f"{runner.__name__}_parameters", __config__=config, **fields)
