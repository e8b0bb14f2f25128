"""Pages: the astronomers' curation page and search by tag."""

from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotations.models import Cutout
from core.errors import DomainError
from core.roles import is_astronomer
from jobs.models import Job

from . import selectors, services
from .models import Tag


@ensure_csrf_cookie
@login_required
@user_passes_test(is_astronomer)
def curation(request):
    status = request.GET.get("status", "candidate")
    q = request.GET.get("q", "")
    try:
        rows = selectors.tag_list(status=status if status != "all" else None, q=q)
    except DomainError:
        status, rows = "candidate", selectors.tag_list(status="candidate")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    cutout_ids = {i for tag in page for i in tag.example_cutouts[:4] if isinstance(i, int)}
    cutouts = Cutout.objects.in_bulk(cutout_ids)
    for tag in page:
        tag.example_cutout_rows = [cutouts[i] for i in tag.example_cutouts[:4] if i in cutouts]
    context = {
        "page": page,
        "status": status,
        "q": q,
        "statuses": ["candidate", "approved", "retired", "all"],
        "live_tags": Tag.objects.exclude(status=Tag.Status.RETIRED).order_by("name").values("id", "name", "revision"),
        "events": selectors.event_list(limit=30),
        "version": services.current_version(),
        "counts": {s: Tag.objects.filter(status=s).count() for s in Tag.Status.values},
        "jobs": Job.objects.filter(kind__in=["derive_taxonomy", "autotag_descriptions"]).order_by("-created_at")[:5],
    }
    return render(request, "taxonomy/curation.html", context)


@login_required
@user_passes_test(is_astronomer)
def search(request):
    require, exclude = request.GET.get("require", ""), request.GET.get("exclude", "")
    min_fraction = request.GET.get("min_fraction", "0")
    rows, error = [], ""
    if require:
        try:
            rows = selectors.cutouts_by_tags(require=require, exclude=exclude, min_fraction=min_fraction)
        except DomainError as exc:
            error = exc.message
    context = {
        "require": require,
        "exclude": exclude,
        "min_fraction": min_fraction,
        "rows": rows[:200],
        "total": len(rows),
        "error": error,
        "query": request.GET.urlencode(),
        "approved": Tag.objects.filter(status=Tag.Status.APPROVED).order_by("name").values_list("name", flat=True),
    }
    return render(request, "taxonomy/search.html", context, status=400 if error else 200)
