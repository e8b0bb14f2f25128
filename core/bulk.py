"""Inserting many rows that differ in a few fields only, at the database's speed.

Django's ``bulk_create`` adapts every value of every row on the client; for wide rows whose
other fields are all the same (placeholder cutouts sharing one image, say) that dominates. On
PostgreSQL ``insert_sharing`` sends the fields common to all rows once and the varying ones as
one jsonb document, which ``jsonb_to_recordset`` turns back into rows: one statement, one
parameter per column. Elsewhere it is ``bulk_create``.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Model


def insert_sharing(model: type[Model], objs: list[Model], *, varying: tuple[str, ...], ignore_conflicts: bool) -> None:
    """Insert ``objs``, which are equal but for the fields named in ``varying`` (their values must
    be JSON types: text, numbers, booleans, JSON fields). Conflicting rows are skipped when
    ``ignore_conflicts``. Primary keys are not set on ``objs``."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    unknown = set(varying) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=1000, ignore_conflicts=ignore_conflicts)
        return
    quote = connection.ops.quote_name
    first = objs[0]
    columns, selected, params, record = [], [], [], []
    for f in fields:
        columns.append(quote(f.column))
        if f.name in varying:
            record.append(f"{quote(f.column)} {f.cast_db_type(connection)}")
            selected.append(f"r.{quote(f.column)}")
        else:
            params.append(f.get_db_prep_save(f.pre_save(first, add=True), connection))
            selected.append(f"%s::{f.cast_db_type(connection)}")
    varying_fields = [f for f in fields if f.name in varying]
    rows = [{f.column: f.get_prep_value(getattr(obj, f.attname)) for f in varying_fields} for obj in objs]
    params.append(json.dumps(rows))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selected)} FROM jsonb_to_recordset(%s::jsonb) AS r({', '.join(record)})"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
