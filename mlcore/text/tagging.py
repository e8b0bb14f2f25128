"""Auto-tagging: match the phrases of a description against the wordings of published tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def tag_index(tags: Iterable[tuple[object, Sequence[str]]]) -> dict[str, object]:
    """(tag id, wordings) pairs -> {lower-case wording: tag id}; earlier tags win a shared wording."""
    index: dict[str, object] = {}
    for tag_id, wordings in tags:
        for w in wordings:
            w = " ".join(str(w).lower().split())
            if w and w not in index:
                index[w] = tag_id
    return index


def match_phrase(key: str, units: Sequence[str], index: dict[str, object]) -> list[object]:
    """Tag ids whose wording is the phrase key, or any run of consecutive units of it."""
    found = []
    if key in index:
        found.append(index[key])
    units = list(units)
    for i in range(len(units)):
        for j in range(i + 1, len(units) + 1):
            tag = index.get(" ".join(units[i:j]))
            if tag is not None and tag not in found:
                found.append(tag)
    return found


def tag_phrases(phrases: Sequence[dict], index: dict[str, object]) -> list[tuple[object, str]]:
    """Phrases ({"text", "key", "units"}) -> (tag id, evidence phrase) pairs, one per tag."""
    seen: dict[object, str] = {}
    for p in phrases:
        for tag in match_phrase(p.get("key", ""), p.get("units", ()), index):
            seen.setdefault(tag, p.get("text", "")[:300])
    return list(seen.items())
