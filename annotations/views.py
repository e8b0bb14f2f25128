"""Server-rendered pages: the volunteer's classify page, the astronomers' desk."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie

from core.errors import DomainError
from core.roles import is_astronomer
from jobs.outcome import job_failures, job_outcome
from jobs.selectors import job_list_recent

from . import selectors
from .consensus import QUESTION_TYPES
from .models import Survey
from .roles import volunteer_from_request
from .task_definitions import answer_labels, task_text


def home(request):
    workflow = selectors.workflow_first_active()
    if workflow is None:
        return render(request, "annotations/empty.html", status=200)
    return redirect("classify-workflow", workflow_id=workflow.pk)


@ensure_csrf_cookie
def classify(request, workflow_id: int):
    try:
        workflow = selectors.workflow_get(workflow_id=workflow_id)
    except DomainError:
        raise Http404("no such workflow")
    version = selectors.workflow_current_version(workflow=workflow)
    volunteer = volunteer_from_request(request)
    tasks = []
    for key, task in version.tasks.items():
        tasks.append(
            {
                "key": key,
                "type": task["type"],
                "text": task_text(task, version.strings),
                "required": bool(task.get("required")),
                "answers": answer_labels(task, version.strings),
                "tags": task.get("tags", []),
            }
        )
    context = {
        "workflow": workflow,
        "version": version,
        "tasks": tasks,
        "count": selectors.volunteer_classification_count(volunteer_key=volunteer.key, workflow=workflow),
        "field_guide": selectors.field_guide(workflow=workflow),
        "progress": selectors.workflow_progress(workflow=workflow),
        "max_description": settings.RGZ_DESCRIPTION_MAX_CHARS,
    }
    return render(request, "annotations/classify.html", context)


@login_required
@user_passes_test(is_astronomer)
def astronomer_desk(request):
    context = {
        "surveys": selectors.survey_list(),
        "ranking_choices": Survey.QueueRanking.choices,
        "workflows": selectors.workflow_list(),
        "jobs": [
            {"job": job, "outcome": job_outcome(job), "failures": job_failures(job)}
            for job in job_list_recent(limit=20)
        ],
    }
    return render(request, "annotations/desk.html", context)


@login_required
@user_passes_test(is_astronomer)
def workflow_retirement(request, workflow_id: int):
    """Edit a workflow's retirement rules with a live preview; retire subjects by hand."""
    try:
        workflow = selectors.workflow_get(workflow_id=workflow_id)
    except DomainError:
        raise Http404("no such workflow")
    version = selectors.workflow_current_version(workflow=workflow)
    questions = [
        {"key": key, "text": task_text(task, version.strings), "answers": answer_labels(task, version.strings)}
        for key, task in version.tasks.items()
        if task.get("type") in QUESTION_TYPES
    ]
    context = {
        "workflow": workflow,
        "questions": questions,
        "retirement": workflow.retirement or {},
        "progress": selectors.workflow_progress(workflow=workflow),
        "open_subjects": selectors.open_subjects_with_consensus(workflow=workflow, limit=25),
    }
    return render(request, "annotations/retirement.html", context)
