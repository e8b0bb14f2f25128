"""Push: subjects with hidden metadata, their set, priorities and retirements, onto Zooniverse."""

from __future__ import annotations

from django.utils import timezone

from annotations.models import UNRANKED, SubjectWorkflowStatus
from core.errors import Conflict
from jobs.reports import JobReport

from ..client import ZooniverseUnavailable, panoptes_session, upload_media
from ..models import ZooniverseLink, ZooniverseSubject
from .links import (
    LINK_BATCH,
    UNRANKED_ON_ZOONIVERSE,
    _link_busy,
    _noop,
    link_get,
)


def sync_push(*, link_id: int, progress=_noop) -> JobReport:
    """Push the workflow's open subjects and their ranking; resumable after any failure."""
    link = link_get(link_id=link_id)
    with _link_busy(link, "push"):
        return _push(link, progress)


def _push(link: ZooniverseLink, progress) -> JobReport:
    report = JobReport()
    with panoptes_session(link.endpoint):
        _ensure_subject_set(link, report)
        pending = _subjects_to_create(link, report)
        total = len(pending) + 3
        for done, status in enumerate(pending, start=1):
            _create_subject(link, status, report)
            progress(done, total, f"uploaded {done} of {len(pending)} subjects")
        _finish_uploads(link, report)
        _add_to_subject_set(link, report)
        progress(total - 2, total, "subjects in the subject set")
        _link_subject_set(link, report)
        _push_priorities(link, report)
        progress(total - 1, total, "priorities pushed")
        _push_retirements(link, report)
    ZooniverseLink.objects.filter(pk=link.pk).update(last_push_at=timezone.now())
    updated = report.extra.get("priorities_updated", 0)
    progress(total, total, f"{report.created} subjects created, {updated} priorities updated")
    return report


def _ensure_subject_set(link: ZooniverseLink, report: JobReport) -> None:
    from panoptes_client import SubjectSet

    if link.subject_set_id:
        return
    subject_set = SubjectSet()
    subject_set.links.project = str(link.project_id)
    subject_set.display_name = f"{link.workflow.display_name} (rgzplatform {timezone.now():%Y-%m-%d %H:%M})"
    subject_set.metadata = {"#rgz_workflow_id": link.workflow_id}
    subject_set.save()
    link.subject_set_id = int(subject_set.id)
    ZooniverseLink.objects.filter(pk=link.pk).update(subject_set_id=link.subject_set_id)
    report.notes.append(f"made subject set {subject_set.id}")


def _subjects_to_create(link: ZooniverseLink, report: JobReport | None = None) -> list[SubjectWorkflowStatus]:
    """Open subjects Zooniverse does not have: neither pushed nor met in an imported export.
    Generated ones only up to the workflow's synthetic share of the link's subject set, as
    Zooniverse draws from the set at random; the rest wait for more real subjects."""
    known = ZooniverseSubject.objects.values_list("cutout_id", flat=True)
    pending = list(
        SubjectWorkflowStatus.objects.filter(workflow=link.workflow, retired_at__isnull=True)
        .exclude(subject_id__in=known)
        .select_related("subject")
        .order_by("-priority", "subject_id")
    )
    pushed = ZooniverseSubject.objects.filter(link=link)
    real = pushed.filter(cutout__synthetic=False).count() + sum(not s.subject.synthetic for s in pending)
    room = synthetic_room(float(link.workflow.synthetic_share), real, pushed.filter(cutout__synthetic=True).count())
    kept, held = [], 0
    for status in pending:
        if status.subject.synthetic:
            if room <= 0:
                held += 1
                continue
            room -= 1
        kept.append(status)
    if held and report is not None:
        report.notes.append(f"{held} generated subject(s) held back by the workflow's synthetic share")
        report.extra["synthetic_held_back"] = held
    return kept


def synthetic_room(share: float, real: int, synthetic: int) -> int | float:
    """How many more generated subjects a set of ``real`` real and ``synthetic`` generated ones
    takes while generated ones stay at most ``share`` of it (no limit at a share of 1)."""
    if share >= 1:
        return float("inf")
    allowed = int(share * real / (1 - share) + 1e-9)  # s / (real + s) <= share
    return max(0, allowed - synthetic)


def _create_subject(link: ZooniverseLink, status: SubjectWorkflowStatus, report: JobReport) -> None:
    from panoptes_client import Subject

    cutout = status.subject
    subject = Subject()
    subject.links.project = str(link.project_id)
    # The media type alone: the stand-in or Zooniverse answers with an upload URL, which we PUT to
    # ourselves so that a failed upload is seen (the client's own upload runs in the background).
    subject.locations = ["image/png"]
    subject.metadata = _subject_metadata(cutout)
    subject.save()
    upload_url = next(iter(subject.locations[0].values()))
    row = ZooniverseSubject.objects.create(
        zooniverse_id=int(subject.id),
        cutout=cutout,
        link=link,
        metadata=subject.metadata,
        matched_by="pushed",
        upload_url=upload_url,
        uploaded=False,
    )
    report.created += 1
    _upload(row, report)


SYNTHETIC_KEYS = ("#generator_version", "#requested_class", "#seed")


def _subject_metadata(cutout) -> dict:
    # Every key is hidden (#): a generated cutout's name says so, a real one's is a catalogue name,
    # and a key that only real subjects show would give the generated ones away before the answer.
    metadata = {"#rgz_cutout_id": cutout.pk, "#filename": f"{cutout.name}.png", "#name": cutout.name}
    if cutout.ra_deg is not None and cutout.dec_deg is not None:
        metadata.update({"#ra": round(cutout.ra_deg, 6), "#dec": round(cutout.dec_deg, 6)})
    if cutout.synthetic:  # generated: hidden on Zooniverse too, with what the generator was asked for
        hidden = cutout.metadata or {}
        metadata.update({"#synthetic": True, **{k: hidden[k] for k in SYNTHETIC_KEYS if k in hidden}})
    return metadata


def _upload(row: ZooniverseSubject, report: JobReport) -> None:
    import requests

    try:
        with row.cutout.image.open("rb") as handle:
            upload_media(row.upload_url, handle.read(), "image/png")
    except requests.RequestException as exc:
        raise ZooniverseUnavailable(f"upload of subject {row.zooniverse_id} failed: {exc}") from exc
    ZooniverseSubject.objects.filter(pk=row.pk).update(uploaded=True, upload_url="")


def _finish_uploads(link: ZooniverseLink, report: JobReport) -> None:
    """Uploads a failed run left behind: their subjects exist, only the image is missing."""
    for row in ZooniverseSubject.objects.filter(link=link, uploaded=False).select_related("cutout"):
        _upload(row, report)
        report.extra["uploads_resumed"] = report.extra.get("uploads_resumed", 0) + 1


def _add_to_subject_set(link: ZooniverseLink, report: JobReport) -> None:
    from panoptes_client import SubjectSet

    waiting = list(
        ZooniverseSubject.objects.filter(link=link, uploaded=True, in_subject_set=False).values_list(
            "zooniverse_id", flat=True
        )
    )
    if not waiting:
        return
    subject_set = SubjectSet.find(link.subject_set_id)
    for start in range(0, len(waiting), LINK_BATCH):
        batch = waiting[start : start + LINK_BATCH]
        subject_set.links.subjects.add([str(i) for i in batch])
        ZooniverseSubject.objects.filter(zooniverse_id__in=batch).update(in_subject_set=True)
    report.extra["added_to_set"] = len(waiting)


def _link_subject_set(link: ZooniverseLink, report: JobReport) -> None:
    from panoptes_client import Workflow as PanoptesWorkflow

    if link.subject_set_linked:
        return
    workflow = PanoptesWorkflow.find(link.zooniverse_workflow_id)
    workflow.links.subject_sets.add([str(link.subject_set_id)])
    ZooniverseLink.objects.filter(pk=link.pk).update(subject_set_linked=True)
    link.subject_set_linked = True
    report.notes.append(f"linked subject set {link.subject_set_id} to workflow {link.zooniverse_workflow_id}")


def zooniverse_priority(priority: float) -> float:
    """The ``#priority`` for a platform queue priority (a workflow status row's copy).

    Zooniverse serves a prioritized workflow's subjects in ascending ``#priority`` and the platform
    serves the highest priority first, so the sign flips; unranked subjects go last. A subject's
    value depends on its own priority only, so a change moves no other subject.
    """
    if priority <= UNRANKED / 2:
        return UNRANKED_ON_ZOONIVERSE
    return round(-priority, 9)


def platform_priorities(link: ZooniverseLink) -> dict[int, float]:
    """Zooniverse subject id -> the ``#priority`` it should hold, for the pushed subjects still open."""
    rows = dict(ZooniverseSubject.objects.filter(link=link).values_list("cutout_id", "zooniverse_id"))
    statuses = SubjectWorkflowStatus.objects.filter(
        workflow=link.workflow, retired_at__isnull=True, subject_id__in=list(rows)
    ).values_list("subject_id", "priority")
    return {rows[subject_id]: zooniverse_priority(priority) for subject_id, priority in statuses}


def _push_priorities(link: ZooniverseLink, report: JobReport) -> None:
    """Update ``#priority`` on Zooniverse where the platform's priority moved (a GET and a PUT each)."""
    from panoptes_client import Subject

    wanted = platform_priorities(link)
    held = dict(ZooniverseSubject.objects.filter(link=link).values_list("zooniverse_id", "pushed_priority"))
    changed = [zid for zid, value in wanted.items() if held.get(zid) != value]
    for zid in changed:
        subject = Subject.find(zid)
        metadata = dict(subject.metadata or {})
        subject._original_metadata = dict(metadata)  # the client sets it only for new subjects
        metadata["#priority"] = wanted[zid]
        subject.metadata = metadata
        subject.save()
        ZooniverseSubject.objects.filter(zooniverse_id=zid).update(pushed_priority=wanted[zid])
    report.extra["priorities_updated"] = len(changed)


def _push_retirements(link: ZooniverseLink, report: JobReport) -> None:
    """Retire on Zooniverse the pushed subjects that the platform has retired."""
    from panoptes_client import Workflow as PanoptesWorkflow

    retired = dict(
        SubjectWorkflowStatus.objects.filter(workflow=link.workflow, retired_at__isnull=False).values_list(
            "subject_id", "retirement_reason"
        )
    )
    rows = [
        row
        for row in ZooniverseSubject.objects.filter(link=link, retired_on_zooniverse=False, uploaded=True)
        if row.cutout_id in retired
    ]
    if not rows:
        return
    workflow = PanoptesWorkflow(str(link.zooniverse_workflow_id))
    for reason in sorted({retired[row.cutout_id] for row in rows}):
        ids = [row.zooniverse_id for row in rows if retired[row.cutout_id] == reason]
        for start in range(0, len(ids), LINK_BATCH):
            batch = ids[start : start + LINK_BATCH]
            # Panoptes knows the platform's reasons (classification_count, consensus, nothing_here, human...).
            workflow.retire_subjects([str(i) for i in batch], reason=reason or "other")
            ZooniverseSubject.objects.filter(zooniverse_id__in=batch).update(retired_on_zooniverse=True)
    report.extra["retired_on_zooniverse"] = len(rows)


def priorities_push_after_rerank(workflow_ids: list[int], progress=_noop) -> list[str]:
    """Push the moved ``#priority`` values of the links of re-ranked workflows (links that have
    pushed their subjects once; new subjects wait for the next full push). A link busy with another
    push or pull, or an unreachable Zooniverse, is reported and left to the scheduled push."""
    links = list(ZooniverseLink.objects.filter(workflow_id__in=workflow_ids, last_push_at__isnull=False).order_by("pk"))
    notes = []
    for done, link in enumerate(links, start=1):
        try:
            with _link_busy(link, "push"), panoptes_session(link.endpoint):
                report = JobReport()
                _push_priorities(link, report)
            notes.append(
                f"Zooniverse project {link.project_id}: {report.extra['priorities_updated']} #priority values pushed"
            )
        except (Conflict, ZooniverseUnavailable) as exc:
            notes.append(f"Zooniverse project {link.project_id}: not pushed now ({exc.message}); a scheduled push will")
        progress(done, len(links), f"pushed #priority to {done}/{len(links)} linked Zooniverse projects")
    return notes
