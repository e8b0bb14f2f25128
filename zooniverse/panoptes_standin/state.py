"""What the stand-in knows: projects, workflows, subjects, uploads, classifications, planned faults."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class PlannedFault:
    method: str
    path: re.Pattern
    status: int
    times: int
    after: int = 0  # matching requests to let through before failing


@dataclass
class StandinState:
    """Everything the stand-in knows; guarded by one lock."""

    username: str = "rgz-sync"
    password: str = "standin-password"
    client_id: str = ""
    client_secret: str = ""
    user_id: str = "42"
    export_polls_until_ready: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)
    next_id: int = 1000
    csrf_tokens: set = field(default_factory=set)
    sessions: set = field(default_factory=set)
    tokens: set = field(default_factory=set)
    refresh_tokens: set = field(default_factory=set)
    resources: dict = field(
        default_factory=lambda: {k: {} for k in ("projects", "workflows", "subject_sets", "subjects")}
    )
    members: dict = field(default_factory=dict)  # subject set id -> [subject ids]
    uploads: dict = field(default_factory=dict)  # upload token -> (subject id, media type)
    media: dict = field(default_factory=dict)  # subject id -> bytes
    retired: dict = field(default_factory=dict)  # workflow id -> {subject id: reason}
    classifications: list = field(default_factory=list)
    exports: dict = field(default_factory=dict)  # (kind, resource id, export type) -> export record
    export_files: dict = field(default_factory=dict)  # file token -> csv text
    faults: list = field(default_factory=list)
    log: list = field(default_factory=list)  # (method, path, status, headers of interest)

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    # -- seeding, for tests and demos ---------------------------------------------------------
    def add_project(self, display_name: str, slug: str) -> str:
        with self.lock:
            pid = self.new_id()
            self.resources["projects"][pid] = {
                "id": pid,
                "display_name": display_name,
                "slug": slug,
                "links": {"workflows": [], "subject_sets": []},
            }
            return pid

    def add_workflow(self, project_id: str, display_name: str, *, tasks=None, strings=None, version="1.1") -> str:
        with self.lock:
            wid = self.new_id()
            major, minor = version.split(".")
            self.resources["workflows"][wid] = {
                "id": wid,
                "display_name": display_name,
                "active": True,
                "configuration": {},
                "first_task": "T0",
                "primary_language": "en",
                "prioritized": False,
                "retirement": {"criteria": "classification_count", "options": {"count": 15}},
                "tasks": tasks or {},
                "strings": strings or {},
                "version": f"{major}.{minor}",
                "links": {"project": project_id, "subject_sets": []},
            }
            self.resources["projects"][project_id]["links"]["workflows"].append(wid)
            return wid

    def add_classification(
        self, *, workflow_id: str, subject_id: str, user_name: str, annotations: list, gold_standard=False
    ) -> str:
        """A volunteer's classification made on the live project (what the export will contain)."""
        with self.lock:
            if subject_id not in self.resources["subjects"]:
                raise KeyError(f"no subject {subject_id}")
            cid = self.new_id()
            self.classifications.append(
                {
                    "id": cid,
                    "workflow_id": workflow_id,
                    "subject_id": subject_id,
                    "user_name": user_name,
                    "annotations": annotations,
                    "gold_standard": gold_standard,
                    "created_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                }
            )
            return cid

    def fail_next(self, method: str, path_pattern: str, *, status: int = 503, times: int = 1, after: int = 0) -> None:
        """Let ``after`` matching requests through, then answer ``times`` of them with ``status`` (an outage)."""
        with self.lock:
            self.faults.append(PlannedFault(method.upper(), re.compile(path_pattern), status, times, after))

    def requests(self, method: str | None = None, pattern: str = "") -> list[tuple]:
        with self.lock:
            return [
                entry for entry in self.log if (method is None or entry[0] == method) and re.search(pattern, entry[1])
            ]
