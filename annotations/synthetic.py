"""Generated (synthetic) subjects in a workflow: how many a volunteer is served, the blinded
realism question, and what volunteers are told.

- **Share cap.** A volunteer is served a synthetic subject only while the synthetic share of the
  subjects served to them in the workflow (answered, or leased and not yet answered), this one
  included, stays within the workflow's ``synthetic_share`` (0..1, default 5 %).
- **Blinded realism question.** "Does this look like a real observation?" is asked on every
  synthetic subject and, as a control, on a share of real ones chosen so that about as many real
  as generated subjects carry it: seeing the question says nothing about the answer. The choice
  is a hash of volunteer and subject, so a reload asks the same.
- **Disclosure.** The field guide says that some images are generated and at most how many; the
  queue does not say which ones before the answer, the classification's response does after it.
"""

from __future__ import annotations

import hashlib
import math

from django.db import transaction
from django.db.models import Count, Q

from core.errors import InvalidInput

from .models import Classification, Cutout, QueueLease, SubjectWorkflowStatus, Workflow
from .roles import Volunteer

REALISM_ANSWERS = ("real", "generated")
# Hidden metadata of a generated cutout that classifier training reads to give it the real images'
# brightness at its own size: the sample's drawn peak, and the median peak of the real images its
# generator learned from, at the generator's size.
DRAWN_PEAK, GENERATOR_MEDIAN_PEAK = "#drawn_peak", "#real_median_peak"


def synthetic_subjects_exist(*, workflow: Workflow, open_only: bool = False) -> bool:
    rows = SubjectWorkflowStatus.objects.filter(workflow=workflow, subject__synthetic=True)
    return (rows.filter(retired_at__isnull=True) if open_only else rows).exists()


def synthetic_open_count(*, workflow: Workflow) -> int:
    return SubjectWorkflowStatus.objects.filter(
        workflow=workflow, subject__synthetic=True, retired_at__isnull=True
    ).count()


def synthetic_served_counts(*, workflow: Workflow, volunteer_key: str) -> tuple[int, int]:
    """(synthetic, all) subjects served to this volunteer in the workflow: answered on the
    platform, or leased (live, or expired and not yet swept) and not answered."""
    synthetic = Count("pk", filter=Q(subject__synthetic=True))
    answered = Classification.objects.filter(
        workflow=workflow, volunteer_key=volunteer_key, source="platform"
    ).aggregate(n=Count("pk"), s=synthetic)
    leased = QueueLease.objects.filter(status__workflow=workflow, volunteer_key=volunteer_key).aggregate(
        n=Count("pk"), s=Count("pk", filter=Q(status__subject__synthetic=True))
    )
    return answered["s"] + leased["s"], answered["n"] + leased["n"]


def synthetic_slots(*, workflow: Workflow, volunteer: Volunteer, want: int = 1) -> int:
    """How many of the next ``want`` subjects served to this volunteer may be synthetic: the most
    k for which (synthetic served + k) / (all served + want) stays within the workflow's share."""
    share = float(workflow.synthetic_share)
    if share <= 0 or want <= 0:
        return 0
    if share >= 1 or not synthetic_subjects_exist(workflow=workflow, open_only=True):
        return want
    synthetic, served = synthetic_served_counts(workflow=workflow, volunteer_key=volunteer.key)
    return max(0, min(want, math.floor(share * (served + want) - synthetic + 1e-9)))


def synthetic_allowed(*, workflow: Workflow, volunteer: Volunteer) -> bool:
    """Whether the next subject served to this volunteer may be a synthetic one: true while
    (synthetic served + 1) / (all served + 1) stays within the workflow's share."""
    return synthetic_slots(workflow=workflow, volunteer=volunteer, want=1) > 0


def realism_control_rate(share: float) -> float:
    """The chance that a real subject carries the realism question, so that about as many real as
    synthetic subjects carry it when synthetic ones are served at ``share``."""
    if share <= 0:
        return 0.0
    return 1.0 if share >= 0.5 else share / (1.0 - share)


def _unit_draw(volunteer_key: str, subject_id: int) -> float:
    digest = hashlib.sha256(f"realism|{volunteer_key}|{subject_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def realism_question_asked(
    *, workflow: Workflow, subject: Cutout, volunteer: Volunteer, synthetic_present: bool | None = None
) -> bool:
    """Whether the page asks "real or generated?" on this subject for this volunteer.
    ``synthetic_present``: whether the workflow has synthetic subjects, when the caller knows."""
    if subject.synthetic:
        return True
    if synthetic_present is None:
        synthetic_present = synthetic_subjects_exist(workflow=workflow)
    if not synthetic_present:
        return False
    return _unit_draw(volunteer.key, subject.pk) < realism_control_rate(float(workflow.synthetic_share))


def realism_clean(value) -> str:
    """The stored form of a realism answer: "real", "generated" or "" (not answered)."""
    if value in (None, ""):
        return ""
    if value not in REALISM_ANSWERS:
        raise InvalidInput(f"realism must be one of {list(REALISM_ANSWERS)} or empty, not {value!r}", field="realism")
    return value


def synthetic_notice(*, classification: Classification) -> str | None:
    """What a volunteer is told after answering a generated subject; None for an observed one."""
    subject = classification.subject
    if not subject.synthetic:
        return None
    asked = (subject.metadata or {}).get("#requested_class")
    what = f" (the generator was asked for a {asked} source)" if asked else ""
    return (
        f"This was a generated example{what}: a computer model trained on real radio images made it; "
        "no telescope observed it. Your answer helps measure how realistic such images are and is "
        "never mixed with the answers on real sources."
    )


def synthetic_disclosure(*, workflow: Workflow) -> str | None:
    """The field guide's note on generated images; None when the workflow has none."""
    if not synthetic_subjects_exist(workflow=workflow):
        return None
    share = round(100 * float(workflow.synthetic_share))
    return (
        f"Some images (at most {share} % of those you see) are generated by a computer model trained on "
        "real radio images, to learn how realistic they look and which shapes the model gets right. They "
        "are not marked while you answer; after your answer you are told when one was generated. A generated "
        "image has no place on the sky, so no image shows its sky position until you have answered it."
    )


@transaction.atomic
def synthetic_share_set(*, workflow: Workflow, share) -> Workflow:
    """Set the workflow's synthetic share (a number from 0 to 1); bad input changes nothing."""
    try:
        value = float(share)
    except (TypeError, ValueError):
        raise InvalidInput(f"synthetic_share must be a number from 0 to 1, not {share!r}", field="synthetic_share")
    if isinstance(share, bool) or not 0.0 <= value <= 1.0:
        raise InvalidInput(f"synthetic_share must be from 0 to 1, not {share!r}", field="synthetic_share")
    Workflow.objects.filter(pk=workflow.pk).update(synthetic_share=value)
    workflow.synthetic_share = value
    return workflow
