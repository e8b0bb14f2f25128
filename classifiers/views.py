"""Pages: the model registry (retrain, follow, compare, promote, roll back) and explanations."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from annotations import selectors as annotation_selectors
from annotations.acquisition import gold_subjects_count, policy_active
from annotations.synthetic import synthetic_open_count
from core.errors import DomainError
from core.roles import is_admin, is_astronomer

from . import encoders, selectors, services
from .acquisition_preview import policy_settings_default
from .models import ModelVersion
from .readiness import training_pace, training_presets, version_warnings
from .similarity import SPACES, novelty_gallery, space_check


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def registry(request):
    tasks = []
    # Before its first training the demo survey's default task is shown unsaved; starting a
    # retraining creates it (a page view writes nothing).
    unsaved = services.default_task_unsaved()
    if unsaved is not None:
        tasks.append({"task": unsaved, "versions": [], "active": None, "training": []})
    for task in selectors.task_list():
        versions = list(selectors.version_list(task=task))
        for version in versions:
            version.promote_warning = "; ".join(version_warnings(version))  # asked about before promoting
        tasks.append(
            {
                "task": task,
                "versions": versions,
                "active": next((v for v in versions if v.status == ModelVersion.Status.ACTIVE), None),
                "training": [v for v in versions if v.status == ModelVersion.Status.TRAINING],
                # the form keeps the last start's choice instead of going back to the default
                "last_epochs": versions[0].config.get("epochs") if versions else None,
            }
        )
    pace = training_pace()
    context = {
        "tasks": tasks,
        "can_train": is_admin(request.user),
        "default_epochs": settings.RGZ_CLASSIFIER_EPOCHS,
        "presets": training_presets(default_epochs=settings.RGZ_CLASSIFIER_EPOCHS, pace=pace),
        "pace": pace,
    }
    return render(request, "classifiers/registry.html", context)


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def version_detail(request, version_id: int):
    try:
        version = selectors.version_get(version_id=version_id)
    except DomainError:
        raise Http404("no such model version")
    metrics = version.metrics
    per_class = []
    if metrics:
        per_class = [
            {"name": name, "precision": p, "recall": r, "f1": f}
            for name, p, r, f in zip(
                metrics["classes"], metrics["precision"], metrics["recall"], metrics["f1"], strict=True
            )
        ]
    version.promote_warning = "; ".join(version_warnings(version))  # asked about before promoting
    context = {"version": version, "per_class": per_class, "can_train": is_admin(request.user)}
    return render(request, "classifiers/version.html", context)


@login_required
@user_passes_test(is_astronomer)
def compare(request):
    try:
        a = selectors.version_get(version_id=request.GET.get("a"))
        b = selectors.version_get(version_id=request.GET.get("b"))
    except DomainError as exc:
        raise Http404(exc.message)
    differences = selectors.version_differences(a=a, b=b)
    rows = [
        {"label": label, "a": a.metrics.get(key), "b": b.metrics.get(key), "diff": differences[key]}
        for key, label in zip(selectors.COMPARED, ("accuracy", "macro F1", "ECE", "Frechet distance"), strict=True)
    ]
    return render(request, "classifiers/compare.html", {"a": a, "b": b, "rows": rows})


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def explanation_page(request, cutout_id: int):
    try:
        cutout = annotation_selectors.cutout_get(cutout_id=cutout_id)
    except DomainError:
        raise Http404("no such cutout")
    task_name = request.GET.get("task") or settings.RGZ_CLASSIFIER_DEFAULT_TASK
    return render(request, "classifiers/explain.html", {"cutout": cutout, "task_name": task_name})


@login_required
@user_passes_test(is_astronomer)
def explanation_lookup(request):
    """The registry page's "explain a cutout" form: cutout id (and task) -> its explanation page."""
    try:
        cutout_id = int(request.GET.get("cutout", ""))
    except ValueError:
        raise Http404("give a cutout id")
    task = request.GET.get("task") or settings.RGZ_CLASSIFIER_DEFAULT_TASK
    return redirect(f"{reverse('classifier-explain', args=[cutout_id])}?{urlencode({'task': task})}")


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def workflow_acquisition(request, workflow_id: int):
    """Set a workflow's acquisition policy (weights, exploration, gold schedule), preview what it
    would serve, save it and roll back to an earlier one; the page works through the API."""
    try:
        workflow = annotation_selectors.workflow_get(workflow_id=workflow_id)
    except DomainError:
        raise Http404("no such workflow")
    active = policy_active(workflow=workflow)
    context = {
        "workflow": workflow,
        "tasks": list(selectors.task_list()),
        "active": active,
        "settings_data": active.policy if active else policy_settings_default(),
        "task_name": active.task_name if active else "",
        "score_names": ["entropy", "margin", "bald", "complexity", "novelty"],
        "gold_count": gold_subjects_count(workflow=workflow),
        "synthetic_open": synthetic_open_count(workflow=workflow),
    }
    return render(request, "classifiers/acquisition.html", context)


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def novelty_gallery_page(request, survey_id: int):
    """A survey's most novel cutouts in learned feature space (``?space=classifier|encoder``; by
    default the active classifier's, else the survey's encoder's), each sendable to a workflow's queue."""
    try:
        survey = annotation_selectors.survey_get(survey_id=survey_id)
    except DomainError:
        raise Http404("no such survey")
    try:
        space = space_check(request.GET.get("space"))
    except DomainError as exc:
        return HttpResponseBadRequest(exc.message)
    feature_version, items = novelty_gallery(survey=survey, space=space)
    encoder_space = bool(feature_version and feature_version.startswith("encoder:"))
    context = {
        "survey": survey,
        "space": space,
        "spaces": SPACES,
        "encoder_space": encoder_space,
        # "more like this" searches the space the gallery is ordered in
        "strip_space": "encoder" if encoder_space else "classifier",
        "feature_version": feature_version,
        "items": items,
        "workflows": list(annotation_selectors.workflow_list()),
        "encoders": list(encoders.encoder_list(survey=survey)[:5]),
        "can_train": is_admin(request.user),
    }
    return render(request, "classifiers/novelty.html", context)
