"""HTTP plumbing of the stand-in: requests, replies, JSON:API envelopes and ETags."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs

JSON_API = "application/vnd.api+json; version=1"
PAGE_SIZE = 20


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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


def json_reply(payload: dict, status: int = 200, etag: str | None = None, headers=None) -> Reply:
    extra = list(headers or [])
    if etag:
        extra.append(("ETag", etag))
    return Reply(status, json.dumps(payload).encode(), JSON_API if status < 400 else "application/json", extra)


def etag_of(resource: dict) -> str:
    return 'W/"' + hashlib.sha1(json.dumps(resource, sort_keys=True).encode()).hexdigest() + '"'
