"""The stand-in's WSGI application: routing, sign-in and OAuth, resources and links."""

from __future__ import annotations

import json
import secrets
from http import HTTPStatus

from .exports import ExportRoutes
from .state import StandinState
from .wire import PAGE_SIZE, ApiError, Reply, Request, etag_of, json_reply


class PanoptesStandin(ExportRoutes):
    """The WSGI application."""

    def __init__(self, state: StandinState, base_url: str = ""):
        self.state = state
        self.base_url = base_url

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            reply = self._planned_fault(request) or self.route(request)
        except ApiError as error:
            reply = json_reply({"errors": [{"message": error.message}]}, error.status)
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
                    return json_reply({"errors": [{"message": "planned outage"}]}, fault.status)
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
        etag = etag_of(chunk[0]) if len(chunk) == 1 else etag_of({"rows": chunk})
        return json_reply({kind: chunk, "meta": meta}, etag=etag)

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
            return json_reply({kind: [resource]}, etag=etag_of(resource))

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
            return json_reply({kind: [resource]}, 201, etag=etag_of(resource))

    def update(self, kind: str, rid: str, request: Request) -> Reply:
        body = request.json().get(kind)
        if not isinstance(body, dict):
            raise ApiError(422, f"the body must hold a {kind} object")
        with self.state.lock:
            resource = self._get(kind, rid)
            if request.headers.get("if-match") != etag_of(resource):
                raise ApiError(412, "the resource changed since it was read (If-Match does not match its ETag)")
            for key, value in body.items():
                if key == "links":
                    continue
                if key not in resource:
                    raise ApiError(422, f"{key} is not an attribute of {kind}")
                resource[key] = value
            return json_reply({kind: [resource]}, etag=etag_of(resource))

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
            return json_reply({kind: [resource]}, etag=etag_of(resource))

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
