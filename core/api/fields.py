"""Fields: free-form JSON input that gets stored (bounded in size), and JSON output written as it is."""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import InvalidInput

from .parsers import check_json_value


class StoredJSONField(serializers.JSONField):
    """Any JSON value (form-encoded bodies included); ``max_bytes`` names a setting that bounds
    its serialized size, ``must_be`` a type it must have (dict or list)."""

    def __init__(self, *, max_bytes: str | None = None, must_be: type | None = None, **kwargs):
        self.max_bytes = max_bytes
        self.must_be = must_be
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if self.must_be is not None and not isinstance(value, self.must_be):
            raise serializers.ValidationError(f"must be a JSON {_type_name(self.must_be)}")
        try:
            check_json_value(value)
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.message)
        if self.max_bytes:
            limit = getattr(settings, self.max_bytes)
            size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
            if size > limit:
                raise serializers.ValidationError(f"is {size} bytes as JSON; the limit is {limit} bytes")
        return value


def _type_name(kind: type) -> str:
    return {dict: "object", list: "array"}.get(kind, kind.__name__)


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A number written as it is (vote counts stay integers, weighted sums stay floats)."""

    def to_representation(self, value):
        return value


POINT = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}


@extend_schema_field({"type": "array", "items": {"type": "array", "items": POINT}})
class PolylinesField(serializers.Field):
    """Polylines of [x, y] points, written as stored (thousands of points: no per-number work)."""

    def to_representation(self, value):
        return value
