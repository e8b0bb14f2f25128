"""Writes of the taxonomy: indexing descriptions, deriving candidates, curation with audit and
undo, publishing versions and auto-tagging. Keyword-only, atomic."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from annotations.models import Classification
from annotations.selectors import free_text_answers
from core.errors import InvalidInput

from . import ml
from .models import CurationEvent, DerivationRun, Description, Tag, TagLink, TagSynonym, TaxonomyVersion

NAME_MAX = 80


# ---------------------------------------------------------------- descriptions and derivation


def clean_name(name) -> str:
    """A tag name as stored: words separated by single spaces, lower-case, no markup."""
    if not isinstance(name, str):
        raise InvalidInput("a tag name must be text", field="name")
    name = " ".join(name.replace("<", " ").replace(">", " ").split()).lower()
    if not name:
        raise InvalidInput("a tag name cannot be empty", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"a tag name has at most {NAME_MAX} characters", field="name")
    return name


def descriptions_index(*, classification_ids: list[int] | None = None, batch: int = 500, progress=None) -> int:
    """Run the text pipeline over descriptions not indexed yet; returns how many were added.

    ``classification_ids`` reads only those classifications (a new one, as it arrives). Otherwise
    every classification from RGZ_DESCRIPTION_LOOKBACK_IDS ids below the newest indexed one is read
    again, skipping what is indexed: ids are drawn when a row is inserted, not when it commits, so
    a classification can become visible after a later one was indexed (concurrent submits, import
    chunks committing out of order), and a plain high-water mark would pass over it for good.
    """
    if classification_ids is not None:
        answers = free_text_answers(classification_ids=classification_ids)
    else:
        newest = Description.objects.aggregate(m=Max("classification_id"))["m"] or 0
        answers = free_text_answers(since_id=max(0, newest - settings.RGZ_DESCRIPTION_LOOKBACK_IDS))
    pending = []
    added = 0
    limit = settings.RGZ_DESCRIPTION_MAX_CHARS

    def flush():
        nonlocal added
        # The spaCy pipeline is the costly part: leave out answers indexed already.
        known = set(
            Description.objects.filter(classification_id__in={a.classification_id for a in pending}).values_list(
                "classification_id", "task"
            )
        )
        fresh = [a for a in pending if (a.classification_id, a.task) not in known]
        pending.clear()
        if not fresh:
            return
        keyed = ml.describe_texts([a.text for a in fresh])
        rows = [
            Description(
                classification_id=a.classification_id,
                task=a.task,
                cutout_id=a.subject_id,
                volunteer_key=a.volunteer_key,
                text=a.text[:limit],
                phrases=phrases,
            )
            for a, phrases in zip(fresh, keyed, strict=True)
        ]
        added += len(Description.objects.bulk_create(rows, ignore_conflicts=True))
        if progress:
            progress(added, max(added, 1), f"{added} descriptions read")

    for answer in answers:
        pending.append(answer)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return added


def _cutout_ids(ids) -> list[int]:
    out = []
    for i in ids:
        try:
            out.append(int(i))
        except (TypeError, ValueError):
            continue
    return out


@transaction.atomic
def candidates_store(*, derivation) -> tuple[int, int]:
    """Upsert derived candidates as tags; approved and retired tags keep their status, names
    that are synonyms of a tag update that tag. Returns (created, updated)."""
    by_name = {t.name: t for t in Tag.objects.select_for_update()}
    synonyms = dict(TagSynonym.objects.values_list("phrase", "tag_id"))
    by_id = {t.pk: t for t in by_name.values()}
    created = updated = 0
    touched: set[int] = set()
    for c in derivation.candidates:
        name = " ".join(c.label.split())[:NAME_MAX] or c.term[:NAME_MAX]
        tag = by_name.get(name) or by_id.get(synonyms.get(name)) or by_id.get(synonyms.get(c.term))
        tag = tag or by_name.get(c.term)
        for _ in range(10):  # a merged tag's support goes to the tag it was merged into
            if tag is None or tag.merged_into_id not in by_id:
                break
            tag = by_id[tag.merged_into_id]
        fields = {
            "support": c.count,
            "sources": c.sources,
            "example_phrases": c.example_phrases,
            "example_cutouts": _cutout_ids(c.example_sources),
            "derived_keys": c.keys,
        }
        if tag is None:
            fields["derived_keys"] = sorted(set(fields["derived_keys"]) | {c.term})
            tag = Tag.objects.create(name=name, **fields)
            by_name[name] = by_id[tag.pk] = tag
            created += 1
        else:
            if tag.pk in touched:  # several terms landed on one tag
                fields["support"] += tag.support
                fields["sources"] = max(tag.sources, c.sources)
                fields["example_phrases"] = (tag.example_phrases + c.example_phrases)[:10]
                fields["example_cutouts"] = (tag.example_cutouts + fields["example_cutouts"])[:10]
            fields["derived_keys"] = sorted(set(fields["derived_keys"]) | {c.term})
            if tag.pk in touched:
                fields["derived_keys"] = sorted(set(tag.derived_keys) | set(fields["derived_keys"]))
            Tag.objects.filter(pk=tag.pk).update(**fields)
            for k, v in fields.items():
                setattr(tag, k, v)
            updated += 1
        touched.add(tag.pk)
    Tag.objects.filter(status=Tag.Status.CANDIDATE).exclude(pk__in=touched).update(support=0, sources=0)
    return created, updated


def candidates_derive(*, threshold: float | None = None, progress=None) -> DerivationRun:
    """Index new descriptions, derive candidates from all of them, store them (progress 0..100)."""
    threshold = settings.RGZ_TAXONOMY_THRESHOLD if threshold is None else threshold
    if not 0 < threshold <= 1:
        raise InvalidInput("the similarity threshold must lie in (0, 1]", field="threshold")
    started = time.perf_counter()

    def step(done, total, message=""):
        if progress:
            progress(done, total, message)

    step(0, 100, "reading new descriptions")
    descriptions_index(progress=lambda d, t, m: step(min(40, 5 + d // 100), 100, m))
    rows = list(Description.objects.values_list("cutout_id", "pk", "phrases"))
    step(50, 100, f"deriving terms from {len(rows)} descriptions")
    derivation, n_phrases = ml.derive(
        rows, threshold=threshold, progress=lambda d, t: step(50 + 40 * d // t, 100, "grouping phrases")
    )
    created, updated = candidates_store(derivation=derivation)
    last = Description.objects.aggregate(m=Max("classification_id"))["m"] or 0
    run = DerivationRun.objects.create(
        threshold=threshold,
        descriptions=len(rows),
        phrases=n_phrases,
        terms=len(derivation.candidates),
        last_classification_id=last,
        seconds=time.perf_counter() - started,
    )
    step(100, 100, f"{len(derivation.candidates)} terms: {created} new, {updated} updated")
    run.created_tags, run.updated_tags = created, updated
    return run


def rederive_due() -> bool:
    """Enough descriptions arrived since the last derivation to derive again."""
    last = DerivationRun.objects.order_by("-created_at").values_list("last_classification_id", flat=True).first() or 0
    new = Description.objects.filter(classification_id__gt=last).count()
    return new >= settings.RGZ_TAXONOMY_REDERIVE_AFTER


# ---------------------------------------------------------------- publishing and auto-tagging


@transaction.atomic
def taxonomy_publish(*, note: str = "", user=None) -> TaxonomyVersion:
    approved = list(Tag.objects.filter(status=Tag.Status.APPROVED).prefetch_related("synonyms").order_by("name"))
    if not approved:
        raise InvalidInput("approve at least one tag before publishing")
    number = (TaxonomyVersion.objects.select_for_update().aggregate(m=Max("number"))["m"] or 0) + 1
    version = TaxonomyVersion.objects.create(
        number=number,
        note=str(note)[:2000],
        created_by=user if user and user.pk else None,
        tags=[
            {
                "id": t.pk,
                "name": t.name,
                "description": t.description,
                "synonyms": sorted(s.phrase for s in t.synonyms.all()),
                "keys": list(t.derived_keys),
            }
            for t in approved
        ],
    )
    CurationEvent.objects.create(
        action="publish", summary=f"published taxonomy v{number} ({len(approved)} tags)", user=version.created_by
    )
    return version


def current_version() -> TaxonomyVersion | None:
    return TaxonomyVersion.objects.order_by("-number").first()


def version_index(version: TaxonomyVersion) -> dict:
    """{wording: tag id} of a published version (names, synonyms, then derived keys)."""
    names = [(t["id"], [t["name"], *t["synonyms"]]) for t in version.tags]
    keys = [(t["id"], t.get("keys", [])) for t in version.tags]
    return ml.tag_index(names + keys)


@transaction.atomic
def description_autotag(*, description: Description, version: TaxonomyVersion, index: dict) -> int:
    live = set(Tag.objects.filter(pk__in={t["id"] for t in version.tags}).values_list("pk", flat=True))
    TagLink.objects.filter(description=description, origin=TagLink.Origin.AUTO).delete()
    links = [
        TagLink(
            tag_id=tag_id,
            cutout_id=description.cutout_id,
            description=description,
            classification_id=description.classification_id,
            evidence=evidence,
            origin=TagLink.Origin.AUTO,
            volunteer_key=description.volunteer_key,
            version=version,
        )
        for tag_id, evidence in ml.autotag(description.phrases, index)
        if tag_id in live
    ]
    TagLink.objects.bulk_create(links)
    Description.objects.filter(pk=description.pk).update(tagged_version=version)
    return len(links)


def descriptions_autotag(*, version: TaxonomyVersion | None = None, progress=None) -> tuple[int, int]:
    """Tag every description not tagged with ``version`` (default: the latest); (descriptions, links)."""
    version = version or current_version()
    if version is None:
        raise InvalidInput("no taxonomy version is published yet")
    descriptions_index()
    index = version_index(version)
    todo = Description.objects.exclude(tagged_version=version).order_by("pk")
    total, done, links = todo.count(), 0, 0
    for description in todo.iterator(chunk_size=500):
        links += description_autotag(description=description, version=version, index=index)
        done += 1
        if progress and (done % 200 == 0 or done == total):
            progress(done, total, f"{done} descriptions tagged")
    if progress and total == 0:
        progress(1, 1, "nothing to tag")
    return done, links


def _picked_names(classification: Classification) -> list[str]:
    names = []
    for annotation in classification.annotations or []:
        value = annotation.get("value") if isinstance(annotation, dict) else None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            names += [" ".join(v.lower().split()) for v in value]
    return list(dict.fromkeys(names))


@transaction.atomic
def picks_store(*, classifications: list[Classification]) -> int:
    """Volunteers' tag picks (tags tasks) as links to tags of that name or synonym, for a batch of
    classifications in a constant number of queries; returns how many links were stored."""
    picked = {c.pk: _picked_names(c) for c in classifications}
    names = {n for ns in picked.values() for n in ns}
    if not names:
        return 0
    tags = dict(Tag.objects.filter(name__in=names).exclude(status=Tag.Status.RETIRED).values_list("name", "pk"))
    tags.update(TagSynonym.objects.filter(phrase__in=names).values_list("phrase", "tag_id"))
    with_picks = [c for c in classifications if picked[c.pk]]
    TagLink.objects.filter(classification__in=with_picks, origin=TagLink.Origin.PICK).delete()
    rows = [
        TagLink(
            tag_id=tags[n],
            cutout_id=c.subject_id,
            classification=c,
            evidence=n,
            origin=TagLink.Origin.PICK,
            volunteer_key=c.volunteer_key,
            user_id=c.user_id,
        )
        for c in with_picks
        for n in picked[c.pk]
        if n in tags
    ]
    TagLink.objects.bulk_create(rows)
    return len(rows)
