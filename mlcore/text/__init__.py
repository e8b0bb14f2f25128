"""Plain-English descriptions to tags: a spaCy pipeline and term derivation (Bowles et al. 2023).

``build_nlp(PipelineConfig())`` assembles the registered components (``components.py``);
``derive_terms`` groups the phrases' lemma keys into candidate terms (``derive.py``); ``encode``
turns each source's phrases into a multi-hot vector of terms. spaCy is imported by
``components`` only; no model is downloaded (lookup lemmas come from spacy-lookups-data).
"""
