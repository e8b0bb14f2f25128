"""What the field guide and the first-visit tutorial say, in plain words.

A workflow may give its own help per answer (strings ``<task>.answers.<i>.help``); otherwise the
text of the demo morphology classes is used, matched by the answer's value.
"""

ANSWER_HELP = {
    "Compact": "A single round or slightly oval blob, about the size of the telescope's beam: no jets, "
    "no lobes. Most are distant galaxies or quasars too small to resolve.",
    "FRI": "Fanaroff-Riley type I: brightest close to the centre, with jets that widen and fade "
    "as they go out. Edges look plume-like and dim.",
    "FRII": "Fanaroff-Riley type II: two lobes, each brightest at its outer end (hot spots), often "
    "with a faint core between them. Edges look sharp.",
    "Bent": "Bent-tail: the jets are swept back into a C, U or V shape, as the galaxy moves "
    "through the hot gas of a cluster.",
    "Other": "Anything that fits none of the above, or you are not sure: overlapping sources, rings, "
    "diffuse haze, stripes or spikes from imaging artefacts. Picking this is a useful answer.",
}

OTHER_EXAMPLES_NOTE = "Unusual shapes from this survey (the most complex cutouts)."

TUTORIAL_STEPS = [
    {
        "title": "What you are looking at",
        "text": "Each image is a radio telescope's view of a small patch of sky, centred on a radio source. "
        "Bright means strong radio emission. Coloured lines are contours: lines of equal brightness, "
        "outermost faintest. Most sources are galaxies whose central black hole shoots out jets.",
    },
    {
        "title": "The image tools",
        "text": "Zoom with the wheel, a pinch or a double tap; drag to pan; Reset returns to the first view. "
        "Stretch, brightness and contrast bring out faint emission. The scale bar shows arcseconds, "
        "and the sky position under the pointer is shown under the image.",
    },
    {
        "title": "What to answer",
        "text": "Pick the shape that fits best: compact, FR I, FR II, bent-tail, or something else. "
        "The field guide shows examples of each. Unsure? Pick your best guess or “Something else”: "
        "several volunteers see every source and their answers are combined.",
    },
]


def answer_help(*, value: str | None, strings: dict, help_key: str) -> str:
    return strings.get(help_key) or ANSWER_HELP.get(value or "", "")
