"""Schema-driven fuzzing of the whole API with schemathesis, as each role (tests and bench share it).

Every operation of the OpenAPI schema gets ``max_examples`` generated requests, valid and invalid,
sent to the WSGI app in this process; then, for operations with ids in their path, a few more with
ids that exist (random ids almost never do, and the responses that matter most are for real
objects). Two checks only: no server error (5xx), and every documented response matches its
schema. Failures are collected, not raised, so that one run reports them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance


@dataclass
class RoleReport:
    operations: int = 0
    cases: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "operations": self.operations,
            "cases": self.cases,
            "server_errors": self.server_errors,
            "schema_violations": self.schema_violations,
        }


@dataclass
class KnownIds:
    """Ids of stored objects, put into path parameters of the matching type."""

    integers: list[int] = field(default_factory=list)
    uuids: list[str] = field(default_factory=list)


def load_schema(app):
    return schemathesis.openapi.from_wsgi("/api/schema/", app)


def fuzz_role(
    schema,
    *,
    headers: dict,
    max_examples: int,
    seed: int,
    known: KnownIds | None = None,
    skip: tuple[str, ...] = (),
) -> RoleReport:
    report = RoleReport()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in skip:
            continue
        report.operations += 1
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )
        _run(strategy, max_examples, seed, lambda case: _check(case, headers, report))
        for path_parameters in _known_path_parameters(operation, known or KnownIds()):
            strategy = operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters)
            _run(strategy, 2, seed, lambda case: _check(case, headers, report))
    return report


def _run(strategy, max_examples, seed, test):
    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=strategy)
    def run(case):
        test(case)

    run()


def _known_path_parameters(operation, known: KnownIds) -> list[dict]:
    parameters = [p for p in operation.definition.raw.get("parameters", []) if p.get("in") == "path"]
    choices = []
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if schema.get("type") == "integer":
            choices.append([(parameter["name"], value) for value in known.integers])
        elif schema.get("format") == "uuid":
            choices.append([(parameter["name"], value) for value in known.uuids])
    if not choices:
        return []
    # one id per parameter at a time (each known id once), the others generated
    return [dict([pair]) for options in choices for pair in options]


def _check(case, headers: dict, report: RoleReport) -> None:
    report.cases += 1
    response = case.call(headers=headers)
    request = f"{case.method} {case.formatted_path} query={case.query!r} body={_short(_body(case))}"
    if response.status_code >= 500:
        report.server_errors += 1
        report.failures.append(f"{response.status_code} {request}")
        return
    try:
        case.validate_response(response, checks=[response_schema_conformance], headers=headers)
    except (Failure, FailureGroup) as exc:
        report.schema_violations += 1
        report.failures.append(f"schema {response.status_code} {request}: {_short(_message(exc), 400)}")


def _message(exc) -> str:
    failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
    return "; ".join(f"{failure.title}: {failure.message}" for failure in failures)


def _body(case):
    return case.body if isinstance(case.body, dict | list | str | bytes | int | float | None) else "-"


def _short(value, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def seed_objects() -> KnownIds:
    """A small world for the fuzzing to find: a workflow with cutouts and a classification, a tag
    and its audit event, a finished job and scan."""
    from annotations.roles import Volunteer
    from annotations.services import classification_create
    from jobs.models import Job
    from taxonomy import curation
    from tests.factories import make_scan, make_workflow_with_subjects

    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=3, name="Fuzzing")
    classification_create(
        workflow_id=workflow.pk,
        subject_id=cutouts[0].pk,
        volunteer=Volunteer(user_id=None, session_key="fuzz"),
        annotations=[{"task": "T0", "value": 1}, {"task": "T1", "value": "a bent jet"}],
    )
    tag = curation.tag_create(name="bent jet")
    job = Job.objects.create(kind="ingest_images", status=Job.Status.FAILED, errors=["x.fits: unreadable"])
    scan = make_scan("mosaic.fits")
    integers = sorted({workflow.pk, tag.pk, tag.events.get().pk, *(c.pk for c in cutouts)})
    return KnownIds(integers=integers, uuids=[str(job.pk), str(scan.pk)])
