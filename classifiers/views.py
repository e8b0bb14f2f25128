"""Pages: the model registry (retrain, follow, compare, promote, roll back) and explanations."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from annotations.models import Cutout
from core.errors import DomainError
from core.roles import is_admin, is_astronomer

from . import selectors, services
from .models import ClassifierTask, ModelVersion


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
    for task in ClassifierTask.objects.select_related("survey", "workflow"):
        versions = list(task.versions.select_related("job"))
        tasks.append(
            {
                "task": task,
                "versions": versions,
                "active": next((v for v in versions if v.status == ModelVersion.Status.ACTIVE), None),
                "training": [v for v in versions if v.status == ModelVersion.Status.TRAINING],
            }
        )
    context = {"tasks": tasks, "can_train": is_admin(request.user), "default_epochs": settings.RGZ_CLASSIFIER_EPOCHS}
    return render(request, "classifiers/registry.html", context)


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def version_detail(request, version_id: int):
    version = get_object_or_404(ModelVersion.objects.select_related("task", "job"), pk=version_id)
    metrics = version.metrics
    per_class = []
    if metrics:
        per_class = [
            {"name": name, "precision": p, "recall": r, "f1": f}
            for name, p, r, f in zip(
                metrics["classes"], metrics["precision"], metrics["recall"], metrics["f1"], strict=True
            )
        ]
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
    rows = []
    for key, label in (
        ("accuracy", "accuracy"),
        ("macro_f1", "macro F1"),
        ("ece", "ECE"),
        ("frechet_distance", "Frechet distance"),
    ):
        va, vb = a.metrics.get(key), b.metrics.get(key)
        rows.append({"label": label, "a": va, "b": vb, "diff": None if va is None or vb is None else vb - va})
    return render(request, "classifiers/compare.html", {"a": a, "b": b, "rows": rows})


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def explanation_page(request, cutout_id: int):
    cutout = get_object_or_404(Cutout.objects.select_related("survey"), pk=cutout_id)
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
