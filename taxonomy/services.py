"""Writes of the taxonomy: indexing descriptions, deriving candidates, curation with audit and
undo, publishing versions and auto-tagging. Keyword-only, atomic."""

from __future__ import annotations

import time
from collections import Counter

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from annotations.errors import Conflict, InvalidInput, NotFound
from annotations.models import Classification, Cutout
from annotations.selectors import free_text_answers

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


def descriptions_index(*, batch: int = 500, progress=None) -> int:
    """Run the text pipeline over descriptions not indexed yet; returns how many were added."""
    since = Description.objects.aggregate(m=Max("classification_id"))["m"] or 0
    pending = []
    added = 0
    limit = settings.RGZ_DESCRIPTION_MAX_CHARS

    def flush():
        nonlocal added
        keyed = ml.describe_texts([a.text for a in pending])
        rows = [
            Description(
                classification_id=a.classification_id,
                task=a.task,
                cutout_id=a.subject_id,
                volunteer_key=a.volunteer_key,
                text=a.text[:limit],
                phrases=phrases,
            )
            for a, phrases in zip(pending, keyed, strict=True)
        ]
        Description.objects.bulk_create(rows, ignore_conflicts=True)
        added += len(rows)
        pending.clear()
        if progress:
            progress(added, max(added, 1), f"{added} descriptions read")

    for answer in free_text_answers(since_id=since):
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


# ---------------------------------------------------------------- curation with audit and undo


def _state(tag: Tag) -> dict:
    return {
        "id": tag.pk,
        "name": tag.name,
        "description": tag.description,
        "status": tag.status,
        "support": tag.support,
        "merged_into": tag.merged_into_id,
        "derived_keys": list(tag.derived_keys),
        "synonyms": sorted(tag.synonyms.values_list("phrase", flat=True)),
    }


def _lock(tag_id, revision) -> Tag:
    """The tag row, locked, after checking that nobody changed it since ``revision`` was read."""
    tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
    if tag is None:
        raise NotFound(f"tag {tag_id} does not exist")
    if revision is not None and int(revision) != tag.revision:
        raise Conflict(
            f"tag {tag.name!r} was changed by someone else (revision {revision} is now {tag.revision}); "
            "reload it and try again"
        )
    return tag


def _bump(tags) -> dict:
    revisions = {}
    for tag in tags:
        Tag.objects.filter(pk=tag.pk).update(revision=F("revision") + 1)
        tag.refresh_from_db()
        revisions[str(tag.pk)] = tag.revision
    return revisions


def _name_free(name: str, *, exclude: int | None = None) -> None:
    taken = Tag.objects.filter(name__iexact=name).exclude(pk=exclude).first()
    if taken is not None:
        raise Conflict(f"a tag named {name!r} already exists (id {taken.pk})", field="name")


def _record(*, action, summary, user, tag, before_tags, touched, links=None, created=()) -> CurationEvent:
    return CurationEvent.objects.create(
        action=action,
        summary=summary[:300],
        user=user if user and user.pk else None,
        tag=tag,
        before={"tags": before_tags, "links": links or {}},
        after={"revisions": _bump(touched), "created": list(created)},
    )


@transaction.atomic
def tag_create(*, name, description: str = "", status: str = Tag.Status.CANDIDATE, user=None) -> Tag:
    name = clean_name(name)
    _name_free(name)
    if status not in Tag.Status.values:
        raise InvalidInput(f"status must be one of {', '.join(Tag.Status.values)}", field="status")
    try:
        with transaction.atomic():
            tag = Tag.objects.create(name=name, description=str(description)[:2000], status=status)
    except IntegrityError:
        raise Conflict(f"a tag named {name!r} already exists", field="name")
    _record(
        action="create",
        summary=f"created {name!r}",
        user=user,
        tag=tag,
        before_tags=[],
        touched=[tag],
        created=[tag.pk],
    )
    return tag


@transaction.atomic
def tag_set_status(*, tag_id, status: str, revision=None, user=None) -> Tag:
    if status not in Tag.Status.values:
        raise InvalidInput(f"status must be one of {', '.join(Tag.Status.values)}", field="status")
    tag = _lock(tag_id, revision)
    before = [_state(tag)]
    tag.status = status
    if status != Tag.Status.RETIRED:
        tag.merged_into = None
    tag.save(update_fields=["status", "merged_into", "updated_at"])
    action = {"approved": "approve", "retired": "retire", "candidate": "reopen"}[status]
    _record(action=action, summary=f"{action} {tag.name!r}", user=user, tag=tag, before_tags=before, touched=[tag])
    return tag


@transaction.atomic
def tag_rename(*, tag_id, name, revision=None, user=None, description: str | None = None) -> Tag:
    tag = _lock(tag_id, revision)
    name = clean_name(name)
    _name_free(name, exclude=tag.pk)
    before = [_state(tag)]
    old = tag.name
    tag.name = name
    if description is not None:
        tag.description = str(description)[:2000]
    tag.save(update_fields=["name", "description", "updated_at"])
    if old != name and not TagSynonym.objects.filter(phrase=old).exists():
        TagSynonym.objects.create(tag=tag, phrase=old)  # the old wording still finds it
    TagSynonym.objects.filter(tag=tag, phrase=name).delete()
    _record(
        action="rename", summary=f"renamed {old!r} to {name!r}", user=user, tag=tag, before_tags=before, touched=[tag]
    )
    return tag


@transaction.atomic
def tag_merge(*, tag_id, into_id, revision=None, into_revision=None, user=None, as_synonym: bool = False) -> Tag:
    """Merge a tag into another: its wordings, support and links move; it is retired.
    ``as_synonym`` also keeps its name as a synonym of the target ("mark as synonym")."""
    if str(tag_id) == str(into_id):
        raise InvalidInput("a tag cannot be merged into itself", field="into")
    first, second = sorted([int(tag_id), int(into_id)])  # lock in id order: no deadlock
    locked = {first: _lock(first, None), second: _lock(second, None)}
    source, target = locked[int(tag_id)], locked[int(into_id)]
    for tag, rev in ((source, revision), (target, into_revision)):
        if rev is not None and int(rev) != tag.revision:
            raise Conflict(f"tag {tag.name!r} was changed by someone else (revision {rev} is now {tag.revision})")
    if target.status == Tag.Status.RETIRED:
        raise InvalidInput(f"cannot merge into the retired tag {target.name!r}", field="into")
    before = [_state(source), _state(target)]
    links = {str(pk): source.pk for pk in source.links.values_list("pk", flat=True)}
    source.links.update(tag=target)
    source.synonyms.update(tag=target)
    if as_synonym and not TagSynonym.objects.filter(phrase=source.name).exists():
        TagSynonym.objects.create(tag=target, phrase=source.name)
    target.derived_keys = sorted(set(target.derived_keys) | set(source.derived_keys) | {source.name})
    target.support += source.support
    target.example_phrases = (target.example_phrases + source.example_phrases)[:10]
    target.save(update_fields=["derived_keys", "support", "example_phrases", "updated_at"])
    source.status, source.merged_into = Tag.Status.RETIRED, target
    source.save(update_fields=["status", "merged_into", "updated_at"])
    action = "synonym" if as_synonym else "merge"
    verb = "marked as a synonym of" if as_synonym else "merged into"
    _record(
        action=action,
        summary=f"{source.name!r} {verb} {target.name!r}",
        user=user,
        tag=target,
        before_tags=before,
        touched=[source, target],
        links=links,
    )
    return target


@transaction.atomic
def tag_split(*, tag_id, name, keys: list[str], revision=None, user=None) -> Tag:
    """Move some wordings (derived phrase keys or synonyms) of a tag to a new candidate tag."""
    tag = _lock(tag_id, revision)
    name = clean_name(name)
    _name_free(name)
    if not isinstance(keys, list) or not keys:
        raise InvalidInput("name the wordings (phrase keys or synonyms) that go to the new tag", field="keys")
    mine = set(tag.derived_keys) | set(tag.synonyms.values_list("phrase", flat=True))
    unknown = [k for k in keys if k not in mine]
    if unknown:
        raise InvalidInput(f"not wordings of {tag.name!r}: {', '.join(map(str, unknown[:10]))}", field="keys")
    before = [_state(tag)]
    moving = set(keys)
    new = Tag.objects.create(
        name=name, status=Tag.Status.CANDIDATE, derived_keys=sorted(moving & set(tag.derived_keys))
    )
    TagSynonym.objects.filter(tag=tag, phrase__in=moving).update(tag=new)
    tag.derived_keys = [k for k in tag.derived_keys if k not in moving]
    tag.example_phrases = [p for p in tag.example_phrases if p not in moving]
    tag.save(update_fields=["derived_keys", "example_phrases", "updated_at"])
    _record(
        action="split",
        summary=f"split {name!r} out of {tag.name!r}",
        user=user,
        tag=tag,
        before_tags=before,
        touched=[tag, new],
        created=[new.pk],
    )
    return new


@transaction.atomic
def tag_add_synonym(*, tag_id, phrase, revision=None, user=None) -> Tag:
    tag = _lock(tag_id, revision)
    phrase = clean_name(phrase)
    if phrase == tag.name:
        raise InvalidInput("a synonym must differ from the tag's name", field="phrase")
    if TagSynonym.objects.filter(phrase=phrase).exists() or Tag.objects.filter(name__iexact=phrase).exists():
        raise Conflict(f"{phrase!r} is already a tag or a synonym", field="phrase")
    before = [_state(tag)]
    TagSynonym.objects.create(tag=tag, phrase=phrase)
    _record(
        action="add synonym",
        summary=f"{phrase!r} is a synonym of {tag.name!r}",
        user=user,
        tag=tag,
        before_tags=before,
        touched=[tag],
    )
    return tag


@transaction.atomic
def event_undo(*, event_id, user=None) -> CurationEvent:
    """Write back the state before a change; refused when a tag changed again since."""
    event = CurationEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        raise NotFound(f"change {event_id} does not exist")
    if event.undone_at is not None:
        raise Conflict("this change was already undone")
    if event.action in {"publish", "undo"}:
        raise InvalidInput(f"a {event.action} cannot be undone; make a new change instead")
    touched = {int(k) for k in event.after.get("revisions", {})}
    later = CurationEvent.objects.filter(pk__gt=event.pk, undone_at__isnull=True).exclude(
        action__in=["undo", "publish"]
    )
    for other in later:
        clash = touched & {int(k) for k in other.after.get("revisions", {})}
        if clash:
            name = Tag.objects.filter(pk__in=clash).values_list("name", flat=True).first()
            raise Conflict(f"tag {name!r} changed after this ({other.summary}); undo the later change first")
    created = set(event.after.get("created", []))
    restored = [s for s in event.before.get("tags", []) if s["id"] not in created]
    for link_id, tag_id in event.before.get("links", {}).items():
        TagLink.objects.filter(pk=int(link_id)).update(tag_id=tag_id)
    for state in restored:
        TagSynonym.objects.filter(phrase__in=state["synonyms"]).update(tag_id=state["id"])
    for state in restored:
        TagSynonym.objects.filter(tag_id=state["id"]).exclude(phrase__in=state["synonyms"]).delete()
    for state in restored:
        TagSynonym.objects.bulk_create(
            [TagSynonym(tag_id=state["id"], phrase=p) for p in state["synonyms"]], ignore_conflicts=True
        )
    Tag.objects.filter(pk__in=created).delete()
    for state in restored:  # names last: a rename back must not collide on the way
        Tag.objects.filter(pk=state["id"]).update(
            name=f"\x00undo{state['id']}",
            description=state["description"],
            status=state["status"],
            merged_into_id=state["merged_into"],
            derived_keys=state["derived_keys"],
            support=state["support"],
        )
    for state in restored:
        Tag.objects.filter(pk=state["id"]).update(name=state["name"], revision=F("revision") + 1)
    event.undone_at, event.undone_by = timezone.now(), user if user and user.pk else None
    event.save(update_fields=["undone_at", "undone_by"])
    CurationEvent.objects.create(
        action="undo", summary=f"undid: {event.summary}"[:300], user=event.undone_by, tag_id=event.tag_id
    )
    return event


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


@transaction.atomic
def picks_store(*, classification: Classification) -> int:
    """A volunteer's tag picks (tags tasks) as links to tags of that name or synonym."""
    names = []
    for annotation in classification.annotations or []:
        value = annotation.get("value") if isinstance(annotation, dict) else None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            names += [" ".join(v.lower().split()) for v in value]
    if not names:
        return 0
    tags = dict(Tag.objects.filter(name__in=names).exclude(status=Tag.Status.RETIRED).values_list("name", "pk"))
    tags.update(TagSynonym.objects.filter(phrase__in=names).values_list("phrase", "tag_id"))
    TagLink.objects.filter(classification=classification, origin=TagLink.Origin.PICK).delete()
    rows = [
        TagLink(
            tag_id=tags[n],
            cutout_id=classification.subject_id,
            classification=classification,
            evidence=n,
            origin=TagLink.Origin.PICK,
            volunteer_key=classification.volunteer_key,
            user_id=classification.user_id,
        )
        for n in dict.fromkeys(names)
        if n in tags
    ]
    TagLink.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def cutout_tag_add(*, cutout_id, tag_id, evidence: str = "", user=None) -> TagLink:
    cutout = Cutout.objects.filter(pk=cutout_id).first()
    tag = Tag.objects.filter(pk=tag_id).exclude(status=Tag.Status.RETIRED).first()
    if cutout is None or tag is None:
        raise NotFound("no such cutout or (live) tag")
    return TagLink.objects.create(
        tag=tag,
        cutout=cutout,
        evidence=str(evidence)[:300],
        origin=TagLink.Origin.ASTRONOMER,
        user=user,
        volunteer_key=f"user:{user.pk}" if user and user.pk else "",
    )


def support_counts(tag_ids) -> Counter:
    return Counter(TagLink.objects.filter(tag_id__in=tag_ids).values_list("tag_id", flat=True))
