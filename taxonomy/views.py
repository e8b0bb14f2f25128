"""Pages: the astronomers' curation page and search by tag."""

from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from core.errors import DomainError
from core.roles import is_astronomer
from jobs.selectors import job_list_recent

from . import selectors, services


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
    examples = selectors.tag_example_cutouts(tags=page, per_tag=4)
    for tag in page:
        tag.example_cutout_rows = examples[tag.pk]
    context = {
        "page": page,
        "status": status,
        "q": q,
        "statuses": ["candidate", "approved", "retired", "all"],
        "live_tags": selectors.tag_live_choices(),
        "events": selectors.event_list(limit=30),
        "version": services.current_version(),
        "counts": selectors.tag_status_counts(),
        "jobs": job_list_recent(kinds=["derive_taxonomy", "autotag_descriptions"], limit=5),
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
        "approved": selectors.tag_approved_names(),
    }
    return render(request, "taxonomy/search.html", context, status=400 if error else 200)
