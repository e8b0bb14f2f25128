"""Curation of tags by astronomers: approve, rename, merge, split, synonyms, retire; every change
is recorded (who, when, the state before) and can be undone. Edits carry the revision the
astronomer read, so two people editing one tag at once get a clear conflict, never a lost update."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound

from .models import CurationEvent, Tag, TagLink, TagSynonym
from .services import clean_name


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
    Tag.objects.filter(pk__in=created).delete()  # their events keep no tag (SET NULL)
    for state in restored:  # names last: a rename back must not collide on the way
        Tag.objects.filter(pk=state["id"]).update(
            name=f"~undo~{state['id']}",
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
    tag_id = None if event.tag_id in created else event.tag_id
    CurationEvent.objects.create(
        action="undo", summary=f"undid: {event.summary}"[:300], user=event.undone_by, tag_id=tag_id
    )
    return event
