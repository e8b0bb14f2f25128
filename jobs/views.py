"""A job's page: its progress, live, and its errors."""

from django.http import Http404
from django.shortcuts import render

from core.errors import DomainError
from core.pages import astronomer_required

from . import selectors


@astronomer_required  # parameters and errors name files and hosts, as in the API
def job_detail(request, job_id):
    try:
        job = selectors.job_get(job_id=job_id)
    except DomainError:
        raise Http404("no such job")
    return render(request, "jobs/job.html", {"job": job})
