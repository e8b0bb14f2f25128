"""Consensus on marks: point clusters of drawing tasks, and the radio sources of radio-component tasks.

Point marks are clustered per subject, task and tool with DBSCAN and panoptes_aggregation's
point-reducer parameters, and circles, ellipses, rectangles and lines as its shape reducer
(shape_reducer_dbscan) clusters them: DBSCAN in the space of the shape's parameters, an ellipse's
angle taken round the circle (mlcore.marks). A radio-component answer groups contour components into
sources: the consensus grouping is the one most volunteers gave, and each of its sources gets a
host position clustered from the hosts that volunteers marked for exactly those components.
Imported Zooniverse classifications count as the platform's do (their marks carry ``tool`` or,
from the newer classifier, ``toolIndex``). Shares are of volunteers, not of marks.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from . import ml
from .drawing import mark_centre
from .models import Classification, Cutout, Workflow, WorkflowVersion

MARK_TYPES = {"drawing", "radio_components"}


@dataclass
class ConsensusPoint:
    x: float  # image pixels of the radio frame
    y: float
    count: int  # marks in the cluster
    volunteers: int  # distinct volunteers among them
    share: float  # volunteers / volunteers who answered
    spread_px: float | None
    spread_arcsec: float | None = None
    ra_deg: float | None = None
    dec_deg: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ConsensusShape:
    shape: str  # circle, ellipse, rectangle or line
    params: dict[str, float]  # the average shape, Zooniverse's field names, image pixels
    count: int  # marks in the cluster
    volunteers: int
    share: float  # volunteers / volunteers who answered
    ra_deg: float | None = None  # the shape's centre on the sky
    dec_deg: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ConsensusSource:
    components: tuple[int, ...]
    votes: int  # volunteers who grouped exactly these components as one source
    share: float
    host: ConsensusPoint | None = None
    host_votes: int = 0  # volunteers who marked a host for this source

    def as_dict(self) -> dict:
        return {
            "components": list(self.components),
            "votes": self.votes,
            "share": self.share,
            "host": self.host.as_dict() if self.host else None,
            "host_votes": self.host_votes,
        }


@dataclass
class MarkConsensus:
    subject_id: int
    task: str
    kind: str  # drawing or radio_components
    num_votes: int  # volunteers who answered the task
    clusters: dict[int, list[ConsensusPoint]] = field(default_factory=dict)  # drawing: tool -> point clusters
    shapes: dict[int, list[ConsensusShape]] = field(default_factory=dict)  # drawing: tool -> other shapes' clusters
    sources: list[ConsensusSource] = field(default_factory=list)  # radio_components: the consensus grouping
    grouping_votes: int = 0  # volunteers who gave exactly the consensus grouping

    @property
    def agreement(self) -> float:
        """Radio components: the consensus grouping's share. Drawing: the largest cluster's share."""
        if self.kind == "radio_components":
            return self.grouping_votes / self.num_votes if self.num_votes else 0.0
        shares = [c.share for clusters in (*self.clusters.values(), *self.shapes.values()) for c in clusters]
        return max(shares, default=0.0)

    def as_dict(self) -> dict:
        data = {
            "subject": self.subject_id,
            "task": self.task,
            "kind": self.kind,
            "num_votes": self.num_votes,
            "agreement": self.agreement,
        }
        if self.kind == "radio_components":
            data["sources"] = [s.as_dict() for s in self.sources]
        else:
            data["clusters"] = {str(tool): [c.as_dict() for c in cs] for tool, cs in self.clusters.items()}
            data["shapes"] = {str(tool): [c.as_dict() for c in cs] for tool, cs in self.shapes.items()}
        return data


def mark_consensus(
    *,
    workflow: Workflow,
    subject_ids: list[int] | None = None,
    include_expert: bool = False,
    config: ml.PointClusterConfig | None = None,
) -> dict[tuple[int, str], MarkConsensus]:
    """(subject id, task) -> consensus on the marks of drawing and radio-component tasks."""
    config = config or ml.PointClusterConfig()
    versions = {v.pk: v for v in WorkflowVersion.objects.filter(workflow=workflow)}
    answers: dict[tuple[int, str], list[tuple[str, dict, list]]] = defaultdict(list)
    rows = Classification.objects.filter(workflow=workflow)
    if subject_ids is not None:
        rows = rows.filter(subject_id__in=subject_ids)
    if not include_expert:
        rows = rows.filter(expert=False)
    rows = rows.values_list("subject_id", "workflow_version_id", "annotations", "volunteer_key")
    for subject_id, version_id, stored, volunteer in rows.iterator(chunk_size=2000):
        tasks = versions[version_id].tasks
        for item in stored or []:
            task = tasks.get(item.get("task") if isinstance(item, dict) else None, {})
            if task.get("type") in MARK_TYPES and isinstance(item.get("value"), list):
                answers[(subject_id, item["task"])].append((volunteer, task, item["value"]))
    frames = {
        c.pk: c for c in Cutout.objects.filter(pk__in={s for s, _ in answers}).only("wcs_header", "height", "width")
    }
    result = {}
    for (subject_id, key), given in answers.items():
        cutout = frames[subject_id]
        kind = given[0][1]["type"]
        consensus = MarkConsensus(subject_id=subject_id, task=key, kind=kind, num_votes=len({v for v, _, _ in given}))
        if kind == "drawing":
            _drawing(consensus, given, config)
        else:
            _components(consensus, given, config)
        _place_on_sky(consensus, cutout)
        result[(subject_id, key)] = consensus
    return result


def _tool_index(mark: dict) -> int | None:
    tool = mark.get("tool", mark.get("toolIndex"))
    return tool if isinstance(tool, int) and not isinstance(tool, bool) else None


def _finite_xy(mark) -> tuple[float, float] | None:
    if not isinstance(mark, dict):
        return None
    x, y = mark.get("x"), mark.get("y")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in (x, y)):
        return None
    return float(x), float(y)


def _clusters(points: list[tuple[str, float, float]], answered: int, config) -> list[ConsensusPoint]:
    if not points:
        return []
    volunteers = [p[0] for p in points]
    xs = np.array([p[1] for p in points])
    ys = np.array([p[2] for p in points])
    out = []
    for cluster in ml.cluster_points(xs, ys, config):
        who = len({volunteers[i] for i in cluster.members})
        out.append(
            ConsensusPoint(
                x=cluster.x,
                y=cluster.y,
                count=cluster.count,
                volunteers=who,
                share=who / answered if answered else 0.0,
                spread_px=cluster.spread,
            )
        )
    return out


def _drawing(consensus: MarkConsensus, given: list, config) -> None:
    by_tool: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
    shapes: dict[int, tuple[str, list[tuple[str, tuple[float, ...]]]]] = {}
    for volunteer, task, marks in given:
        tools = task.get("tools", [])
        for mark in marks:
            tool = _tool_index(mark) if isinstance(mark, dict) else None
            if tool is None or tool >= len(tools):
                continue
            shape = tools[tool].get("type")
            if shape == "point":
                xy = _finite_xy(mark)
                if xy is not None:
                    by_tool[tool].append((volunteer, *xy))
            elif shape in ml.SHAPE_PARAMS:
                values = _finite_params(mark, ml.SHAPE_PARAMS[shape])
                if values is not None:
                    shapes.setdefault(tool, (shape, []))[1].append((volunteer, values))
    consensus.clusters = {tool: _clusters(points, consensus.num_votes, config) for tool, points in by_tool.items()}
    consensus.shapes = {
        tool: _shape_clusters(shape, drawn, consensus.num_votes, config) for tool, (shape, drawn) in shapes.items()
    }


def _finite_params(mark: dict, names: tuple[str, ...]) -> tuple[float, ...] | None:
    values = [mark.get(name) for name in names]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in values):
        return None
    return tuple(float(v) for v in values)


def _shape_clusters(shape: str, drawn: list, answered: int, config) -> list[ConsensusShape]:
    params = np.array([values for _, values in drawn])
    out = []
    for cluster in ml.cluster_shapes(shape, params, config):
        who = len({drawn[i][0] for i in cluster.members})
        share = who / answered if answered else 0.0
        out.append(ConsensusShape(shape, cluster.params, cluster.count, who, share))
    return out


def _components(consensus: MarkConsensus, given: list, config) -> None:
    groupings: Counter = Counter()
    hosts: dict[tuple[int, ...], list[tuple[str, float, float]]] = defaultdict(list)
    sources_by: Counter = Counter()
    for volunteer, _, sources in given:
        grouping = []
        for source in sources:
            if not isinstance(source, dict) or not isinstance(source.get("components"), list):
                continue
            components = tuple(sorted(c for c in source["components"] if isinstance(c, int)))
            grouping.append(components)
            sources_by[components] += 1
            xy = _finite_xy(source.get("host"))
            if xy is not None:
                hosts[components].append((volunteer, *xy))
        groupings[tuple(sorted(grouping))] += 1
    if not groupings:
        return
    best, votes = groupings.most_common(1)[0]
    consensus.grouping_votes = votes
    for components in best:
        marked = hosts.get(components, [])
        host_voters = len({v for v, _, _ in marked})
        clusters = _clusters(marked, host_voters, config)
        consensus.sources.append(
            ConsensusSource(
                components=components,
                votes=sources_by[components],
                share=sources_by[components] / consensus.num_votes,
                host=clusters[0] if clusters else None,
                host_votes=host_voters,
            )
        )


def _place_on_sky(consensus: MarkConsensus, cutout: Cutout) -> None:
    shapes = [c for cs in consensus.shapes.values() for c in cs]
    if shapes and cutout.wcs_header:
        centres = [mark_centre(c.shape, c.params) for c in shapes]
        xs, ys = (np.array(column) for column in zip(*centres, strict=True))
        ra, dec = ml.marks_to_sky(cutout.wcs_header, cutout.height, xs, ys)
        for shape, r, d in zip(shapes, ra, dec, strict=True):
            shape.ra_deg, shape.dec_deg = float(r), float(d)
    points = [c for cs in consensus.clusters.values() for c in cs] + [s.host for s in consensus.sources if s.host]
    if not points or not cutout.wcs_header:
        return
    scale = ml.pixel_scale_arcsec(cutout.wcs_header)
    ra, dec = ml.marks_to_sky(
        cutout.wcs_header, cutout.height, np.array([p.x for p in points]), np.array([p.y for p in points])
    )
    for point, r, d in zip(points, ra, dec, strict=True):
        point.ra_deg, point.dec_deg = float(r), float(d)
        if point.spread_px is not None and scale:
            point.spread_arcsec = point.spread_px * scale
