"""A Panoptes stand-in: the subset of Zooniverse's API that panoptes-client 1.7 uses, served on loopback.

It keeps its state in memory and speaks as Panoptes does: the sign-in and OAuth token flow,
JSON:API envelopes with string ids, an ``ETag`` on every resource reply and ``If-Match`` checks
on PUT, upload URLs for subject media, and classification / workflow exports that are generated
and then polled until ready. Tests start it with ``StandinServer``; ``manage.py panoptes_standin``
runs it for trying the sync by hand. Faults (a 5xx on a chosen request) can be planned with
``fail_next`` to check that a sync stopped half-way leaves the platform consistent.

It is plain WSGI with no Django, so that the platform and the stand-in share nothing but HTTP.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .exports import CLASSIFICATION_COLUMNS, WORKFLOW_COLUMNS  # plain Python: the format, no Django

JSON_API = "application/vnd.api+json; version=1"
PAGE_SIZE = 20


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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


class Request:
    def __init__(self, environ: dict):
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = environ.get("PATH_INFO", "/")
        self.query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        cookies = self.headers.get("cookie", "")
        self.cookies = dict(part.strip().split("=", 1) for part in cookies.split(";") if "=" in part)

    def json(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            raise ApiError(400, "the request body is not JSON")

    def form(self) -> dict:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}


class Reply:
    def __init__(self, status: int = 200, body: bytes = b"", content_type: str = "application/json", headers=None):
        self.status = status
        self.body = body
        self.headers = [("Content-Type", content_type), *(headers or [])]


def _json_reply(payload: dict, status: int = 200, etag: str | None = None, headers=None) -> Reply:
    extra = list(headers or [])
    if etag:
        extra.append(("ETag", etag))
    return Reply(status, json.dumps(payload).encode(), JSON_API if status < 400 else "application/json", extra)


def _etag(resource: dict) -> str:
    return 'W/"' + hashlib.sha1(json.dumps(resource, sort_keys=True).encode()).hexdigest() + '"'


class PanoptesStandin:
    """The WSGI application."""

    def __init__(self, state: StandinState, base_url: str = ""):
        self.state = state
        self.base_url = base_url

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            reply = self._planned_fault(request) or self.route(request)
        except ApiError as error:
            reply = _json_reply({"errors": [{"message": error.message}]}, error.status)
        with self.state.lock:
            self.state.log.append((request.method, request.path, reply.status, request.headers.get("if-match", "")))
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", reply.headers)
        return [reply.body]

    def _planned_fault(self, request: Request) -> Reply | None:
        with self.state.lock:
            for fault in self.state.faults:
                if fault.times > 0 and fault.method == request.method and fault.path.search(request.path):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    return _json_reply({"errors": [{"message": "planned outage"}]}, fault.status)
        return None

    # -- routing ----------------------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        path, method = request.path.rstrip("/"), request.method
        if path == "/users/sign_in":
            return self.sign_in(request)
        if path == "/oauth/token" and method == "POST":
            return self.token(request)
        if path.startswith("/uploads/") and method == "PUT":
            return self.upload(request, path.rsplit("/", 1)[1])
        if path.startswith("/export-files/") and method == "GET":
            return self.export_file(path.rsplit("/", 1)[1])
        if not path.startswith("/api/"):
            raise ApiError(404, f"no route {method} {path}")
        parts = path[len("/api/") :].split("/")
        if method != "GET":
            self.require_token(request)
        kind = parts[0]
        if kind == "set_member_subjects" and method == "GET":
            return self.set_members(request)
        if kind not in self.state.resources:
            raise ApiError(404, f"unknown resource type {kind}")
        if len(parts) == 1:
            if method == "GET":
                return self.index(kind, request)
            if method == "POST":
                return self.create(kind, request)
        elif len(parts) == 2:
            if method == "GET":
                return self.show(kind, parts[1])
            if method == "PUT":
                return self.update(kind, parts[1], request)
        elif len(parts) == 3 and parts[2].endswith("_export"):
            return self.export(kind, parts[1], parts[2][: -len("_export")], request)
        elif len(parts) == 3 and parts[2] == "retired_subjects" and kind == "workflows" and method == "POST":
            return self.retire(parts[1], request)
        elif len(parts) == 4 and parts[2] == "links" and method == "POST":
            return self.add_links(kind, parts[1], parts[3], request)
        raise ApiError(404, f"no route {method} {path}")

    # -- authentication ---------------------------------------------------------------------
    def sign_in(self, request: Request) -> Reply:
        state = self.state
        if request.method == "GET":
            token = secrets.token_hex(16)
            with state.lock:
                state.csrf_tokens.add(token)
            return Reply(200, b"{}", headers=[("x-csrf-token", token)])
        body = request.json()
        user = body.get("user") or {}
        with state.lock:
            if body.get("authenticity_token") not in state.csrf_tokens:
                raise ApiError(422, "invalid authenticity token")
            if user.get("login") != state.username or user.get("password") != state.password:
                return Reply(401, json.dumps({"error": "Invalid login or password."}).encode())
            session = secrets.token_hex(16)
            state.sessions.add(session)
        cookie = f"_Panoptes_session={session}; path=/; HttpOnly"
        payload = {"users": [{"id": state.user_id, "login": state.username}]}
        return Reply(200, json.dumps(payload).encode(), headers=[("Set-Cookie", cookie)])

    def token(self, request: Request) -> Reply:
        form, state = request.form(), self.state
        grant = form.get("grant_type")
        with state.lock:
            if grant == "password":
                if request.cookies.get("_Panoptes_session") not in state.sessions:
                    raise ApiError(401, "sign in first")
            elif grant == "client_credentials":
                if not state.client_secret or (form.get("client_id"), form.get("client_secret")) != (
                    state.client_id,
                    state.client_secret,
                ):
                    raise ApiError(401, "invalid client credentials")
            elif grant == "refresh_token":
                if form.get("refresh_token") not in state.refresh_tokens:
                    raise ApiError(401, "invalid refresh token")
            else:
                raise ApiError(400, f"unsupported grant_type {grant!r}")
            access, refresh = secrets.token_hex(20), secrets.token_hex(20)
            state.tokens.add(access)
            state.refresh_tokens.add(refresh)
        payload = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 7200,
            "refresh_token": refresh,
            "scope": "public project",
        }
        return Reply(200, json.dumps(payload).encode())

    def require_token(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        with self.state.lock:
            if token not in self.state.tokens:
                raise ApiError(401, "you must be signed in to change anything")

    # -- resources --------------------------------------------------------------------------
    def _get(self, kind: str, rid: str) -> dict:
        resource = self.state.resources[kind].get(str(rid))
        if resource is None:
            raise ApiError(404, f"Could not find {kind} with id='{rid}'")
        return resource

    def _page(self, kind: str, rows: list[dict], request: Request) -> Reply:
        page = int(request.query.get("page", 1))
        size = int(request.query.get("page_size", PAGE_SIZE))
        count = max(1, -(-len(rows) // size))
        chunk = rows[(page - 1) * size : page * size]
        next_href = None
        if page < count:
            query = "&".join(f"{k}={v}" for k, v in request.query.items() if k != "page")
            next_href = f"/{kind}?page={page + 1}" + (f"&{query}" if query else "")
        meta = {
            kind: {"page": page, "page_size": size, "count": len(rows), "page_count": count, "next_href": next_href}
        }
        # A one-row page carries that resource's own ETag: the client's find() then save() sends it back.
        etag = _etag(chunk[0]) if len(chunk) == 1 else _etag({"rows": chunk})
        return _json_reply({kind: chunk, "meta": meta}, etag=etag)

    def index(self, kind: str, request: Request) -> Reply:
        with self.state.lock:
            rows = list(self.state.resources[kind].values())
            if "id" in request.query:
                wanted = set(request.query["id"].split(","))
                rows = [row for row in rows if row["id"] in wanted]
            if "slug" in request.query:
                rows = [row for row in rows if row.get("slug") == request.query["slug"]]
            if kind == "subjects" and "subject_set_id" in request.query:
                wanted = set(self.state.members.get(request.query["subject_set_id"], []))
                rows = [row for row in rows if row["id"] in wanted]
            return self._page(kind, rows, request)

    def show(self, kind: str, rid: str) -> Reply:
        with self.state.lock:
            resource = self._get(kind, rid)
            return _json_reply({kind: [resource]}, etag=_etag(resource))

    def create(self, kind: str, request: Request) -> Reply:
        body = request.json().get(kind)
        if not isinstance(body, dict):
            raise ApiError(422, f"the body must hold a {kind} object")
        with self.state.lock:
            project = str((body.get("links") or {}).get("project", ""))
            self._get("projects", project)
            rid = self.state.new_id()
            if kind == "subject_sets":
                resource = {
                    "id": rid,
                    "display_name": body.get("display_name") or "",
                    "metadata": body.get("metadata") or {},
                    "set_member_subjects_count": 0,
                    "links": {"project": project, "workflows": []},
                }
                self.state.members[rid] = []
                self.state.resources["projects"][project]["links"]["subject_sets"].append(rid)
            elif kind == "subjects":
                locations = []
                for media_type in body.get("locations") or []:
                    if not isinstance(media_type, str):
                        locations.append(media_type)  # a remote URL: nothing to upload
                        continue
                    token = secrets.token_hex(12)
                    self.state.uploads[token] = (rid, media_type)
                    locations.append({media_type: f"{self.base_url}/uploads/{token}"})
                resource = {"id": rid, "locations": locations, "metadata": body.get("metadata") or {}}
                resource["links"] = {"project": project}
            else:
                raise ApiError(405, f"{kind} cannot be created here")
            self.state.resources[kind][rid] = resource
            return _json_reply({kind: [resource]}, 201, etag=_etag(resource))

    def update(self, kind: str, rid: str, request: Request) -> Reply:
        body = request.json().get(kind)
        if not isinstance(body, dict):
            raise ApiError(422, f"the body must hold a {kind} object")
        with self.state.lock:
            resource = self._get(kind, rid)
            if request.headers.get("if-match") != _etag(resource):
                raise ApiError(412, "the resource changed since it was read (If-Match does not match its ETag)")
            for key, value in body.items():
                if key == "links":
                    continue
                if key not in resource:
                    raise ApiError(422, f"{key} is not an attribute of {kind}")
                resource[key] = value
            return _json_reply({kind: [resource]}, etag=_etag(resource))

    def add_links(self, kind: str, rid: str, link: str, request: Request) -> Reply:
        ids = [str(i) for i in request.json().get(link) or []]
        with self.state.lock:
            resource = self._get(kind, rid)
            if kind == "subject_sets" and link == "subjects":
                for sid in ids:
                    self._get("subjects", sid)
                    if sid not in self.state.members[rid]:
                        self.state.members[rid].append(sid)
                resource["set_member_subjects_count"] = len(self.state.members[rid])
            elif kind == "workflows" and link == "subject_sets":
                for sid in ids:
                    subject_set = self._get("subject_sets", sid)
                    if sid not in resource["links"]["subject_sets"]:
                        resource["links"]["subject_sets"].append(sid)
                        subject_set["links"]["workflows"].append(rid)
            else:
                raise ApiError(404, f"{kind} have no {link} links here")
            return _json_reply({kind: [resource]}, etag=_etag(resource))

    def set_members(self, request: Request) -> Reply:
        set_id, subject_id = request.query.get("subject_set_id"), request.query.get("subject_id")
        with self.state.lock:
            rows = []
            for sid, subjects in self.state.members.items():
                if set_id and sid != set_id:
                    continue
                for member in subjects:
                    if subject_id and member != subject_id:
                        continue
                    rows.append({"id": f"{sid}-{member}", "links": {"subject_set": sid, "subject": member}})
            return self._page("set_member_subjects", rows, request)

    def retire(self, workflow_id: str, request: Request) -> Reply:
        body = request.json()
        with self.state.lock:
            self._get("workflows", workflow_id)
            retired = self.state.retired.setdefault(workflow_id, {})
            for sid in body.get("subject_ids") or []:
                self._get("subjects", str(sid))
                retired[str(sid)] = body.get("retirement_reason", "other")
        return Reply(204, b"")

    def upload(self, request: Request, token: str) -> Reply:
        with self.state.lock:
            if token not in self.state.uploads:
                return Reply(404, b"unknown upload url", "text/plain")
            subject_id, media_type = self.state.uploads[token]
            if request.headers.get("content-type") != media_type:
                return Reply(400, b"content type differs from the one announced", "text/plain")
            self.state.media[subject_id] = request.body
        return Reply(201, b"", "text/plain")

    # -- exports ----------------------------------------------------------------------------
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
        return _json_reply({"media": [media]}, 201 if request.method == "POST" else 200, etag=_etag(media))

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


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class StandinServer:
    """The stand-in on a loopback port, served from a background thread."""

    def __init__(self, state: StandinState | None = None, host: str = "127.0.0.1", port: int = 0):
        self.state = state or StandinState()
        self.app = PanoptesStandin(self.state)
        self.httpd = make_server(host, port, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.url = f"http://{host}:{self.httpd.server_port}"
        self.app.base_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> StandinServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="panoptes-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
