"""Matching Zooniverse subjects to the platform's cutouts, or making placeholders for them.

Subjects are resolved in bulk: a real export carries about one subject per 15 classifications,
so one at a time (several queries and three files each) would dominate a large import. For a
set of subjects: one query finds the known ones, one query per kind of key (platform id, file
name, name, position) matches the rest, one bulk insert makes the placeholders (all showing the
same image, whose files are stored once) and one bulk insert the mappings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

import numpy as np
from django.db import transaction
from django.db.models import Q

from annotations.ingestion import cutouts_create_sharing_image, survey_get_or_create
from annotations.ml import PreparedCutout, SkyImage, prepare_cutout
from annotations.models import Cutout
from core.bulk import insert_sharing

from .models import ZooniverseSubject

PLACEHOLDER_SURVEY = "Zooniverse subjects without a platform cutout"
ID_KEYS = ("#rgz_cutout_id", "#cutout_id", "!rgz_cutout_id")
FILE_KEYS = ("Filename", "filename", "#filename", "!filename", "file_name", "image_name", "file", "image")
NAME_KEYS = ("#name", "name", "source_name", "Source", "objectId", "#source")
RA_KEYS = ("ra", "RA", "#ra", "ra_deg", "ramean", "RAJ2000")
DEC_KEYS = ("dec", "DEC", "Dec", "#dec", "dec_deg", "decmean", "DEJ2000")
MATCH_RADIUS_DEG = 3 / 3600
IN_QUERY = 5000  # ids per IN (...) list: far under SQLite's limit on query parameters
BOXES_PER_QUERY = 200  # subjects matched by position per query
BAND_ROWS = 2000  # cutouts read for a piece's band of declinations; more: the database tries the boxes


@dataclass(frozen=True)
class SubjectMapping:
    zooniverse_id: int
    cutout_id: int
    placeholder: bool


def _first(metadata: dict, keys) -> object | None:
    return next((metadata[k] for k in keys if metadata.get(k) not in (None, "")), None)


def _pieces(items: list, size: int = IN_QUERY):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lowest_id_by(queryset, field: str, values: set) -> dict:
    """{value: the lowest cutout id having it}: what ``.filter(field=value).first()`` gives, for many values."""
    found: dict = {}
    for piece in _pieces(sorted(values, key=str)):
        for value, pk in queryset.filter(**{f"{field}__in": piece}).values_list(field, "id"):
            if value not in found or pk < found[value]:
                found[value] = pk
    return found


def _position(metadata: dict) -> tuple[float, float] | None:
    try:
        return float(_first(metadata, RA_KEYS)), float(_first(metadata, DEC_KEYS))
    except (TypeError, ValueError):
        return None


def _box(ra: float, dec: float) -> Q:
    half_ra = MATCH_RADIUS_DEG / max(np.cos(np.radians(dec)), 1e-3)
    return Q(
        dec_deg__range=(dec - MATCH_RADIUS_DEG, dec + MATCH_RADIUS_DEG), ra_deg__range=(ra - half_ra, ra + half_ra)
    )


def _by_position(positions: dict[int, tuple[float, float]]) -> dict[int, int]:
    """{subject: the lowest cutout id inside its box}. Subjects sorted by declination go in pieces;
    for each, the cutouts in the piece's band of declinations are read with one plain range query
    (few, since the band is narrow) and the boxes tried here; a crowded band lets the database try
    the boxes, OR-ed in one query."""
    found: dict[int, int] = {}
    items = sorted(positions.items(), key=lambda item: item[1][1])
    for piece in _pieces(items, BOXES_PER_QUERY):
        decs = [dec for _, (_, dec) in piece]
        band = Cutout.objects.filter(
            dec_deg__gte=min(decs) - MATCH_RADIUS_DEG, dec_deg__lte=max(decs) + MATCH_RADIUS_DEG
        )
        rows = list(band.values_list("id", "ra_deg", "dec_deg")[: BAND_ROWS + 1])
        if len(rows) > BAND_ROWS:
            boxes = reduce(or_, (_box(ra, dec) for _, (ra, dec) in piece))
            rows = list(band.filter(boxes).values_list("id", "ra_deg", "dec_deg"))
        rows.sort()
        for subject, (ra, dec) in piece:
            half_ra = MATCH_RADIUS_DEG / max(np.cos(np.radians(dec)), 1e-3)
            for pk, c_ra, c_dec in rows:
                if abs(c_dec - dec) <= MATCH_RADIUS_DEG and c_ra is not None and abs(c_ra - ra) <= half_ra:
                    found[subject] = pk
                    break
    return found


def match_cutouts(metadata_by_subject: dict[int, dict]) -> dict[int, tuple[int, str]]:
    """{subject: (cutout id, how)} for the subjects whose metadata points at a platform cutout.

    Keys are tried in order (platform id, file name, name, position); for each, the lowest
    matching cutout id wins."""
    platform_ids, files, names, positions = {}, {}, {}, {}
    for subject, metadata in metadata_by_subject.items():
        platform_id = _first(metadata, ID_KEYS)
        if platform_id is not None and str(platform_id).isdigit():
            platform_ids[subject] = int(platform_id)
        file_name = _first(metadata, FILE_KEYS)
        if file_name:
            files[subject] = str(file_name).rsplit("/", 1)[-1]
        name = _first(metadata, NAME_KEYS)
        if name:
            names[subject] = str(name)
        position = _position(metadata)
        if position is not None:
            positions[subject] = position
    cutouts = Cutout.objects.all()
    existing = _lowest_id_by(cutouts, "id", set(platform_ids.values()))
    by_file = _lowest_id_by(cutouts, "metadata__file", set(files.values()))
    by_stem = _lowest_id_by(cutouts, "name", {f.rsplit(".", 1)[0] for f in files.values()})
    by_name = _lowest_id_by(cutouts, "name", set(names.values()))
    matched: dict[int, tuple[int, str]] = {}
    for subject in metadata_by_subject:
        if platform_ids.get(subject) in existing:
            matched[subject] = (platform_ids[subject], "platform id")
        elif subject in files and (by_file.get(files[subject]) or by_stem.get(files[subject].rsplit(".", 1)[0])):
            matched[subject] = (by_file.get(files[subject]) or by_stem[files[subject].rsplit(".", 1)[0]], "file name")
        elif names.get(subject) in by_name:
            matched[subject] = (by_name[names[subject]], "name")
    unmatched = {s: p for s, p in positions.items() if s not in matched}
    for subject, pk in _by_position(unmatched).items():
        matched[subject] = (pk, "position")
    return matched


def _placeholder_image() -> SkyImage:
    # A faint ramp: a real, renderable image that says "no pixels of ours" rather than a blank file.
    ramp = np.add.outer(np.arange(32), np.arange(32)).astype(np.float32)
    return SkyImage(data=ramp, format="fits", notes=["placeholder: the platform holds no image of this subject"])


_prepared_placeholder: PreparedCutout | None = None


def _placeholder() -> PreparedCutout:
    global _prepared_placeholder
    if _prepared_placeholder is None:  # rendered once per process: every placeholder looks the same
        _prepared_placeholder = prepare_cutout(_placeholder_image())
    return _prepared_placeholder


def subjects_known(zooniverse_ids) -> dict[int, SubjectMapping]:
    """The mappings already made, for these Zooniverse subject ids."""
    known = {}
    for piece in _pieces(sorted(set(zooniverse_ids))):
        for zid, cutout_id, placeholder in ZooniverseSubject.objects.filter(zooniverse_id__in=piece).values_list(
            "zooniverse_id", "cutout_id", "placeholder"
        ):
            known[zid] = SubjectMapping(zid, cutout_id, placeholder)
    return known


@transaction.atomic
def subjects_resolve(metadata_by_subject: dict[int, dict]) -> tuple[dict[int, SubjectMapping], list[int]]:
    """The mappings for these Zooniverse subjects, made on first sight (matched, or listed
    placeholders); returns them and the ids of the placeholders made by this call."""
    mappings = subjects_known(metadata_by_subject)
    missing = {zid: metadata for zid, metadata in metadata_by_subject.items() if zid not in mappings}
    if not missing:
        return mappings, []
    matched = match_cutouts(missing)
    # Sorted: concurrent imports making the same placeholders take their locks in one order (they wait, never deadlock).
    unmatched = sorted(zid for zid in missing if zid not in matched)
    if unmatched:
        survey = survey_get_or_create(name=PLACEHOLDER_SURVEY)
        made = cutouts_create_sharing_image(
            survey=survey,
            items=[
                (
                    f"zooniverse-{zid}",
                    {"zooniverse_subject_id": zid, "placeholder": True, "zooniverse": missing[zid]},
                )
                for zid in unmatched
            ],
            prepared=_placeholder(),
        )
        for zid in unmatched:
            matched[zid] = (made[f"zooniverse-{zid}"], "placeholder")
    insert_sharing(
        ZooniverseSubject,
        [
            ZooniverseSubject(
                zooniverse_id=zid,
                cutout_id=cutout_id,
                metadata=missing[zid],
                placeholder=how == "placeholder",
                matched_by=how,
            )
            for zid, (cutout_id, how) in sorted(matched.items())
        ],
        varying=("zooniverse_id", "cutout", "metadata", "placeholder", "matched_by"),
        ignore_conflicts=True,  # another import made some meanwhile: theirs stand
    )
    made_now = subjects_known(missing)
    mappings.update(made_now)
    return mappings, [zid for zid in unmatched if made_now[zid].placeholder]


def subject_resolve(zooniverse_id: int, metadata: dict) -> SubjectMapping:
    """The mapping for one Zooniverse subject (see ``subjects_resolve``)."""
    mappings, _ = subjects_resolve({zooniverse_id: metadata})
    return mappings[zooniverse_id]
