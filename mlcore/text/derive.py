"""Term derivation: group semantically close phrases, map each group to a vocabulary term.

Published recipe (Bowles et al., MNRAS 522, 2584, 2023, arXiv:2304.07171; public code GitHub
``mb010/Text2Tag``): embed each phrase; average
the embeddings of all phrases within cosine similarity ``threshold`` of it; the vocabulary entry
nearest to that mean is the phrase's term. Here the embedding is trained on the corpus itself
(no model download): character n-grams of the phrase key (spelling variants such as "lobe" /
"lobed" / "lobes" meet) joined with a low-rank co-occurrence embedding of its words (words that
volunteers use for the same sources meet, such as "bent" and "curve"). The vocabulary is every
phrase key and every unit (word or multi-word term) seen at least ``min_count`` times.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class DerivationConfig:
    """Settings of term derivation; ``threshold`` is the published similarity t (0.5 .. 1.0)."""

    threshold: float = 0.8
    min_count: int = 2  # vocabulary entries need this many phrases
    min_term_count: int = 1  # candidate terms supported by fewer phrases are dropped
    char_ngrams: tuple[int, int] = (3, 5)
    context_dims: int = 48  # rank of the word co-occurrence embedding; 0 turns it off
    context_weight: float = 0.5  # share of the co-occurrence part in the phrase embedding
    context_min_sources: int = 50  # fewer described sources: co-occurrence is noise, spelling only
    min_similarity: float = 0.2  # a phrase whose group is no closer than this to any entry is its own term
    examples: int = 5  # example phrases and cutouts kept per term
    seed: int = 0

    def __post_init__(self):
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must lie in (0, 1]")
        if self.min_count < 1 or self.min_term_count < 1:
            raise ValueError("min_count and min_term_count must be at least 1")
        if not 0.0 <= self.context_weight <= 1.0:
            raise ValueError("context_weight must lie in [0, 1]")


@dataclass(frozen=True)
class Phrase:
    """One phrase of one description: key from ``components.phrase_keys``; ids are opaque."""

    key: str
    text: str
    units: tuple[str, ...]
    source_id: object  # the cutout / subject described
    description_id: object = None


@dataclass
class TermCandidate:
    term: str  # a phrase key or unit (lemmas): the term's identity
    label: str  # how volunteers most often wrote it (for a readable tag name)
    count: int  # phrases mapped to it
    sources: int  # distinct cutouts
    example_phrases: list[str] = field(default_factory=list)
    example_sources: list = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # phrase keys grouped under it

    def as_dict(self) -> dict:
        return {
            "term": self.term,
            "label": self.label,
            "count": self.count,
            "sources": self.sources,
            "example_phrases": self.example_phrases,
            "example_sources": self.example_sources,
            "keys": self.keys,
        }


@dataclass
class Derivation:
    """Result: candidates (most supported first) and each phrase key's term."""

    candidates: list[TermCandidate]
    key_to_term: dict[str, str]
    threshold: float

    def terms(self) -> list[str]:
        return [c.term for c in self.candidates]


def _l2(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


class PhraseEmbedder:
    """Corpus-trained phrase vectors: char n-gram TF-IDF (spelling) + SVD of the word-by-source
    co-occurrence (context). ``fit(keys, units, sources)``; ``transform(keys) -> (N, D)`` unit rows."""

    def __init__(self, config: DerivationConfig):
        self.config = config

    def fit(self, phrases: Sequence[Phrase]) -> PhraseEmbedder:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.chars_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.config.char_ngrams, sublinear_tf=True)
        self.chars_.fit([p.key for p in phrases])
        self.unit_vectors_ = {}
        n_sources = len({str(p.source_id) for p in phrases})
        if self.config.context_dims > 0 and n_sources >= self.config.context_min_sources:
            self.unit_vectors_ = self._context_vectors(phrases)
        return self

    def _context_vectors(self, phrases: Sequence[Phrase]) -> dict[str, np.ndarray]:
        from scipy.sparse import csr_matrix
        from sklearn.decomposition import TruncatedSVD

        units = sorted({u for p in phrases for u in p.units})
        sources = sorted({str(p.source_id) for p in phrases})
        ui = {u: i for i, u in enumerate(units)}
        si = {s: i for i, s in enumerate(sources)}
        counts = Counter((ui[u], si[str(p.source_id)]) for p in phrases for u in p.units)
        rows, cols = zip(*counts, strict=True) if counts else ((), ())
        m = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(units), len(sources)))  # (U, S) binary
        # PPMI weighting of word-by-source occurrence.
        total = m.sum()
        pu = np.asarray(m.sum(axis=1)).ravel() / total
        ps = np.asarray(m.sum(axis=0)).ravel() / total
        m = m.tocoo()
        pmi = np.log(m.data / total / (pu[m.row] * ps[m.col]))
        ppmi = csr_matrix((np.maximum(pmi, 0), (m.row, m.col)), shape=m.shape)
        k = min(self.config.context_dims, min(ppmi.shape) - 1)
        if k < 1:
            return {}
        vecs = TruncatedSVD(n_components=k, random_state=self.config.seed).fit_transform(ppmi)  # (U, k)
        vecs = _l2(vecs)
        return {u: vecs[i] for i, u in enumerate(units)}

    def transform(self, keys: Sequence[str]) -> np.ndarray:
        chars = _l2(self.chars_.transform(list(keys)).toarray())  # (N, V)
        w = self.config.context_weight if self.unit_vectors_ else 0.0
        if w == 0.0:
            return chars
        dims = len(next(iter(self.unit_vectors_.values())))
        ctx = np.zeros((len(keys), dims))
        for i, key in enumerate(keys):
            vs = [self.unit_vectors_[u] for u in _units_of(key, self.unit_vectors_)]
            if vs:
                ctx[i] = np.mean(vs, axis=0)
        ctx = _l2(ctx)
        return _l2(np.hstack([np.sqrt(1 - w) * chars, np.sqrt(w) * ctx]))  # (N, V + k)


def _units_of(key: str, known: dict) -> list[str]:
    """A key's units: multi-word terms first (greedy, longest), then words."""
    words, out, i = key.split(), [], 0
    while i < len(words):
        for j in range(len(words), i, -1):
            cand = " ".join(words[i:j])
            if cand in known:
                out.append(cand)
                i = j
                break
        else:
            i += 1
    return out


def derive_terms(phrases: Sequence[Phrase], config: DerivationConfig | None = None, progress=None) -> Derivation:
    """Phrases -> candidate terms with counts, examples and the term of every phrase key."""
    config = config or DerivationConfig()
    phrases = [p for p in phrases if p.key]
    if not phrases:
        return Derivation(candidates=[], key_to_term={}, threshold=config.threshold)
    key_counts = Counter(p.key for p in phrases)
    keys = sorted(key_counts)
    unit_counts = Counter(u for p in phrases for u in p.units)
    vocab = sorted(
        {k for k, c in key_counts.items() if c >= config.min_count}
        | {u for u, c in unit_counts.items() if c >= config.min_count}
    )
    if not vocab:
        vocab = keys
    embedder = PhraseEmbedder(config).fit(phrases)
    if progress:
        progress(1, 3)
    e_keys = embedder.transform(keys)  # (K, D)
    e_vocab = embedder.transform(vocab)  # (W, D)
    weights = np.array([key_counts[k] for k in keys], dtype=float)  # (K,)
    key_to_term: dict[str, str] = {}
    step = 1024
    for start in range(0, len(keys), step):
        sim = e_keys[start : start + step] @ e_keys.T  # (b, K)
        near = (sim >= config.threshold - 1e-9).astype(float) * weights  # (b, K)
        means = _l2(near @ e_keys)  # (b, D)
        sims = means @ e_vocab.T  # (b, W)
        nearest = np.argmax(sims, axis=1)  # (b,)
        for i, w in enumerate(nearest):
            key = keys[start + i]
            key_to_term[key] = vocab[w] if sims[i, w] > config.min_similarity else key
    if progress:
        progress(2, 3)
    by_term: dict[str, list[Phrase]] = defaultdict(list)
    for p in phrases:
        by_term[key_to_term[p.key]].append(p)
    candidates = []
    for term, members in by_term.items():
        if len(members) < config.min_term_count:
            continue
        texts = Counter(p.text for p in members)
        exact = Counter(p.text for p in members if p.key == term)
        sources = Counter(p.source_id for p in members)
        candidates.append(
            TermCandidate(
                term=term,
                label=exact.most_common(1)[0][0] if exact else term,
                count=len(members),
                sources=len(sources),
                example_phrases=[t for t, _ in texts.most_common(config.examples)],
                example_sources=[s for s, _ in sources.most_common(config.examples)],
                keys=sorted({p.key for p in members}, key=lambda k: -key_counts[k])[:20],
            )
        )
    candidates.sort(key=lambda c: (-c.count, c.term))
    kept = {c.term for c in candidates}
    key_to_term = {k: t for k, t in key_to_term.items() if t in kept}
    if progress:
        progress(3, 3)
    return Derivation(candidates=candidates, key_to_term=key_to_term, threshold=config.threshold)


def encode(
    phrases_by_source: dict[object, Sequence[Phrase]], terms: Sequence[str], key_to_term: dict[str, str]
) -> tuple[list, np.ndarray]:
    """Multi-hot term vectors: (source ids, (S, T) uint8) with 1 where a phrase of the source maps
    to the term (directly, or because the term is one of its units)."""
    index = {t: j for j, t in enumerate(terms)}
    ids = list(phrases_by_source)
    x = np.zeros((len(ids), len(terms)), dtype=np.uint8)  # (S, T)
    for i, sid in enumerate(ids):
        for p in phrases_by_source[sid]:
            j = index.get(key_to_term.get(p.key, ""))
            if j is not None:
                x[i, j] = 1
    return ids, x
