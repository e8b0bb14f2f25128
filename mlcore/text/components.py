"""The spaCy pipeline: registered components assembled by ``build_nlp(config)``; saved and loaded
as a versioned artefact (``save_pipeline`` / ``load_pipeline``).

Pipeline (a blank English pipeline, nothing downloaded):
  rgz_tokenizer.v1   normalise spelling and run-together words (normalise.py), then tokenise
  rgz_phrases        split on commas into phrases: doc.spans["phrases"]
  rgz_host_filter    phrases about the optical / infrared host panels move to doc.spans["host"]
  rgz_stop_words     astronomy-aware stop words: Token._.rgz_stop
  lemmatizer         lookup lemmas (spacy-lookups-data)
  rgz_terms          multi-word terms (Matcher on lemmas, PhraseMatcher on text): doc.spans["terms"]
``phrase_keys(doc)`` reads the result: one key (content lemmas, terms kept whole) per phrase.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from .normalise import CORRECTIONS, normalise_text

PIPELINE_NAME = "rgz_text"
PIPELINE_VERSION = "1.0.0"

# Words that say nothing about a radio source's shape in this project: the stop words Bowles et al.
# (MNRAS 522, 2584, 2023; GitHub mb010/Text2Tag) add to the standard English list.
ASTRO_STOP_WORDS = (
    "emu",
    "galaxy",
    "galactic",
    "emission",
    "like",
    "side",
    "source",
    "sources",
    "north",
    "south",
    "east",
    "west",
    "northern",
    "southern",
    "eastern",
    "western",
    "radio",
    "image",
    "frame",
    "centre",
    "center",
    "possibly",
    "possible",
    "maybe",
    "probably",
    "perhaps",
    "looks",
    "look",
    "slightly",
    "quite",
    "rather",
    "object",
    "thing",
    "seem",
    "appear",
    "seen",
    "visible",
    "uncertain",
)
# Standard English stop words that carry morphology here (counts, negation, sides).
KEEP_WORDS = ("one", "two", "three", "four", "five", "six", "no", "not", "both", "several", "many", "single", "double")
# Phrases about the optical / infrared panels, not the radio source (step 3).
HOST_WORDS = ("optical", "dss", "wise", "infrared", "ir", "host", "counterpart", "hosts", "counterparts", "sdss")
# Multi-word terms kept whole; words are given as lemmas.
TERMS = (
    "head tail",
    "bent tail",
    "wide angle tail",
    "narrow angle tail",
    "x shape",
    "s shape",
    "c shape",
    "v shape",
    "z shape",
    "hot spot",
    "core jet",
    "double double",
    "double lobe",
    "edge brighten",
    "edge darken",
    "star form",
    "star formation",
    "radio galaxy",
    "one sided",
    "two sided",
    "point like",
    "fr i",
    "fr ii",
    "fr 1",
    "fr 2",
    "fr0",
    "fri",
    "frii",
    "wat",
    "nat",
    "orc",
    "sfg",
    "agn",
    "no core",
    "compact core",
    "bright core",
    "diffuse emission",
    "multi component",
    "odd radio circle",
)


@dataclass(frozen=True)
class PipelineConfig:
    """Settings of the text pipeline; saved in the artefact's meta."""

    version: str = PIPELINE_VERSION
    max_chars: int = 2000  # longer descriptions are cut (volunteers' limit is in the platform)
    corrections: tuple[tuple[str, str], ...] = tuple(sorted(CORRECTIONS.items()))
    extra_stop_words: tuple[str, ...] = ASTRO_STOP_WORDS
    keep_words: tuple[str, ...] = KEEP_WORDS
    host_words: tuple[str, ...] = HOST_WORDS
    terms: tuple[str, ...] = TERMS

    def __post_init__(self):
        if self.max_chars < 1:
            raise ValueError("max_chars must be positive")

    def to_dict(self) -> dict:
        return {
            k: [list(v) for v in val] if k == "corrections" else (list(val) if isinstance(val, tuple) else val)
            for k, val in asdict(self).items()
        }


for _name in ("rgz_stop",):
    if not Token.has_extension(_name):
        Token.set_extension(_name, default=False)


class NormalisingTokenizer:
    """spaCy's tokenizer behind ``normalise_text``; serialises like the tokenizer it wraps."""

    def __init__(self, inner, corrections: dict[str, str], max_chars: int):
        self.inner = inner
        self.corrections = corrections
        self.max_chars = max_chars

    def __call__(self, text: str) -> Doc:
        return self.inner(normalise_text(text, corrections=self.corrections, max_chars=self.max_chars))

    def pipe(self, texts, batch_size=1000):
        for text in texts:
            yield self(text)

    def to_bytes(self, **kwargs):
        return self.inner.to_bytes(**kwargs)

    def from_bytes(self, data, **kwargs):
        self.inner.from_bytes(data, **kwargs)
        return self

    def to_disk(self, path, **kwargs):
        self.inner.to_disk(path, **kwargs)

    def from_disk(self, path, **kwargs):
        self.inner.from_disk(path, **kwargs)
        return self


@spacy.registry.tokenizers("rgz_tokenizer.v1")
def create_rgz_tokenizer(corrections: list[list[str]], max_chars: int = 2000):
    from spacy.language import create_tokenizer

    def make(nlp):
        return NormalisingTokenizer(create_tokenizer()(nlp), dict(map(tuple, corrections)), max_chars)

    return make


@Language.component("rgz_phrases")
def rgz_phrases(doc: Doc) -> Doc:
    """Comma-separated phrases -> doc.spans["phrases"] (commas left out)."""
    spans, start = [], None
    for token in doc:
        if token.text == ",":
            if start is not None:
                spans.append(Span(doc, start, token.i, label="phrase"))
            start = None
        elif start is None:
            start = token.i
    if start is not None:
        spans.append(Span(doc, start, len(doc), label="phrase"))
    doc.spans["phrases"] = spans
    return doc


@Language.factory("rgz_host_filter", default_config={"host_words": list(HOST_WORDS)})
def make_host_filter(nlp: Language, name: str, host_words: list[str]):
    words = {w.lower() for w in host_words}

    def host_filter(doc: Doc) -> Doc:
        kept, host = [], []
        for span in doc.spans.get("phrases", []):
            (host if any(t.lower_ in words for t in span) else kept).append(span)
        doc.spans["phrases"] = kept
        doc.spans["host"] = host
        return doc

    return host_filter


@Language.factory(
    "rgz_stop_words", default_config={"extra_stop_words": list(ASTRO_STOP_WORDS), "keep_words": list(KEEP_WORDS)}
)
def make_stop_words(nlp: Language, name: str, extra_stop_words: list[str], keep_words: list[str]):
    keep = {w.lower() for w in keep_words}
    stop = ({w for w in nlp.Defaults.stop_words} | {w.lower() for w in extra_stop_words}) - keep

    def stop_words(doc: Doc) -> Doc:
        for token in doc:
            token._.rgz_stop = token.lower_ in stop or not (token.is_alpha or token.like_num)
        return doc

    return stop_words


IRREGULAR = {"bend": ("bent",), "bent": ("bend", "bends", "bending"), "form": ("forming",)}


def word_forms(word: str) -> list[str]:
    """A pattern word and its usual inflections (plural, past, -ing, -ed), so that "bent tails"
    and "x-shaped" match the terms "bent tail" and "x shape" whatever the lemma table says."""
    stem = word[:-1] if word.endswith("e") else word
    return sorted({word, word + "s", word + "es", stem + "ed", stem + "ing", word + "d", *IRREGULAR.get(word, ())})


class TermMatcher:
    """Multi-word terms: a Matcher on lemmas (forms: "x shaped" -> x shape) and a PhraseMatcher on
    the lower-cased text (abbreviations); overlaps resolved to the longest span."""

    def __init__(self, nlp: Language, terms: list[str]):
        self.matcher = Matcher(nlp.vocab)
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for term in terms:
            words = term.split()
            if len(words) > 1:
                forms = [{"LOWER": {"IN": word_forms(w)}} for w in words]
                self.matcher.add(term, [[{"LEMMA": w} for w in words], forms])
            else:
                self.phrases.add(term, [nlp.make_doc(term)])

    def __call__(self, doc: Doc) -> Doc:
        found = [Span(doc, s, e, label=m) for m, s, e in self.matcher(doc)]
        found += [Span(doc, s, e, label=m) for m, s, e in self.phrases(doc)]
        doc.spans["terms"] = filter_spans(found)
        return doc


@Language.factory("rgz_terms", default_config={"terms": list(TERMS)})
def make_terms(nlp: Language, name: str, terms: list[str]):
    return TermMatcher(nlp, terms)


def build_nlp(config: PipelineConfig | None = None) -> Language:
    """Assemble the pipeline from its config; lookup tables load from spacy-lookups-data."""
    config = config or PipelineConfig()
    nlp = spacy.blank(
        "en",
        config={
            "nlp": {
                "tokenizer": {
                    "@tokenizers": "rgz_tokenizer.v1",
                    "corrections": [list(p) for p in config.corrections],
                    "max_chars": config.max_chars,
                }
            }
        },
    )
    nlp.add_pipe("rgz_phrases")
    nlp.add_pipe("rgz_host_filter", config={"host_words": list(config.host_words)})
    nlp.add_pipe(
        "rgz_stop_words",
        config={"extra_stop_words": list(config.extra_stop_words), "keep_words": list(config.keep_words)},
    )
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("rgz_terms", config={"terms": list(config.terms)})
    nlp.initialize()
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = config.version
    nlp.meta["rgz_config"] = config.to_dict()
    return nlp


def save_pipeline(nlp: Language, path: str | Path) -> Path:
    """Write the pipeline (with its lookup tables and config) to a folder; returns the folder."""
    path = Path(path)
    nlp.to_disk(path)
    return path


def load_pipeline(path: str | Path) -> Language:
    """Load a saved pipeline; refuses a folder that is not an rgz_text artefact."""
    path = Path(path)
    meta = json.loads((path / "meta.json").read_text())
    if meta.get("name") != PIPELINE_NAME:
        raise ValueError(f"{path} is not an {PIPELINE_NAME} pipeline (name {meta.get('name')!r})")
    return spacy.load(path)


@dataclass(frozen=True)
class PhraseKey:
    """One phrase of a description: its text and its key (content lemmas; terms kept whole)."""

    text: str
    key: str
    units: tuple[str, ...] = field(default=())


def phrase_keys(doc: Doc) -> list[PhraseKey]:
    """The kept phrases of a processed doc with their keys; phrases with no content are dropped."""
    term_at = {span.start: span for span in doc.spans.get("terms", [])}
    out = []
    for phrase in doc.spans.get("phrases", []):
        units, i = [], phrase.start
        while i < phrase.end:
            term = term_at.get(i)
            if term is not None and term.end <= phrase.end:
                units.append(term.label_)
                i = term.end
                continue
            token = doc[i]
            if not token._.rgz_stop and len(token.text) > 1:
                units.append(token.lemma_ or token.lower_)
            i += 1
        if units:
            out.append(PhraseKey(text=phrase.text, key=" ".join(units), units=tuple(units)))
    return out


def describe(nlp: Language, texts, batch_size: int = 256) -> list[list[PhraseKey]]:
    """Descriptions -> their phrase keys, one list per description."""
    return [phrase_keys(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]
