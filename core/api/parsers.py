"""The JSON parser of every API endpoint: bounded size and depth, and only text a database can store.

DRF's own parser reads the whole body whatever its size, recurses into any nesting (about 1,000
levels raise RecursionError, a 500) and lets NUL characters and lone surrogates through, which
PostgreSQL and UTF-8 encoding then refuse (a 500 again). Here each is a clear 4xx.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework.parsers import JSONParser

from core.errors import InvalidInput, TooLarge


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise TooLarge(f"the request is too large: its body is over the {limit}-byte limit")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=_refuse if self.strict else None)
        except RecursionError:
            raise InvalidInput(_too_deep())
        except ValueError as exc:
            raise InvalidInput(f"JSON parse error - {exc}")
        check_json_value(data)
        return data


def _refuse(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _too_deep() -> str:
    return f"the JSON is nested deeper than {settings.RGZ_JSON_MAX_DEPTH} levels"


def check_json_value(data, *, field: str | None = None) -> None:
    """Reject nesting deeper than RGZ_JSON_MAX_DEPTH and strings (keys too) a database cannot store."""
    max_depth = settings.RGZ_JSON_MAX_DEPTH
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise InvalidInput(_too_deep(), field=field)
            for key, item in value.items():
                check_text(key, field=field)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > max_depth:
                raise InvalidInput(_too_deep(), field=field)
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            check_text(value, field=field)


def check_text(value: str, *, field: str | None = None) -> None:
    if "\x00" in value:
        raise InvalidInput("text may not contain NUL characters", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("text may not contain lone surrogates (invalid Unicode)", field=field)
