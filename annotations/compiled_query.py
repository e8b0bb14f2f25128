"""A hot-path query built and compiled to SQL once per process and database, then run with new
arguments: building a queryset with subqueries and compiling it costs more CPU than the
database spends answering it.

The queryset is built with placeholder arguments; each placeholder's positions among the SQL
parameters are recorded. If any parameter is not a placeholder (the ORM inlined a value or added
one of its own) nothing is cached and every call builds the queryset as usual. Rows become model
instances through Django's own ModelIterable, with select_related and annotations as the ORM
would fill them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from django.db import connections
from django.db.models.query import ModelIterable, prefetch_related_objects


class CompiledQuery:
    def __init__(
        self, build: Callable[..., object], placeholders: dict[str, object], using: str = "default", first=True
    ):
        """``build(**arguments)`` returns the queryset; ``placeholders`` are values no real call passes.
        ``first``: the query is run as ``.first()``; otherwise as built (slice included), by ``all``."""
        self.build, self.placeholders, self.using, self.first_only = build, placeholders, using, first
        self._compiled: dict[str, tuple | None] = {}  # per database vendor: (compiler, sql, slots) or None
        self._lookups = ()

    def first(self, **arguments):
        """The first row as the queryset's ``.first()`` would give it (ordered as built), or None."""
        rows = self._rows(arguments)
        return self.build(**arguments).first() if rows is None else next(iter(rows), None)

    def all(self, **arguments) -> list:
        """Every row, with the queryset's prefetch_related lookups done as it would do them."""
        rows = self._rows(arguments)
        if rows is None:
            return list(self.build(**arguments))
        rows = list(rows)
        if self._lookups:
            prefetch_related_objects(rows, *self._lookups)
        return rows

    def _rows(self, arguments):
        connection = connections[self.using]
        if connection.vendor not in self._compiled:
            self._compiled[connection.vendor] = self._compile(connection)
        compiled = self._compiled[connection.vendor]
        if compiled is None:
            return None
        compiler, sql, slots = compiled
        run = copy.copy(compiler)  # its select and converters are shared, read only
        run.connection = connection  # this thread's connection
        params = tuple(slot.value if isinstance(slot, _Constant) else arguments[slot] for slot in slots)
        run.as_sql = lambda *args, **kwargs: (sql, params)
        return ModelIterable(_Prepared(run, self.using))

    def _compile(self, connection):
        compiler, sql, params = self._compile_with(connection, self.placeholders)
        # Compiled again with other placeholders: a parameter that changes with them but is not one
        # of them (a value the ORM derived from an argument) cannot be reused.
        _, other_sql, other_params = self._compile_with(connection, _others(self.placeholders))
        if other_sql != sql or len(other_params) != len(params):
            return None
        by_value = {value: name for name, value in self.placeholders.items()}
        others = _others(self.placeholders)
        slots = []
        for value, other in zip(params, other_params, strict=True):
            name = by_value.get(value) if type(value) in (int, str) else None
            if (name is None and value != other) or (name is not None and other != others[name]):
                return None
            slots.append(name if name is not None else _Constant(value))
        return compiler, sql, slots

    def _compile_with(self, connection, arguments):
        queryset = self.build(**arguments)
        self._lookups = queryset._prefetch_related_lookups
        if self.first_only:
            queryset = (queryset if queryset.ordered else queryset.order_by("pk"))[:1]  # as .first() does
        compiler = queryset.query.get_compiler(using=self.using, connection=connection)
        sql, params = compiler.as_sql()
        return compiler, sql, params


class _Constant:
    """A parameter the ORM adds whatever the arguments (e.g. EXISTS(SELECT 1 ...))."""

    def __init__(self, value):
        self.value = value


def _others(placeholders: dict) -> dict:
    return {name: value - 1000 if type(value) is int else f"{value}:other" for name, value in placeholders.items()}


class _Prepared:
    """What ModelIterable reads of a queryset: the database, a compiler, the known related objects."""

    def __init__(self, compiler, using: str):
        self.db = using
        self.query = self
        self._known_related_objects = {}
        self._compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler
