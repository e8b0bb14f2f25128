"""Text clean-up before tokenisation: the published normalisation of Bowles et al. (MNRAS 522, 2584,
2023, arXiv:2304.07171; public code GitHub ``mb010/Text2Tag``).

Pure functions on strings; the spaCy tokenizer of ``components.py`` calls ``normalise_text``.
"""

from __future__ import annotations

import re
import unicodedata

# Run-together words and frequent misspellings in volunteers' descriptions -> their words.
CORRECTIONS: dict[str, str] = {
    "headtail": "head tail",
    "headtailed": "head tail",
    "xshape": "x shape",
    "xshaped": "x shaped",
    "sshape": "s shape",
    "sshaped": "s shaped",
    "cshape": "c shape",
    "cshaped": "c shaped",
    "vshape": "v shape",
    "vshaped": "v shaped",
    "hotspot": "hot spot",
    "hotspots": "hot spots",
    "doublelobe": "double lobe",
    "doublelobed": "double lobed",
    "multicomponent": "multi component",
    "corejet": "core jet",
    "onesided": "one sided",
    "twosided": "two sided",
    "widespread": "wide spread",
    "edgebrightened": "edge brightened",
    "elongaged": "elongated",
    "elongeted": "elongated",
    "extenteded": "extended",
    "exended": "extended",
    "extened": "extended",
    "extented": "extended",
    "difuse": "diffuse",
    "diffused": "diffuse",
    "assymetric": "asymmetric",
    "assymetrical": "asymmetrical",
    "asymetric": "asymmetric",
    "symetric": "symmetric",
    "symetrical": "symmetrical",
    "componant": "component",
    "componants": "components",
    "compnent": "component",
    "lobs": "lobes",
    "counterparts": "counterpart",
    "brigth": "bright",
    "irregularly": "irregular",
}

_ACCENTS = re.compile(r"[\u0300-\u036f]")
_SEPARATORS = re.compile(r"[/.;\n\r\t|]+")
_HYPHENS = re.compile(r"[-\u2010-\u2015_]+")
_WORD = re.compile(r"[a-z]+")
_SPACES = re.compile(r"\s{2,}")
_COMMAS = re.compile(r"\s*,[\s,]*")
_TAGS = re.compile(r"<[^>]{0,200}>")
_SCRIPTS = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.I | re.S)


def normalise_text(text: str, *, corrections: dict[str, str] | None = None, max_chars: int = 2000) -> str:
    """Lower-case, strip accents and markup; "/", ".", ";" and newlines become commas, "&" "and",
    hyphens spaces; run-together words are split by the correction list; capped at ``max_chars``."""
    corrections = CORRECTIONS if corrections is None else corrections
    text = (text or "")[:max_chars]
    text = _TAGS.sub(" ", _SCRIPTS.sub(" ", text))
    text = unicodedata.normalize("NFKD", text.lower())
    text = _ACCENTS.sub("", text)
    text = text.replace("&", " and ")
    text = _SEPARATORS.sub(",", text)
    text = _HYPHENS.sub(" ", text)
    text = _WORD.sub(lambda m: corrections.get(m.group(0), m.group(0)), text)
    text = _COMMAS.sub(", ", _SPACES.sub(" ", text))
    return text.strip(" ,")


def split_phrases(text: str) -> list[str]:
    """A normalised description -> its comma-separated phrases, stripped, empty ones dropped."""
    return [p.strip() for p in text.split(",") if p.strip()]
