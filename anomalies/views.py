"""Pages: scans and their anomaly galleries, for astronomers."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, user_passes_test
from django.http import Http404
from django.shortcuts import render

from annotations import selectors as annotation_selectors
from annotations.paths import import_roots
from core.errors import DomainError
from core.roles import is_astronomer

from . import selectors, services

PAGE = 60


@login_required
@user_passes_test(is_astronomer)
def scan_list(request):
    context = {
        "scans": selectors.scan_list(limit=100),
        "import_roots": [str(root) for root in import_roots()],
        "max_upload_mb": settings.RGZ_MAX_MOSAIC_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "anomalies/scans.html", context)


@login_required
@user_passes_test(is_astronomer)
def scan_detail(request, scan_id):
    try:
        scan = selectors.scan_get(scan_id=scan_id)
    except DomainError:
        raise Http404("no such scan")
    try:
        top = float(request.GET.get("top") or max(scan.top_percents))
    except ValueError:
        top = max(scan.top_percents)
    entries = services.catalogue_entries(scan, top)
    context = {
        "scan": scan,
        "top": top,
        "levels": sorted(scan.top_percents, reverse=True),
        "counts": selectors.scan_level_counts(scan=scan),
        "entries": entries[:PAGE],
        "more": max(0, entries.count() - PAGE),
        "workflows": annotation_selectors.workflow_list(active=True),
        "tiles_done": selectors.scan_tiles_done(scan=scan),
        "map": selectors.scan_map(scan=scan, entries=entries),
    }
    return render(request, "anomalies/scan.html", context)
