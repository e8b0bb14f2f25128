"""Reads of the taxonomy: tag lists, suggestions, search by tag and its exports."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from annotations.models import Cutout
from core.errors import InvalidInput, NotFound

from .models import CurationEvent, Description, Tag, TagLink, TagSynonym, TaxonomyVersion

SORTS = {"support": ("-support", "name"), "name": ("name",), "recent": ("-updated_at",)}


def tag_get(*, tag_id) -> Tag:
    tag = Tag.objects.prefetch_related("synonyms").filter(pk=tag_id).first()
    if tag is None:
        raise NotFound(f"tag {tag_id} does not exist")
    return tag


def tag_list(*, status: str | None = None, q: str = "", sort: str = "support"):
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", field="sort")
    rows = Tag.objects.prefetch_related("synonyms")
    if status:
        if status not in Tag.Status.values:
            raise InvalidInput(f"status must be one of {', '.join(Tag.Status.values)}", field="status")
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(synonyms__phrase__icontains=q)).distinct()
    return rows.order_by(*SORTS[sort])


def tag_live_choices() -> list[dict]:
    """Tags not retired, by name: what a merge or synonym target may be (id, name, revision)."""
    return list(Tag.objects.exclude(status=Tag.Status.RETIRED).order_by("name").values("id", "name", "revision"))


def tag_approved_names() -> list[str]:
    return list(Tag.objects.filter(status=Tag.Status.APPROVED).order_by("name").values_list("name", flat=True))


def tag_status_counts() -> dict[str, int]:
    return {status: Tag.objects.filter(status=status).count() for status in Tag.Status.values}


def _has_image(cutout: Cutout) -> bool:
    """False for a stand-in made for a subject known only from an import (a grey ramp, no sky)."""
    return not any(str(note).startswith("placeholder:") for note in cutout.ingest_notes or [])


def tag_example_cutouts(*, tags, per_tag: int = 4) -> dict[int, list[Cutout]]:
    """Tag id -> up to ``per_tag`` example cutouts with real images: the derivation's examples
    first, then cutouts the tag is linked to; stand-ins only when no real image exists."""
    tags = list(tags)
    wanted = {tag.pk: [i for i in tag.example_cutouts if isinstance(i, int)][: per_tag * 4] for tag in tags}
    linked: dict[int, list[int]] = defaultdict(list)
    for tag_id, cutout_id in (
        TagLink.objects.filter(tag_id__in=wanted).order_by("tag_id", "pk").values_list("tag_id", "cutout_id")
    ):
        if len(linked[tag_id]) < per_tag * 4 and cutout_id not in linked[tag_id]:
            linked[tag_id].append(cutout_id)
    ids = {i for rows in (*wanted.values(), *linked.values()) for i in rows}
    found = Cutout.objects.only("pk", "name", "image", "ingest_notes").in_bulk(ids)
    examples = {}
    for tag_id, first in wanted.items():
        candidates = [found[i] for i in dict.fromkeys(first + linked.get(tag_id, [])) if i in found]
        real = [c for c in candidates if _has_image(c)]
        examples[tag_id] = (real or candidates)[:per_tag]
    return examples


SUGGEST_STOPWORDS = {"a", "an", "and", "the", "with", "of", "in", "on", "to", "at", "or", "is", "it", "its", "has"}


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def tag_suggest(*, q: str, limit: int = 8) -> list[dict]:
    """Approved tags whose name or a synonym has a word starting with a word of what the volunteer types.

    The word being typed (the last) counts most: "a double with ben" offers bent-tail tags first,
    then tags for "double". Names that start with the whole phrase come before all others.
    """
    q = " ".join((q or "").lower().split())[:80]
    words = [w for w in _words(q) if w not in SUGGEST_STOPWORDS]
    if len(q) < 2 or not words or all(len(w) < 2 for w in words):
        return []
    weights = {w: 2 + i for i, w in enumerate(words) if len(w) >= 2}  # later words weigh more
    hits: dict[int, tuple[float, dict]] = {}
    approved = Tag.objects.filter(status=Tag.Status.APPROVED).prefetch_related("synonyms")
    for tag in approved:
        for phrase in [tag.name, *(s.phrase for s in tag.synonyms.all())]:
            phrase_words = _words(phrase)
            score = sum(weight for w, weight in weights.items() if any(pw.startswith(w) for pw in phrase_words))
            if phrase.lower().startswith(q):
                score += 100
            if not score:
                continue
            rank = (score, tag.support)
            if tag.pk not in hits or rank > hits[tag.pk][0]:
                hits[tag.pk] = (rank, {"id": tag.pk, "name": tag.name, "matched": phrase})
    ordered = sorted(hits.values(), key=lambda hit: (-hit[0][0], -hit[0][1], hit[1]["name"]))
    return [item for _, item in ordered[:limit]]


def tag_published_vocabulary() -> list[dict]:
    """The newest published taxonomy's tags, ``[{"name", "description"}]`` by name; [] before any."""
    version = TaxonomyVersion.objects.order_by("-number").first()
    if version is None:
        return []
    return sorted(
        ({"name": t["name"], "description": t.get("description", "")} for t in version.tags), key=lambda t: t["name"]
    )


def event_list(*, tag_id=None, limit: int = 100):
    rows = CurationEvent.objects.select_related("user")
    if tag_id is not None:
        rows = rows.filter(tag_id=tag_id)
    return rows[:limit]


def version_list():
    """Published versions, newest first."""
    return TaxonomyVersion.objects.select_related("created_by")


def version_get(*, number) -> TaxonomyVersion:
    version = TaxonomyVersion.objects.filter(number=number).first()
    if version is None:
        raise NotFound(f"taxonomy version {number} does not exist")
    return version


# ---------------------------------------------------------------- search by tag


def _names(values) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(",")
    return [n for n in (" ".join(str(v).lower().split()) for v in values) if n]


def _resolve(names: list[str], role: str) -> dict[str, int]:
    found = dict(Tag.objects.filter(name__in=names).exclude(status=Tag.Status.RETIRED).values_list("name", "pk"))
    found.update(
        {p: t for p, t in TagSynonym.objects.filter(phrase__in=names).values_list("phrase", "tag_id") if p not in found}
    )
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInput(f"unknown {role} tag(s): {', '.join(missing)}", field=role)
    return found


@dataclass
class SearchRow:
    cutout: Cutout
    voters: int  # volunteers who described or tagged the cutout
    fractions: dict[str, float]  # tag name -> fraction of those voters who gave it


def cutouts_by_tags(*, require=None, exclude=None, min_fraction: float = 0.0, limit: int = 5000) -> list[SearchRow]:
    """Cutouts where every required tag was given by at least ``min_fraction`` of the volunteers
    who described or tagged it (and by at least one), and no excluded tag reached that fraction
    (with ``min_fraction`` 0, an excluded tag must not be given at all)."""
    require, exclude = _names(require), _names(exclude)
    if not require:
        raise InvalidInput("name at least one required tag", field="require")
    if len(require) + len(exclude) > 50:
        raise InvalidInput("at most 50 tags in one search", field="require")
    try:
        min_fraction = float(min_fraction)
    except (TypeError, ValueError):
        raise InvalidInput("min_fraction must be a number from 0 to 1", field="min_fraction")
    if not 0.0 <= min_fraction <= 1.0:
        raise InvalidInput("min_fraction must be a number from 0 to 1", field="min_fraction")
    req, exc = _resolve(require, "require"), _resolve(exclude, "exclude")
    if set(req.values()) & set(exc.values()):
        raise InvalidInput("a tag cannot be both required and excluded", field="exclude")
    wanted = list(req.values()) + list(exc.values())
    givers: dict[int, dict[int, set]] = defaultdict(lambda: defaultdict(set))
    links = TagLink.objects.filter(tag_id__in=wanted).values_list("cutout_id", "tag_id", "volunteer_key", "pk")
    for cutout_id, tag_id, key, pk in links:
        givers[cutout_id][tag_id].add(key or f"link:{pk}")
    first = req[require[0]]
    candidates = [c for c, by_tag in givers.items() if by_tag.get(first)]
    voters: dict[int, set] = defaultdict(set)
    for cutout_id, key in Description.objects.filter(cutout_id__in=candidates).values_list(
        "cutout_id", "volunteer_key"
    ):
        voters[cutout_id].add(key)
    for cutout_id, key, pk in (
        TagLink.objects.filter(cutout_id__in=candidates)
        .exclude(origin=TagLink.Origin.AUTO)
        .values_list("cutout_id", "volunteer_key", "pk")
    ):
        voters[cutout_id].add(key or f"link:{pk}")
    keep = []
    for cutout_id in candidates:
        by_tag = givers[cutout_id]
        n = max(len(voters[cutout_id] | set().union(*by_tag.values())), 1)
        frac = {name: len(by_tag.get(tid, ())) / n for name, tid in {**req, **exc}.items()}
        if any(frac[name] == 0 or frac[name] < min_fraction for name in req):
            continue
        if any((frac[name] >= min_fraction and frac[name] > 0) for name in exc):
            continue
        keep.append((cutout_id, n, {name: round(frac[name], 4) for name in req}))
    cutouts = Cutout.objects.select_related("survey").in_bulk([c for c, _, _ in keep])
    rows = [SearchRow(cutout=cutouts[c], voters=n, fractions=f) for c, n, f in keep if c in cutouts]
    rows.sort(key=lambda r: (-min(r.fractions.values()), r.cutout.pk))
    return rows[:limit]


def search_table(rows: list[SearchRow]):
    """astropy Table: id, name, survey, ra, dec (deg), voters, one fraction column per tag."""
    from astropy import units as u
    from astropy.table import Table

    tags = list(rows[0].fractions) if rows else []
    table = Table()
    table["cutout_id"] = [r.cutout.pk for r in rows]
    table["name"] = [r.cutout.name for r in rows] if rows else []
    table["survey"] = [r.cutout.survey.name for r in rows] if rows else []
    table["ra"] = [r.cutout.ra_deg if r.cutout.ra_deg is not None else float("nan") for r in rows]
    table["ra"].unit = u.deg
    table["dec"] = [r.cutout.dec_deg if r.cutout.dec_deg is not None else float("nan") for r in rows]
    table["dec"].unit = u.deg
    table["voters"] = [r.voters for r in rows]
    for tag in tags:
        table[f"frac_{tag.replace(' ', '_')}"] = [r.fractions[tag] for r in rows]
    return table


def search_csv(rows: list[SearchRow]) -> str:
    out = io.StringIO()
    tags = list(rows[0].fractions) if rows else []
    writer = csv.writer(out)
    writer.writerow(["cutout_id", "name", "survey", "ra", "dec", "voters", *[f"frac_{t}" for t in tags]])
    for r in rows:
        writer.writerow(
            [
                r.cutout.pk,
                r.cutout.name,
                r.cutout.survey.name,
                r.cutout.ra_deg,
                r.cutout.dec_deg,
                r.voters,
                *[r.fractions[t] for t in tags],
            ]
        )
    return out.getvalue()


def search_export(rows: list[SearchRow], fmt: str) -> tuple[bytes, str]:
    """(payload, content type) for fmt csv, vot (VOTable) or fits (binary table)."""
    if fmt == "csv":
        return search_csv(rows).encode(), "text/csv"
    if fmt not in {"vot", "fits"}:
        raise InvalidInput("export must be json, csv, vot or fits", field="export")
    table = search_table(rows)
    table.meta["ORIGIN"] = "rgzplatform search by tag"
    buffer = io.BytesIO()
    if fmt == "vot":
        table.write(buffer, format="votable")
        return buffer.getvalue(), "application/x-votable+xml"
    table.write(buffer, format="fits")
    return buffer.getvalue(), "application/fits"
