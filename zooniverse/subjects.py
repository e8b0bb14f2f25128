"""Matching Zooniverse subjects to the platform's cutouts, or making placeholders for them."""

from __future__ import annotations

import numpy as np
from django.db import transaction

from annotations.ingestion import cutout_create, survey_get_or_create
from annotations.ml import SkyImage, prepare_cutout
from annotations.models import Cutout

from .models import ZooniverseSubject

PLACEHOLDER_SURVEY = "Zooniverse subjects without a platform cutout"
ID_KEYS = ("#rgz_cutout_id", "#cutout_id", "!rgz_cutout_id")
FILE_KEYS = ("Filename", "filename", "#filename", "!filename", "file_name", "image_name", "file", "image")
NAME_KEYS = ("#name", "name", "source_name", "Source", "objectId", "#source")
RA_KEYS = ("ra", "RA", "#ra", "ra_deg", "ramean", "RAJ2000")
DEC_KEYS = ("dec", "DEC", "Dec", "#dec", "dec_deg", "decmean", "DEJ2000")
MATCH_RADIUS_DEG = 3 / 3600


def _first(metadata: dict, keys) -> object | None:
    return next((metadata[k] for k in keys if metadata.get(k) not in (None, "")), None)


def match_cutout(metadata: dict) -> tuple[Cutout | None, str]:
    """The platform cutout a subject's metadata points at, and how it was matched."""
    platform_id = _first(metadata, ID_KEYS)
    if platform_id is not None and str(platform_id).isdigit():
        cutout = Cutout.objects.filter(pk=int(platform_id)).first()
        if cutout:
            return cutout, "platform id"
    file_name = _first(metadata, FILE_KEYS)
    if file_name:
        name = str(file_name).rsplit("/", 1)[-1]
        cutout = (
            Cutout.objects.filter(metadata__file=name).first()
            or Cutout.objects.filter(name=name.rsplit(".", 1)[0]).first()
        )
        if cutout:
            return cutout, "file name"
    name = _first(metadata, NAME_KEYS)
    if name:
        cutout = Cutout.objects.filter(name=str(name)).first()
        if cutout:
            return cutout, "name"
    ra, dec = _first(metadata, RA_KEYS), _first(metadata, DEC_KEYS)
    try:
        ra, dec = float(ra), float(dec)
    except (TypeError, ValueError):
        return None, ""
    box = Cutout.objects.filter(
        dec_deg__range=(dec - MATCH_RADIUS_DEG, dec + MATCH_RADIUS_DEG),
        ra_deg__range=(
            ra - MATCH_RADIUS_DEG / max(np.cos(np.radians(dec)), 1e-3),
            ra + MATCH_RADIUS_DEG / max(np.cos(np.radians(dec)), 1e-3),
        ),
    ).first()
    return (box, "position") if box else (None, "")


def _placeholder_image() -> SkyImage:
    # A faint ramp: a real, renderable image that says "no pixels of ours" rather than a blank file.
    ramp = np.add.outer(np.arange(32), np.arange(32)).astype(np.float32)
    return SkyImage(data=ramp, format="fits", notes=["placeholder: the platform holds no image of this subject"])


@transaction.atomic
def subject_resolve(zooniverse_id: int, metadata: dict) -> ZooniverseSubject:
    """The mapping for a Zooniverse subject, made on first sight (matched, or a listed placeholder)."""
    known = ZooniverseSubject.objects.filter(zooniverse_id=zooniverse_id).select_related("cutout").first()
    if known:
        return known
    cutout, how = match_cutout(metadata)
    placeholder = cutout is None
    if placeholder:
        survey = survey_get_or_create(name=PLACEHOLDER_SURVEY)
        cutout = Cutout.objects.filter(survey=survey, name=f"zooniverse-{zooniverse_id}").first() or cutout_create(
            survey=survey,
            name=f"zooniverse-{zooniverse_id}",
            prepared=prepare_cutout(_placeholder_image()),
            metadata={"zooniverse_subject_id": zooniverse_id, "placeholder": True, "zooniverse": metadata},
        )
        how = "placeholder"
    return ZooniverseSubject.objects.create(
        zooniverse_id=zooniverse_id, cutout=cutout, metadata=metadata, placeholder=placeholder, matched_by=how
    )
