"""The taxonomy app's bridge into mlcore.text: rows in, phrase keys and terms out.

spaCy is imported inside these functions (through mlcore.text.components), so the web process
starts without it. The pipeline is a versioned artefact under RGZ_TEXT_PIPELINE_DIR: built
once from its config and saved, then loaded.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings


@lru_cache(maxsize=1)
def text_pipeline():
    from mlcore.text.components import PIPELINE_VERSION, build_nlp, load_pipeline, save_pipeline

    folder = Path(settings.RGZ_TEXT_PIPELINE_DIR) / PIPELINE_VERSION
    if (folder / "meta.json").is_file():
        return load_pipeline(folder)
    nlp = build_nlp()
    folder.parent.mkdir(parents=True, exist_ok=True)
    save_pipeline(nlp, folder)
    return nlp


def describe_texts(texts: list[str]) -> list[list[dict]]:
    """Descriptions -> their phrases [{"text", "key", "units"}], one list per description."""
    from mlcore.text.components import describe

    return [
        [{"text": p.text, "key": p.key, "units": list(p.units)} for p in phrases]
        for phrases in describe(text_pipeline(), texts)
    ]


def derive(rows, *, threshold: float, progress=None):
    """(cutout id, description id, phrases) rows -> mlcore Derivation."""
    from mlcore.text.derive import DerivationConfig, Phrase, derive_terms

    phrases = [
        Phrase(key=p["key"], text=p["text"], units=tuple(p["units"]), source_id=cutout_id, description_id=desc_id)
        for cutout_id, desc_id, items in rows
        for p in items
    ]
    return derive_terms(phrases, DerivationConfig(threshold=threshold), progress=progress), len(phrases)


def derive_from_csv(path: str, *, threshold: float, progress=None):
    """A Text2Tag-layout CSV -> (Derivation, descriptions, phrases); raises CorpusError naming the row."""
    from mlcore.text.corpus import read_descriptions

    descriptions = read_descriptions(path)
    keyed = describe_texts([d.text for d in descriptions])
    rows = [(d.source_id, d.description_id, items) for d, items in zip(descriptions, keyed, strict=True)]
    derivation, n_phrases = derive(rows, threshold=threshold, progress=progress)
    return derivation, len(descriptions), n_phrases


def autotag(phrases: list[dict], index: dict) -> list[tuple[int, str]]:
    from mlcore.text.tagging import tag_phrases

    return tag_phrases(phrases, index)


def tag_index(tags) -> dict:
    from mlcore.text.tagging import tag_index as build

    return build(tags)
