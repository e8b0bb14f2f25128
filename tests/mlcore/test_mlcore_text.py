"""mlcore.text: normalisation, the spaCy pipeline (saved and loaded), derivation, auto-tagging."""

import numpy as np
import pytest

from mlcore.text.components import PipelineConfig, build_nlp, describe, load_pipeline, save_pipeline
from mlcore.text.corpus import CorpusError, read_descriptions
from mlcore.text.derive import DerivationConfig, Phrase, derive_terms, encode
from mlcore.text.normalise import normalise_text, split_phrases
from mlcore.text.tagging import tag_index, tag_phrases


@pytest.fixture(scope="module")
def nlp():
    return build_nlp()


def test_normalise_follows_the_published_steps():
    text = normalise_text("Head-Tail / X-shaped & bright.  Double\nlobed, Ré")
    assert text == "head tail, x shaped and bright, double, lobed, re"
    assert split_phrases(text) == ["head tail", "x shaped and bright", "double", "lobed", "re"]


def test_normalise_caps_and_strips_markup():
    assert len(normalise_text("a" * 10_000, max_chars=100)) <= 100
    assert normalise_text("<script>bad()</script> two lobes") == "two lobes"
    assert normalise_text("<b>two lobes</b>") == "two lobes"


def test_pipeline_splits_lemmatises_and_keeps_terms(nlp):
    (phrases,) = describe(nlp, ["Compact core, extended towards South, headtail, host found on DSS, X-shaped lobes"])
    keys = [p.key for p in phrases]
    assert keys == ["compact core", "extend", "head tail", "x shape lobe"]  # the DSS phrase is about the host
    assert phrases[3].units == ("x shape", "lobe")


def test_pipeline_survives_bad_input(nlp):
    out = describe(nlp, ["", "🚀🚀🚀", "<script>alert(1)</script>", "这是一个星系", "lobe " * 5000])
    assert out[0] == [] and out[1] == []
    assert all(p.key for ps in out for p in ps)
    assert len(out[4][0].text) <= PipelineConfig().max_chars


def test_saved_pipeline_loads_with_its_version_and_behaviour(nlp, tmp_path):
    save_pipeline(nlp, tmp_path / "p")
    loaded = load_pipeline(tmp_path / "p")
    assert loaded.meta["version"] == PipelineConfig().version
    assert loaded.pipe_names == nlp.pipe_names
    text = ["two lobes, bent tails, hotspots"]
    assert describe(loaded, text) == describe(nlp, text)


def test_load_refuses_other_folders(tmp_path):
    (tmp_path / "meta.json").write_text('{"name": "core_web_sm"}')
    with pytest.raises(ValueError, match="not an rgz_text pipeline"):
        load_pipeline(tmp_path)


def _phrases(nlp, rows):
    out = []
    for i, (source, text) in enumerate(rows):
        for p in describe(nlp, [text])[0]:
            out.append(Phrase(key=p.key, text=p.text, units=p.units, source_id=source, description_id=i))
    return out


def test_derivation_groups_spelling_variants_and_counts(nlp):
    rows = [(1, "two lobes"), (1, "lobes"), (2, "lobed"), (2, "lobe"), (3, "compact"), (3, "compact"), (4, "bent")]
    result = derive_terms(_phrases(nlp, rows), DerivationConfig(threshold=0.6, context_dims=0))
    by_term = {c.term: c for c in result.candidates}
    assert result.key_to_term["lobed"] == result.key_to_term["lobe"]  # spelling variants meet
    assert by_term["compact"].count == 2 and by_term["compact"].example_sources == [3]
    assert result.candidates[0].count >= result.candidates[-1].count
    ids, x = encode({1: _phrases(nlp, rows[:2]), 3: _phrases(nlp, rows[4:6])}, result.terms(), result.key_to_term)
    assert x.shape == (2, len(result.terms())) and x.dtype == np.uint8
    assert x[1, result.terms().index("compact")] == 1 and x[0, result.terms().index("compact")] == 0


def test_threshold_one_keeps_frequent_phrases_apart(nlp):
    rows = [(i, t) for i, t in enumerate(["bent tail", "bent tail", "bent jet", "bent jet", "faint", "faint"])]
    loose = derive_terms(_phrases(nlp, rows), DerivationConfig(threshold=0.3, context_dims=0))
    strict = derive_terms(_phrases(nlp, rows), DerivationConfig(threshold=1.0, context_dims=0))
    assert len(strict.candidates) >= len(loose.candidates)
    assert {"bent tail", "bend jet", "faint"} <= set(strict.terms())  # "bent" has the lemma "bend"


def test_derivation_config_rejects_bad_settings():
    with pytest.raises(ValueError):
        DerivationConfig(threshold=0)
    assert derive_terms([], DerivationConfig()).candidates == []


def test_autotag_matches_names_synonyms_and_units():
    index = tag_index([(1, ["bent tail", "curved tail"]), (2, ["jet"])])
    found = tag_phrases(
        [
            {"text": "long bent tails", "key": "long bent tail", "units": ["long", "bent tail"]},
            {"text": "jets", "key": "jet", "units": ["jet"]},
        ],
        index,
    )
    assert found == [(1, "long bent tails"), (2, "jets")]


def test_corpus_reader_names_file_and_row(tmp_path, shared_data):
    bad = tmp_path / "bad.csv"
    bad.write_text("classification_id,user_id,annotations,subject_ids\n1,u,two lobes,5\n2,u,faint,\n")
    with pytest.raises(CorpusError, match="bad.csv row 3"):
        read_descriptions(bad)
    with pytest.raises(CorpusError, match="missing column"):
        (tmp_path / "x.csv").write_text("a,b\n1,2\n")
        read_descriptions(tmp_path / "x.csv")
    rows = read_descriptions(shared_data / "text2tag" / "english_annotations.csv")
    assert len({r.source_id for r in rows}) == 299
