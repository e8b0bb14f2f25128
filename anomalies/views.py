"""Pages: scans and their anomaly galleries, for astronomers."""

from django.contrib.auth.decorators import login_required, user_passes_test
from django.shortcuts import get_object_or_404, render

from annotations.models import Workflow
from core.roles import is_astronomer

from .models import AnomalyEntry, Scan

PAGE = 60


@login_required
@user_passes_test(is_astronomer)
def scan_list(request):
    return render(request, "anomalies/scans.html", {"scans": Scan.objects.all()[:100]})


@login_required
@user_passes_test(is_astronomer)
def scan_detail(request, scan_id):
    scan = get_object_or_404(Scan, pk=scan_id)
    try:
        top = float(request.GET.get("top") or max(scan.top_percents))
    except ValueError:
        top = max(scan.top_percents)
    entries = AnomalyEntry.objects.filter(scan=scan, top_percent__lte=top).order_by("rank")
    context = {
        "scan": scan,
        "top": top,
        "levels": sorted(scan.top_percents, reverse=True),
        "counts": {t: AnomalyEntry.objects.filter(scan=scan, top_percent__lte=t).count() for t in scan.top_percents},
        "entries": entries[:PAGE],
        "more": max(0, entries.count() - PAGE),
        "workflows": Workflow.objects.filter(active=True),
        "tiles_done": scan.tiles.filter(done=True).count(),
    }
    return render(request, "anomalies/scan.html", context)
