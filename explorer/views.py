"""Pages of the data browser: the filterable grid of cutouts and one page per cutout."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotations import selectors as annotation_selectors
from core.errors import DomainError
from core.pages import astronomer_required

from . import selectors
from .api.serializers import SORT_CHOICES
from .dossier import cutout_dossier


@ensure_csrf_cookie
@astronomer_required
def browse(request):
    context = {"choices": selectors.browse_choices(), "sorts": SORT_CHOICES, "query": request.GET}
    return render(request, "explorer/browse.html", context)


@ensure_csrf_cookie
@astronomer_required
def cutout_page(request, cutout_id: int):
    try:
        cutout = annotation_selectors.cutout_get(cutout_id=cutout_id)
    except DomainError:
        raise Http404("no such cutout")
    dossier = cutout_dossier(cutout=cutout)
    return render(request, "explorer/cutout.html", {"d": dossier, "cutout": cutout})
