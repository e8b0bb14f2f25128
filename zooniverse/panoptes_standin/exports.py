"""Exports the way Panoptes makes them: requested, polled until ready, then fetched without auth."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets

from ..export_reader import CLASSIFICATION_COLUMNS, WORKFLOW_COLUMNS  # plain Python: the format, no Django
from .wire import ApiError, Reply, Request, etag_of, json_reply


class ExportRoutes:
    """The export endpoints of ``PanoptesStandin`` (a mixin: it uses ``self.state`` and ``self.base_url``)."""

    def export(self, kind: str, rid: str, export_type: str, request: Request) -> Reply:
        if kind not in ("projects", "workflows") or export_type not in ("classifications", "workflows", "subjects"):
            raise ApiError(404, f"no {export_type} export for {kind}")
        key = (kind, rid, export_type)
        with self.state.lock:
            self._get(kind, rid)
            if request.method == "POST":
                token = secrets.token_hex(12)
                self.state.exports[key] = {
                    "token": token,
                    "polls": 0,
                    "csv": self._build_export(kind, rid, export_type),
                }
            record = self.state.exports.get(key)
            if record is None:
                raise ApiError(404, f"no {export_type} export has been requested")
            if request.method == "GET":
                record["polls"] += 1
            ready = request.method == "GET" and record["polls"] >= self.state.export_polls_until_ready
            if ready:
                self.state.export_files[record["token"]] = record["csv"]
            media = {
                "id": record["token"],
                "src": f"{self.base_url}/export-files/{record['token']}" if ready else None,
                "content_type": "text/csv",
                "metadata": {"state": "ready" if ready else "creating"},
            }
        return json_reply({"media": [media]}, 201 if request.method == "POST" else 200, etag=etag_of(media))

    def export_file(self, token: str) -> Reply:
        with self.state.lock:
            text = self.state.export_files.get(token)
        if text is None:
            return Reply(404, b"no such export", "text/plain")
        return Reply(200, text.encode(), "text/csv")

    def _build_export(self, kind: str, rid: str, export_type: str) -> str:
        out = io.StringIO()
        if export_type == "classifications":
            workflows = [rid] if kind == "workflows" else self.state.resources["projects"][rid]["links"]["workflows"]
            writer = csv.writer(out)
            writer.writerow(CLASSIFICATION_COLUMNS)
            for row in self.state.classifications:
                if row["workflow_id"] in workflows:
                    writer.writerow(self._classification_row(row))
        elif export_type == "workflows":
            writer = csv.writer(out)
            writer.writerow(WORKFLOW_COLUMNS)
            workflows = [rid] if kind == "workflows" else self.state.resources["projects"][rid]["links"]["workflows"]
            for wid in workflows:
                w = self.state.resources["workflows"][wid]
                major, minor = w["version"].split(".")
                writer.writerow(
                    [wid, w["display_name"], major, "true", 0, "false", "false", str(w["prioritized"]).lower(), "en",
                     w["first_task"], "", 0, json.dumps(w["tasks"]), json.dumps(w["retirement"]),
                     json.dumps(w["strings"]), minor]
                )  # fmt: skip
        else:
            writer = csv.writer(out)
            writer.writerow(["subject_id", "project_id", "workflow_id", "subject_set_id", "metadata", "locations"])
            for set_id, subjects in self.state.members.items():
                for sid in subjects:
                    subject = self.state.resources["subjects"][sid]
                    locations = {str(i): next(iter(loc.values())) for i, loc in enumerate(subject["locations"])}
                    writer.writerow(
                        [sid, subject["links"]["project"], "", set_id, json.dumps(subject["metadata"]),
                         json.dumps(locations)]
                    )  # fmt: skip
        return out.getvalue()

    def _classification_row(self, row: dict) -> list:
        workflow = self.state.resources["workflows"][row["workflow_id"]]
        subject = self.state.resources["subjects"][row["subject_id"]]
        retired = self.state.retired.get(row["workflow_id"], {}).get(row["subject_id"])
        subject_data = {row["subject_id"]: {"retired": {"reason": retired} if retired else None, **subject["metadata"]}}
        metadata = {"source": "api", "user_language": "en", "started_at": row["created_at"]}
        user_hash = hashlib.sha1(row["user_name"].encode()).hexdigest()[:8]
        return [
            row["id"],
            row["user_name"],
            int(user_hash, 16) % 10_000_000,
            user_hash,
            row["workflow_id"],
            workflow["display_name"],
            workflow["version"],
            row["created_at"],
            "true" if row["gold_standard"] else "",
            "",
            json.dumps(metadata),
            json.dumps(row["annotations"]),
            json.dumps(subject_data),
            row["subject_id"],
        ]
