"""Server-rendered pages: the volunteer's classify page, the astronomers' desk."""

import math

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required, user_passes_test
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie

from core.errors import DomainError
from core.roles import is_astronomer
from jobs.outcome import job_failures, job_outcome
from jobs.selectors import job_list_recent

from . import selectors
from .consensus import QUESTION_TYPES
from .field_guide import TUTORIAL_STEPS
from .login_throttle import signup_record, signup_wait_seconds
from .models import Survey
from .roles import volunteer_from_request
from .source_catalogue import consensus_source_overlays
from .synthetic import synthetic_disclosure
from .tag_vocabulary import tag_task_choices
from .task_definitions import answer_labels, task_text
from .volunteer_history import tutorial_seen_get


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
                "tags": tag_task_choices(task) if task["type"] == "tags" else [],
                "tools": [
                    {
                        "type": tool["type"],
                        "label": version.strings.get(tool["label"], tool["label"]),
                        "color": tool.get("color", ""),
                    }
                    for tool in task.get("tools", [])
                ],
            }
        )
    context = {
        "workflow": workflow,
        "version": version,
        "tasks": tasks,
        "count": selectors.volunteer_classification_count(volunteer_key=volunteer.key, workflow=workflow),
        "field_guide": selectors.field_guide(workflow=workflow),
        "synthetic_disclosure": synthetic_disclosure(workflow=workflow),
        "progress": selectors.workflow_progress(workflow=workflow),
        "max_description": settings.RGZ_DESCRIPTION_MAX_CHARS,
        "tutorial_steps": TUTORIAL_STEPS,
        "tutorial_seen": tutorial_seen_get(user=request.user),
    }
    return render(request, "annotations/classify.html", context)


def recent_classifications(request):
    """The volunteer's own recent classifications, to look again at what they saw."""
    volunteer = volunteer_from_request(request)
    context = {"recent": selectors.volunteer_recent_classifications(volunteer_key=volunteer.key)}
    return render(request, "annotations/recent.html", context)


def sign_up(request):
    """Create a volunteer account; what this browser classified anonymously joins it on sign-in."""
    if request.user.is_authenticated:
        return redirect("classify")
    if request.method == "POST" and (wait := signup_wait_seconds(request)):
        minutes = math.ceil(wait / 60)
        response = render(
            request,
            "registration/signup.html",
            {
                "form": UserCreationForm(),
                "refused": f"Too many new accounts from this address. Try again in {minutes} min.",
            },
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        signup_record(request)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("recent-classifications")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@login_required
@user_passes_test(is_astronomer)
def astronomer_desk(request):
    context = {
        "surveys": selectors.survey_list_counted(),
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


@login_required
@user_passes_test(is_astronomer)
def workflow_sources(request, workflow_id: int):
    """The consensus radio sources of a workflow over their images, with the catalogue's links."""
    try:
        workflow = selectors.workflow_get(workflow_id=workflow_id)
    except DomainError:
        raise Http404("no such workflow")
    context = {"workflow": workflow, "subjects": consensus_source_overlays(workflow=workflow)}
    return render(request, "annotations/sources.html", context)
