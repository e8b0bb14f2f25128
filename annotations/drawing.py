"""Drawing tasks: marks with Zooniverse's tool shapes, and Radio Galaxy Zoo's radio-component task.

A ``drawing`` task lists its tools as Zooniverse does::

    {"type": "drawing", "instruction": "T3.instruction",
     "tools": [{"type": "point", "label": "T3.tools.0.label", "color": "#ff0000", "details": []}]}

and its answer is a list of marks, each ``{"tool": <index>, <the shape's fields>}`` with the
field names of Zooniverse's annotations (point x, y; circle x, y, r; ellipse x, y, rx, ry, angle;
rectangle x, y, width, height; line x1, y1, x2, y2). A ``radio_components`` task's answer is a
list of sources, each ``{"components": [<index of a lowest-level contour path>], "host": {"x", "y"}}``
(host may be null when none is visible). Marks are stored in pixels of the radio frame
(mlcore.marks explains the convention); RA and Dec are added whenever they are shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidInput

from . import ml

DRAWING_TOOLS = {
    "point": ("x", "y"),
    "circle": ("x", "y", "r"),
    "ellipse": ("x", "y", "rx", "ry", "angle"),
    "rectangle": ("x", "y", "width", "height"),
    "line": ("x1", "y1", "x2", "y2"),
}
SIZES = {"r", "rx", "ry", "width", "height"}  # must be positive
MAX_MARKS = 200


@dataclass(frozen=True)
class SubjectFrame:
    """What a mark is checked against: the radio image's size and its lowest-level contour paths."""

    width: int
    height: int
    components: int

    @classmethod
    def of(cls, cutout) -> SubjectFrame:
        lowest = cutout.contours[0]["paths"] if cutout.contours else []
        return cls(width=cutout.width, height=cutout.height, components=len(lowest))


def validate_drawing_definition(key: str, task: dict, strings: dict) -> None:
    if task["type"] == "radio_components":
        return
    tools = task.get("tools")
    if not isinstance(tools, list) or not tools:
        raise InvalidInput(f"task {key}: a drawing task needs a list of tools")
    for index, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind not in DRAWING_TOOLS:
            raise InvalidInput(f"task {key}: tool {index} type must be one of {sorted(DRAWING_TOOLS)}")
        if not isinstance(tool.get("label"), str) or tool["label"] not in strings:
            raise InvalidInput(f"task {key}: tool {index} label {tool.get('label')!r} is not in strings")


def validate_marks(key: str, task: dict, value, frame: SubjectFrame | None) -> list:
    """A drawing task's marks, checked and normalised (numbers as floats, nothing else kept)."""
    if not isinstance(value, list) or len(value) > MAX_MARKS:
        raise InvalidInput(f"task {key}: marks must be a list of up to {MAX_MARKS}", field="annotations")
    tools = task.get("tools", [])
    cleaned = []
    for n, mark in enumerate(value):
        where = f"task {key} mark {n}"
        if not isinstance(mark, dict):
            raise InvalidInput(f"{where}: a mark must be an object", field="annotations")
        index = mark.get("tool")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(tools):
            raise InvalidInput(f"{where}: unknown tool {index!r} (this task has {len(tools)})", field="annotations")
        shape = tools[index]["type"]
        numbers = {name: _number(where, name, mark.get(name)) for name in DRAWING_TOOLS[shape]}
        for name in SIZES & numbers.keys():
            if numbers[name] <= 0:
                raise InvalidInput(f"{where}: {name} must be positive", field="annotations")
        for x, y in _anchor_points(shape, numbers):
            _inside(where, x, y, frame)
        cleaned.append({"tool": index, **numbers})
    return cleaned


def validate_sources(key: str, value, frame: SubjectFrame | None) -> list:
    """A radio-component answer: each source groups distinct contour components and may mark a host."""
    if not isinstance(value, list) or len(value) > MAX_MARKS:
        raise InvalidInput(f"task {key}: sources must be a list of up to {MAX_MARKS}", field="annotations")
    used: set[int] = set()
    cleaned = []
    for n, source in enumerate(value):
        where = f"task {key} source {n}"
        components = source.get("components") if isinstance(source, dict) else None
        if not isinstance(components, list) or not components:
            raise InvalidInput(f"{where}: components must be a non-empty list of indices", field="annotations")
        for index in components:
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise InvalidInput(f"{where}: component {index!r} is not an index", field="annotations")
            if frame is not None and index >= frame.components:
                raise InvalidInput(
                    f"{where}: component {index} does not exist ({frame.components} on this subject)",
                    field="annotations",
                )
            if index in used:
                raise InvalidInput(f"{where}: component {index} belongs to another source", field="annotations")
            used.add(index)
        host = source.get("host")
        if host is not None:
            if not isinstance(host, dict):
                raise InvalidInput(f"{where}: host must be an object with x and y, or null", field="annotations")
            host = {"x": _number(where, "host x", host.get("x")), "y": _number(where, "host y", host.get("y"))}
            _inside(where, host["x"], host["y"], frame)
        cleaned.append({"components": sorted(components), "host": host})
    return cleaned


def _number(where: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{where}: {name} must be a number", field="annotations")
    if not math.isfinite(value):
        raise InvalidInput(f"{where}: {name} must be a finite number, not {value}", field="annotations")
    return float(value)


def _anchor_points(shape: str, n: dict) -> list[tuple[float, float]]:
    if shape == "line":
        return [(n["x1"], n["y1"]), (n["x2"], n["y2"])]
    if shape == "rectangle":
        return [(n["x"], n["y"]), (n["x"] + n["width"], n["y"] + n["height"])]
    return [(n["x"], n["y"])]


def _inside(where: str, x: float, y: float, frame: SubjectFrame | None) -> None:
    if frame is not None and not (0 <= x <= frame.width and 0 <= y <= frame.height):
        raise InvalidInput(
            f"{where}: ({x:g}, {y:g}) is outside the {frame.width}x{frame.height} image", field="annotations"
        )


def mark_centre(shape: str, mark: dict) -> tuple[float, float] | None:
    if shape == "line":
        return (mark["x1"] + mark["x2"]) / 2, (mark["y1"] + mark["y2"]) / 2
    if shape == "rectangle":
        return mark["x"] + mark["width"] / 2, mark["y"] + mark["height"] / 2
    if "x" in mark and "y" in mark:
        return mark["x"], mark["y"]
    return None


def annotations_with_sky(annotations: list, tasks: dict, cutout) -> list:
    """Annotations as stored, with RA and Dec (degrees) added to every mark's centre and every host
    (null where the cutout has no WCS). Answers to other tasks pass through unchanged."""
    targets: list[dict] = []  # the dicts that receive ra_deg / dec_deg
    points: list[tuple[float, float]] = []
    out = []
    for item in annotations:
        task = tasks.get(item.get("task"), {})
        kind = task.get("type")
        value = item.get("value")
        if kind == "drawing" and isinstance(value, list):
            tools = task.get("tools", [])
            marks = []
            for mark in value:
                mark = dict(mark)
                tool = mark.get("tool")
                shape = tools[tool]["type"] if isinstance(tool, int) and 0 <= tool < len(tools) else ""
                centre = mark_centre(shape, mark)
                if centre is not None:
                    targets.append(mark)
                    points.append(centre)
                marks.append(mark)
            item = {**item, "value": marks}
        elif kind == "radio_components" and isinstance(value, list):
            sources = []
            for source in value:
                source = dict(source)
                if isinstance(source.get("host"), dict):
                    source["host"] = dict(source["host"])
                    targets.append(source["host"])
                    points.append((source["host"]["x"], source["host"]["y"]))
                sources.append(source)
            item = {**item, "value": sources}
        out.append(item)
    if targets:
        xs, ys = (np.array(column, dtype=float) for column in zip(*points, strict=True))
        sky = ml.marks_to_sky(cutout.wcs_header, cutout.height, xs, ys)
        for i, target in enumerate(targets):
            target["ra_deg"] = float(sky[0][i]) if sky is not None else None
            target["dec_deg"] = float(sky[1][i]) if sky is not None else None
    return out


def has_marks(tasks: dict) -> bool:
    return any(task.get("type") in {"drawing", "radio_components"} for task in tasks.values())


# Every shape Zooniverse's classifiers draw (their annotations name it in ``toolType``).
ZOONIVERSE_SHAPES = set(DRAWING_TOOLS) | {
    "anchoredEllipse",
    "bezier",
    "column",
    "fan",
    "freehandLine",
    "freehandSegmentLine",
    "freehandSegmentShape",
    "freehandShape",
    "fullHeightLine",
    "fullWidthLine",
    "grid",
    "pointGrid",
    "polygon",
    "rotateRectangle",
    "temporalPoint",
    "temporalRotateRectangle",
    "transcriptionLine",
    "triangle",
}


def export_marks_problem(annotations, tasks: dict) -> str:
    """Why a Zooniverse export's drawing marks cannot be read ("" when they can): a mark from a tool
    the workflow does not have, of an unknown shape, or with a coordinate that is not a finite number."""
    for item in annotations if isinstance(annotations, list) else []:
        value = item.get("value") if isinstance(item, dict) else None
        task = tasks.get(item.get("task"), {}) if isinstance(item, dict) else {}
        marks = [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []
        if task.get("type") != "drawing" and not any("tool" in m or "toolIndex" in m for m in marks):
            continue
        tools = task.get("tools", [])
        for n, mark in enumerate(marks):
            where = f"task {item.get('task')} mark {n}"
            index = mark.get("tool", mark.get("toolIndex"))
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                return f"{where}: no tool index"
            if tools and index >= len(tools):
                return f"{where}: unknown tool {index} (the workflow's task has {len(tools)})"
            shape = mark.get("toolType") or (tools[index].get("type") if tools else None)
            if shape is not None and shape not in ZOONIVERSE_SHAPES:
                return f"{where}: unknown tool type {str(shape)[:40]!r}"
            for name in ("x", "y", "r", "rx", "ry", "width", "height", "x1", "y1", "x2", "y2"):
                number = mark.get(name)
                if isinstance(number, float) and not math.isfinite(number):
                    return f"{where}: {name} is not a finite number"
    return ""
