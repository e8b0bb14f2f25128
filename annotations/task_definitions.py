"""Workflow task definitions (Zooniverse's layout) and validation of volunteers' answers.

A version's ``tasks`` maps task keys to definitions whose texts live in ``strings``::

    {"T0": {"type": "single", "question": "T0.question",
            "answers": [{"label": "T0.answers.0.label", "value": "Compact"}, ...],
            "required": true, "next": "T1"},
     "T1": {"type": "text", "instruction": "T1.instruction"},
     "T2": {"type": "tags", "instruction": "T2.instruction", "tags": ["jet", "lobe"]}}

Through the API, question answers are integer indices (as in Panoptes); text tasks carry a
string; tag tasks a list of tag names; drawing and radio-component tasks are described in
annotations.drawing.
"""

from __future__ import annotations

from django.conf import settings

from core.errors import InvalidInput

from .drawing import SubjectFrame, validate_drawing_definition, validate_marks, validate_sources
from .tag_vocabulary import tag_task_names

TASK_TYPES = {"single", "multiple", "text", "tags", "drawing", "radio_components"}


def validate_task_definitions(tasks: dict, strings: dict) -> None:
    """Reject a workflow definition that volunteers could not answer."""
    if not isinstance(tasks, dict) or not tasks:
        raise InvalidInput("a workflow needs at least one task")
    if not isinstance(strings, dict) or any(not isinstance(v, str) for v in strings.values()):
        raise InvalidInput("strings must be an object of texts", field="strings")
    for key, task in tasks.items():
        kind = task.get("type") if isinstance(task, dict) else None
        if not isinstance(kind, str) or kind not in TASK_TYPES:
            raise InvalidInput(f"task {key}: type must be one of {sorted(TASK_TYPES)}")
        if kind in {"single", "multiple"}:
            answers = task.get("answers")
            if not isinstance(answers, list) or len(answers) < 2:
                raise InvalidInput(f"task {key}: a question needs at least two answers")
            for answer in answers:
                if not isinstance(answer, dict) or not isinstance(answer.get("label"), str):
                    raise InvalidInput(f"task {key}: each answer needs a label")
                if answer["label"] not in strings:
                    raise InvalidInput(f"task {key}: answer label {answer.get('label')!r} is not in strings")
        if kind in {"drawing", "radio_components"}:
            validate_drawing_definition(key, task, strings)
        if kind == "tags" and not _texts(task.get("tags", [])):
            raise InvalidInput(f"task {key}: tags must be a list of names")
        if any(not isinstance(task.get(name, ""), str) for name in ("question", "instruction")):
            raise InvalidInput(f"task {key}: the question or instruction must be a strings key")
        nxt = task.get("next")
        if nxt and (not isinstance(nxt, str) or nxt not in tasks):
            raise InvalidInput(f"task {key}: next task {nxt!r} does not exist")


def _texts(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def task_text(task: dict, strings: dict) -> str:
    """The question or instruction a volunteer reads for a task."""
    key = task.get("question") or task.get("instruction") or ""
    return strings.get(key, key)


def answer_labels(task: dict, strings: dict) -> list[str]:
    return [strings.get(a["label"], a["label"]) for a in task.get("answers", [])]


def validate_annotations(annotations, tasks: dict, frame: SubjectFrame | None = None) -> list[dict]:
    """Check answers against a version's tasks; return them normalised (text stripped, capped).

    ``frame`` (the subject's image size and contour components) bounds the marks of drawing tasks.
    """
    if not isinstance(annotations, list):
        raise InvalidInput("annotations must be a list of {task, value} objects", field="annotations")
    seen: set[str] = set()
    cleaned: list[dict] = []
    for item in annotations:
        if not isinstance(item, dict) or "task" not in item or "value" not in item:
            raise InvalidInput("each annotation needs a task and a value", field="annotations")
        key = item["task"]
        if not isinstance(key, str):
            raise InvalidInput("an annotation's task must be a task key (text)", field="annotations")
        if key not in tasks:
            raise InvalidInput(f"unknown task {key!r} for this workflow version", field="annotations")
        if key in seen:
            raise InvalidInput(f"task {key!r} answered twice", field="annotations")
        seen.add(key)
        cleaned.append({"task": key, "value": _validate_value(key, tasks[key], item["value"], frame)})
    missing = [k for k, t in tasks.items() if t.get("required") and k not in seen]
    if missing:
        raise InvalidInput(f"required task(s) not answered: {', '.join(missing)}", field="annotations")
    return cleaned


def _validate_value(key: str, task: dict, value, frame: SubjectFrame | None):
    kind = task["type"]
    if kind == "drawing":
        return validate_marks(key, task, value, frame)
    if kind == "radio_components":
        return validate_sources(key, value, frame)
    if kind == "single":
        n = len(task.get("answers", []))
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
            raise InvalidInput(f"task {key}: answer must be an integer from 0 to {n - 1}", field="annotations")
        return value
    if kind == "multiple":
        n = len(task.get("answers", []))
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise InvalidInput(f"task {key}: answers must be a list of integers", field="annotations")
        if any(not 0 <= v < n for v in value) or len(set(value)) != len(value):
            raise InvalidInput(f"task {key}: answers must be distinct integers from 0 to {n - 1}", field="annotations")
        return sorted(value)
    if kind == "text":
        if not isinstance(value, str):
            raise InvalidInput(f"task {key}: the description must be text", field="annotations")
        text = value.replace("\x00", "").strip()
        limit = settings.RGZ_DESCRIPTION_MAX_CHARS
        if len(text) > limit:
            raise InvalidInput(f"task {key}: the description is longer than {limit} characters", field="annotations")
        return text
    # tags
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise InvalidInput(f"task {key}: tags must be a list of names", field="annotations")
    names = list(dict.fromkeys(v.strip().lower() for v in value if v.strip()))
    allowed = tag_task_names(task) if names else None
    if allowed is not None:
        unknown = [v for v in names if v not in allowed]
        if unknown:
            raise InvalidInput(f"task {key}: unknown tag(s) {', '.join(unknown)}", field="annotations")
    return names


DEMO_MORPHOLOGY_ANSWERS = [
    ("Compact", "Compact: a single unresolved blob"),
    ("FRI", "FR I: brightest near the centre, fading jets"),
    ("FRII", "FR II: brightest at the ends of the lobes"),
    ("Bent", "Bent-tail: jets swept into a curve"),
    ("Other", "Something else / not sure"),
]
DEMO_TAGS = ["core", "jet", "lobe", "hotspot", "tail", "bent", "diffuse", "ring", "double", "artefact"]


def demo_workflow_definition() -> tuple[dict, dict]:
    """Tasks and strings of the morphology workflow that the demo survey uses."""
    strings = {
        "T0.question": "Which best describes this radio source?",
        "T1.instruction": "Describe the source in your own words (optional)",
        "T2.instruction": "Pick any tags that fit (optional)",
    }
    answers = []
    for i, (value, label) in enumerate(DEMO_MORPHOLOGY_ANSWERS):
        strings[f"T0.answers.{i}.label"] = label
        answers.append({"label": f"T0.answers.{i}.label", "value": value})
    tasks = {
        "T0": {"type": "single", "question": "T0.question", "answers": answers, "required": True, "next": "T1"},
        "T1": {"type": "text", "instruction": "T1.instruction", "next": "T2"},
        "T2": {"type": "tags", "instruction": "T2.instruction", "tags": DEMO_TAGS},
    }
    return tasks, strings


def radio_source_workflow_definition() -> tuple[dict, dict]:
    """Radio Galaxy Zoo's task: group the radio components of each source and mark its host galaxy,
    then (optionally) draw anything else with Zooniverse's drawing tools."""
    strings = {
        "T0.instruction": "Click the radio contours that belong to one source, then mark its host galaxy",
        "T1.instruction": "Mark anything else you see (optional)",
    }
    tools = []
    for i, (shape, label, colour) in enumerate(
        [
            ("point", "Galaxy", "#ff4060"),
            ("circle", "Ring or halo", "#40ff80"),
            ("ellipse", "Lobe", "#ffe000"),
            ("rectangle", "Region", "#00e5ff"),
            ("line", "Jet direction", "#ff90ff"),
        ]
    ):
        strings[f"T1.tools.{i}.label"] = label
        tools.append({"type": shape, "label": f"T1.tools.{i}.label", "color": colour, "details": []})
    tasks = {
        "T0": {"type": "radio_components", "instruction": "T0.instruction", "required": True, "next": "T1"},
        "T1": {"type": "drawing", "instruction": "T1.instruction", "tools": tools},
    }
    return tasks, strings
