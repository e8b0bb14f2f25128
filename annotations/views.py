"""Server-rendered pages: the volunteer's classify page, job progress, the astronomers' desk."""

import functools

from django.conf import settings
from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie

from . import selectors
from .consensus import QUESTION_TYPES
from .errors import DomainError
from .models import Survey
from .roles import is_astronomer, volunteer_from_request
from .task_definitions import answer_labels, task_text


def astronomer_required(view):
    """The rule of the astronomers' API for a page: anonymous visitors are sent to sign in,
    signed-in volunteers get a 403."""

    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_astronomer(request.user):
            raise PermissionDenied("This page needs an astronomer account.")
        return view(request, *args, **kwargs)

    return wrapped


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


@astronomer_required  # parameters and errors name files and hosts, as in the API
def job_detail(request, job_id):
    try:
        job = selectors.job_get(job_id=job_id)
    except DomainError:
        raise Http404("no such job")
    return render(request, "annotations/job.html", {"job": job})


@login_required
@user_passes_test(is_astronomer)
def astronomer_desk(request):
    context = {
        "surveys": selectors.survey_list(),
        "ranking_choices": Survey.QueueRanking.choices,
        "workflows": selectors.workflow_list(),
        "jobs": selectors.job_list_recent(limit=20),
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
