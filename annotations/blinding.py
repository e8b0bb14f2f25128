"""What volunteers are not shown of a subject before they answer it, where generated subjects are
served: in a survey with approved generated cutouts, and in a workflow whose queue holds any.

A generated cutout has no sky position, no source file format of its own and no visible metadata.
A real one showing any of these would give the generated ones away before the answer and spoil
the blind realism question. So, until a volunteer has answered a subject there, every subject
looks alike: no position, format or visible metadata, only the survey's pixel scale for the scale
bar. After the answer the cutout is shown in full (the classification's response says when it was
generated). Astronomers always see everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .models import Classification, Cutout
from .selectors import servable_cutouts


def blind_survey_ids() -> set[int]:
    """Surveys that serve generated cutouts (approved, or queued by other means)."""
    rows = Cutout.objects.filter(synthetic=True).filter(servable_cutouts())
    return set(rows.values_list("survey_id", flat=True).distinct())


def answered_ids(*, volunteer_key: str, cutout_ids: Iterable[int]) -> set[int]:
    ids = list(cutout_ids)
    if not ids:
        return set()
    rows = Classification.objects.filter(volunteer_key=volunteer_key, subject_id__in=ids)
    return set(rows.values_list("subject_id", flat=True).distinct())


def blind_ids(cutouts: Iterable[Cutout], *, queue_has_generated: bool = False) -> set[int]:
    """Ids of the ``cutouts`` served blind to volunteers who have not answered them: those of a
    blind survey, or all of them when they come from a queue that holds generated subjects."""
    cutouts = list(cutouts)
    if queue_has_generated:
        return {c.pk for c in cutouts}
    if not cutouts:
        return set()
    surveys = blind_survey_ids()
    return {c.pk for c in cutouts if c.survey_id in surveys}


def withheld_ids(
    cutouts: Iterable[Cutout], *, volunteer_key: Callable[[], str], queue_has_generated: bool = False
) -> set[int]:
    """Ids of the ``cutouts`` whose position, format and visible metadata this volunteer is not
    shown yet. ``volunteer_key`` is called only when some are blind (it may set a cookie)."""
    blind = blind_ids(cutouts, queue_has_generated=queue_has_generated)
    return blind - answered_ids(volunteer_key=volunteer_key(), cutout_ids=blind) if blind else set()


def withheld_sky(cutout: Cutout) -> dict | None:
    """The sky summary of a subject whose position is withheld: the survey's pixel scale only."""
    scale = cutout.survey.pixel_scale_arcsec
    return {"pixel_scale_arcsec": float(scale), "approximate": True} if scale else None


def subject_position(cutout: Cutout) -> dict | None:
    """A subject's position as told after the answer; None when unknown (a generated one)."""
    if cutout.ra_deg is None or cutout.dec_deg is None:
        return None
    return {"ra_deg": cutout.ra_deg, "dec_deg": cutout.dec_deg}
