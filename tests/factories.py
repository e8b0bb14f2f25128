"""Test data made the way the platform makes it: real images through the real ingestion path."""

from __future__ import annotations

import io

import factory
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from django.contrib.auth import get_user_model
from django.test import TestCase
from rest_framework.test import APIClient

from annotations import ml
from annotations.ingestion import cutout_create
from annotations.models import Survey
from annotations.services import subject_set_get_or_create, workflow_create, workflow_link_subject_set
from annotations.task_definitions import demo_workflow_definition
from core.roles import astronomer_group


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"survey-{n}")
    telescope = "ASKAP"
    frequency_mhz = 944.0


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


def astronomer(username: str = "astro"):
    user = UserFactory(username=username)
    user.groups.add(astronomer_group())
    return user


def blob_array(size: int = 64, seed: int = 0, lobes: int = 2) -> np.ndarray:
    """A radio-like source: Gaussian lobes on Gaussian noise, in Jy/beam-like units."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    data = rng.normal(0, 1e-4, (size, size))
    for k in range(lobes):
        cx = size / 2 + (k - (lobes - 1) / 2) * size / 4
        data += 5e-3 * np.exp(-((x - cx) ** 2 + (y - size / 2) ** 2) / (2 * (size / 16) ** 2))
    return data.astype(np.float32)


def fits_bytes(
    data: np.ndarray, ra: float = 150.0, dec: float = 2.0, scale_arcsec: float = 1.8, wcs: bool = True
) -> bytes:
    header = fits.Header()
    if wcs:
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---SIN", "DEC--SIN"]
        w.wcs.crval = [ra, dec]
        w.wcs.crpix = [data.shape[-1] / 2 + 0.5, data.shape[-2] / 2 + 0.5]
        w.wcs.cdelt = [-scale_arcsec / 3600, scale_arcsec / 3600]
        header = w.to_header()
    buffer = io.BytesIO()
    fits.PrimaryHDU(data=data, header=header).writeto(buffer)
    return buffer.getvalue()


def make_cutout(survey: Survey, name: str, subject_set=None, seed: int = 0, priority: float | None = None):
    raw = fits_bytes(blob_array(seed=seed), ra=150.0 + seed * 0.01)
    cutout = cutout_create(
        survey=survey,
        name=name,
        prepared=ml.prepare_cutout(ml.read_cutout_image(raw), source_bytes=raw),
        subject_set=subject_set,
        metadata={"label": "FRII"},
    )
    if priority is not None:
        from annotations.services import cutout_set_priority

        cutout_set_priority(cutout=cutout, priority=priority)
        cutout.refresh_from_db()
    return cutout


def make_workflow_with_subjects(
    n: int = 5, retirement: int = 3, name: str = "Morphology test", survey_name="test-survey"
):
    """A demo-shaped workflow with ``n`` cutouts in its queue."""
    survey = SurveyFactory(name=survey_name)
    tasks, strings = demo_workflow_definition()
    workflow = workflow_create(display_name=name, tasks=tasks, strings=strings, retirement_count=retirement)
    subject_set = subject_set_get_or_create(survey=survey, display_name=f"{name} set")
    workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
    cutouts = [make_cutout(survey, f"src-{i}", subject_set=subject_set, seed=i) for i in range(n)]
    return workflow, cutouts


def volunteer_key_of(client) -> str:
    """The anonymous volunteer a test client is (its signed cookie); gives it a cookie if it has none."""
    import uuid

    from django.core.signing import BadSignature, get_cookie_signer

    from annotations.roles import VOLUNTEER_COOKIE, VOLUNTEER_SALT

    signer = get_cookie_signer(salt=VOLUNTEER_COOKIE + VOLUNTEER_SALT)
    morsel = client.cookies.get(VOLUNTEER_COOKIE)
    try:
        if morsel is not None:
            return f"session:{signer.unsign(morsel.value)}"
    except BadSignature:
        morsel = None  # a cookie the server would refuse: the client gets a new id, as it would
    anonymous_id = uuid.uuid4().hex
    client.cookies[VOLUNTEER_COOKIE] = signer.sign(anonymous_id)
    return f"session:{anonymous_id}"


def serve(client, workflow, subject_id: int) -> None:
    """Lease a chosen subject to an anonymous test client, as GET /api/queue/next/ would have."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import F
    from django.utils import timezone

    from annotations.models import QueueLease, SubjectWorkflowStatus

    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject_id=subject_id)
    expires_at = timezone.now() + timedelta(seconds=settings.RGZ_QUEUE_LEASE_SECONDS)
    _, created = QueueLease.objects.get_or_create(
        status=status, volunteer_key=volunteer_key_of(client), defaults={"expires_at": expires_at}
    )
    if created:
        SubjectWorkflowStatus.objects.filter(pk=status.pk).update(leased_count=F("leased_count") + 1)


def make_scan(mosaic_path: str = "mosaic.fits"):
    """A finished anomaly scan row (no tiles run), for API and page tests."""
    from anomalies.models import Scan

    return Scan.objects.create(
        mosaic_path=mosaic_path,
        aperture_arcsec=10,
        stride_arcsec=5,
        aperture_px=5,
        stride_px=3,
        height=10,
        width=10,
        tile_frames=4,
        tile_count=1,
        status=Scan.Status.SUCCEEDED,
    )


class JobRunningAPIClient(APIClient):
    """An API client whose requests run the jobs they start, as a worker would once the request's
    transaction commits (tests run inside one transaction, so on-commit work would wait for ever)."""

    def generic(self, *args, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().generic(*args, **kwargs)


def job_result(job_id) -> dict:
    """The stored result of a finished job (it fails the test when the job did not succeed)."""
    from jobs.models import Job

    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.SUCCEEDED, (job.status, job.message)
    return job.result
