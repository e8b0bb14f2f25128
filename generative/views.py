"""Pages: the generator registry (train, follow, promote, roll back), a version's page (its realism
as volunteers judge it) and the sample gallery."""

from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotations.selectors import survey_list
from core.errors import DomainError
from core.roles import is_admin, is_astronomer

from . import selectors
from .models import GeneratedSample, GeneratorVersion
from .realism import version_realism


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def registry(request):
    surveys = []
    for survey in survey_list():
        versions = list(selectors.version_list(survey=survey))
        surveys.append(
            {
                "survey": survey,
                "versions": versions,
                "active": next((v for v in versions if v.status == GeneratorVersion.Status.ACTIVE), None),
                "training": [v for v in versions if v.status == GeneratorVersion.Status.TRAINING],
            }
        )
    return render(request, "generative/registry.html", {"surveys": surveys, "can_train": is_admin(request.user)})


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def gallery(request, survey_id: int):
    try:
        survey = selectors.survey_get(survey=survey_id)
        review = request.GET.get("review") or GeneratedSample.Review.PENDING
        samples = list(selectors.sample_list(survey=survey, review=review)[:400])
    except DomainError:
        raise Http404("no such survey or review state")
    by_class: dict[str, list] = {}
    for sample in samples:
        by_class.setdefault(sample.requested_class, []).append(sample)
    context = {
        "survey": survey,
        "by_class": sorted(by_class.items()),
        "review": review,
        "reviews": GeneratedSample.Review.values,
        "active": selectors.active_version(survey=survey),
    }
    return render(request, "generative/gallery.html", context)


@login_required
@user_passes_test(is_astronomer)
def compare(request):
    try:
        a = selectors.version_get(version_id=int(request.GET.get("a", "")))
        b = selectors.version_get(version_id=int(request.GET.get("b", "")))
    except (DomainError, ValueError):
        raise Http404("choose two generator versions")
    rows = selectors.version_comparison(a=a, b=b)
    return render(request, "generative/compare.html", {"a": a, "b": b, "pair": (a, b), "rows": rows})


@login_required
@user_passes_test(is_astronomer)
def version_page(request, version_id: int):
    try:
        version = selectors.version_get(version_id=version_id)
    except DomainError:
        raise Http404("no such generator version")
    samples = {review: version.samples.filter(review=review).count() for review in GeneratedSample.Review.values}
    context = {
        "version": version,
        "realism": version_realism(version=version),
        "samples": samples,
        "measures": selectors.version_measures(version=version),
    }
    return render(request, "generative/version.html", context)
