"""What the data browser can ask for: one frozen set of filters and a sort, checked before any query."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import InvalidInput

# Sort keys the browser offers; a leading "-" reverses. Score sorts need a classifier task.
SORT_KEYS = ("id", "name", "created", "complexity", "priority", "uncertainty", "score", "classifications")
SCORE_SORTS = {"uncertainty", "score"}


@dataclass(frozen=True)
class BrowseFilters:
    survey: str = ""  # name or id
    subject_set: int | None = None
    workflow: int | None = None
    label: str = ""  # the catalogue or expert label kept in the cutout's metadata
    consensus: str = ""  # the volunteers' most likely answer to the workflow's first question
    retired: bool | None = None  # in the workflow, or in any workflow
    complexity_min: float | None = None  # percentile within the survey, 0-100
    complexity_max: float | None = None
    task: str = ""  # classifier task whose scores the next filters read
    prediction: str = ""
    score_class: str = ""
    score_min: float | None = None  # probability of score_class, 0-1
    score_max: float | None = None
    uncertainty_min: float | None = None  # predictive entropy, nats
    uncertainty_max: float | None = None
    synthetic: bool | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)  # every one of them
    q: str = ""  # part of the catalogue name
    sort: str = "id"

    def __post_init__(self):
        key = self.sort.removeprefix("-")
        if key not in SORT_KEYS:
            raise InvalidInput(f"sort must be one of {', '.join(SORT_KEYS)} (with - to reverse)", field="sort")
        needs_task = [
            name
            for name in ("prediction", "score_class", "score_min", "score_max", "uncertainty_min", "uncertainty_max")
            if getattr(self, name) not in (None, "")
        ]
        if key in SCORE_SORTS:
            needs_task.append(f"sort={self.sort}")
        if needs_task and not self.task:
            raise InvalidInput(f"{needs_task[0]} needs a classifier task (task=NAME)", field="task")
        if (self.score_min is not None or self.score_max is not None or key == "score") and not self.score_class:
            raise InvalidInput(
                "a score range or sort needs the class it is the probability of (score_class)", field="score_class"
            )
        if self.consensus and self.workflow is None:
            raise InvalidInput("consensus is a workflow's: name the workflow (workflow=ID)", field="consensus")
        for low, high in (
            ("complexity_min", "complexity_max"),
            ("score_min", "score_max"),
            ("uncertainty_min", "uncertainty_max"),
        ):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise InvalidInput(f"{low} ({lo}) is above {high} ({hi})", field=low)
