"""The PostgreSQL fast path of the classification import: PostgreSQL reads the CSV and the JSON.

The export is cut into chunks at record boundaries (a line ends a record when the quotes so far
are balanced). Each chunk's bytes go unparsed into a temporary staging table with COPY ... CSV;
the few distinct workflows, versions and subjects of the chunk are resolved in Python through
the same catalogue as the row-by-row path; then one INSERT ... SELECT turns the staged text
into classifications (JSON parsed by PostgreSQL, volunteers hashed with its sha256, duplicates
skipped by the idempotency key). Python parses no row but those that carry drawing marks, whose
marks it checks as the row-by-row path does (``annotations.drawing.export_marks_problem``).

A chunk with anything unusual (a short line, broken JSON, an unknown version, a bad id, a mark
from an unknown tool) fails as a whole inside a savepoint and is imported again by the
row-by-row path, which reports every bad row with its number and reason; so both paths give the
same result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from annotations.drawing import export_marks_problem
from annotations.models import Classification

from . import export_encoding, export_reader, parallel
from .subjects import subjects_known

CHUNK_ROWS = 20_000
# What Python's str.strip() removes (its ASCII part and the no-break space): trim() alone takes spaces only.
WS = r"E' \t\n\r\f\v\u00a0'"
STAGE = "rgz_zooniverse_stage"  # the export's columns by position (c0, c1, ...): no header text in SQL
ROWS = "rgz_zooniverse_rows"  # a view naming the columns the INSERT reads
# The columns the INSERT reads; exports of other projects may carry more, which are staged and ignored.
USED = export_reader.CLASSIFICATION_COLUMNS
# Staged as jsonb: PostgreSQL parses them once, while COPY reads them, as a bare COPY would. An
# empty cell is NULL (read as {}); a cell jsonb refuses (quoted empty, broken JSON) fails the chunk,
# which the row-by-row path then reads as Python reads it.
JSONB = ("metadata", "subject_data")


@dataclass
class Chunk:
    first_row: int  # record number of its first record (the header is record 1)
    start: int  # byte offsets in the file
    end: int
    data: bytes
    records: int  # what COPY must stage; fewer means it stopped early (a line holding only \.)


def usable(header: list[str]) -> bool:
    """The fast path needs every column it reads, no duplicate names and a table-sized header."""
    return all(column in header for column in USED) and len(set(header)) == len(header) and len(header) <= 1000


def iter_chunks(handle, first_row: int, rows: int | None = None) -> Iterator[Chunk]:
    """Records of a binary handle (positioned after the header) in chunks of ``rows`` records."""
    rows = rows or CHUNK_ROWS
    lines: list[bytes] = []
    start = handle.tell()
    quotes, records, row = 0, 0, first_row
    for line in handle:
        lines.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            records += 1
            if records >= rows:
                end = start + sum(len(part) for part in lines)
                yield Chunk(first_row=row, start=start, end=end, data=b"".join(lines), records=records)
                row, start, lines, records = row + records, end, [], 0
    if lines:
        end = start + sum(len(part) for part in lines)
        yield Chunk(first_row=row, start=start, end=end, data=b"".join(lines), records=records + (quotes % 2))


def _positional(header: list[str]) -> str:
    return ", ".join(f"c{i}" for i in range(len(header)))


def create_stage(header: list[str]) -> None:
    """The staging table takes every column of the file by position; the view names the ones used
    (from the project's own list), so no text of the file's header ever reaches SQL."""
    columns = ", ".join(f"c{i} {'jsonb' if name in JSONB else 'text'}" for i, name in enumerate(header))
    named = ", ".join(f"c{header.index(name)} AS {name}" for name in USED)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {ROWS}")
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMP TABLE {STAGE} (n bigint GENERATED ALWAYS AS IDENTITY, {columns})")
        cursor.execute(f"CREATE TEMP VIEW {ROWS} AS SELECT n, {named} FROM {STAGE}")


def drop_stage() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {ROWS}")
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")


class ChunkRejected(Exception):
    """Something in the chunk needs the row-by-row path (which reports it precisely)."""


def import_chunk(chunk: Chunk, header: list[str], catalogue, report) -> None:
    """Stage and insert one chunk in a savepoint; raises ChunkRejected (nothing kept) when unusual."""
    try:
        with transaction.atomic():
            counts = _import_chunk(chunk, header, catalogue, report)
    except (DatabaseError, psycopg.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ChunkRejected(str(exc)) from exc
    report.imported += counts[0]
    report.already_there += counts[1]


def _import_chunk(chunk: Chunk, header: list[str], catalogue, report) -> tuple[int, int]:
    quoted = _positional(header)
    texts = ", ".join(f"c{i}" for i, name in enumerate(header) if name not in JSONB)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {STAGE}")
        # FORCE_NOT_NULL: an empty text cell is '' as in Python's csv module, not NULL.
        with cursor.cursor.copy(
            f"COPY {STAGE} ({quoted}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({texts}))"
        ) as copy:
            copy.write(chunk.data)
        cursor.execute(f"SELECT count(*), min(n) FROM {ROWS}")
        staged, first_n = cursor.fetchone()
        if staged != chunk.records:
            raise ValueError(f"COPY staged {staged} of {chunk.records} records")
        if not staged:
            return 0, 0
        versions, tasks = _version_map(cursor, catalogue, report)
        subjects = _subject_map(cursor, catalogue, report)
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS rgz_map_version (zwf bigint, v text, workflow int, version int)"
        )
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS rgz_map_subject (zsid bigint, cutout int)")
        cursor.execute("TRUNCATE rgz_map_version, rgz_map_subject")
        with cursor.cursor.copy("COPY rgz_map_version FROM STDIN") as copy:
            for row in versions:
                copy.write_row(row)
        with cursor.cursor.copy("COPY rgz_map_subject FROM STDIN") as copy:
            for row in subjects:
                copy.write_row(row)
        _check_marks(cursor, tasks, chunk.first_row, first_n)
        cursor.execute(_INSERT, {"first_row": chunk.first_row, "first_n": first_n})
        inserted = cursor.rowcount
    return inserted, staged - inserted


def _version_map(cursor, catalogue, report) -> tuple[list[tuple], dict[int, dict]]:
    """Rows of rgz_map_version, and the tasks of each platform version they map to."""
    cursor.execute(
        f"SELECT workflow_id, min(workflow_name), coalesce(nullif(btrim(workflow_version, {WS}), ''), '1.0') "
        f"FROM {ROWS} GROUP BY 1, 3"
    )
    rows, tasks = [], {}
    for zooniverse_id, name, label in cursor.fetchall():
        zwf = int(zooniverse_id)
        version = export_reader.parse_version(label)
        known = catalogue.known_versions.get(zwf)
        if known is not None and version not in known:
            raise ValueError(f"unknown workflow version {label} of workflow {zwf}")
        workflow = catalogue.workflow(zwf, name or "")
        platform_version = catalogue.version(workflow, zwf, version)
        report.workflows.add(workflow.pk)
        rows.append((zwf, label, workflow.pk, platform_version.pk))
        tasks[platform_version.pk] = platform_version.tasks or {}
    return rows, tasks


def _check_marks(cursor, tasks: dict[int, dict], first_row: int, first_n: int) -> None:
    """Raise ValueError naming the first row whose drawing marks the row-by-row path would refuse.
    Only rows of a version with a drawing task, or whose annotations name a tool, are read."""
    drawing = [pk for pk, version_tasks in tasks.items() if _has_drawing(version_tasks)]
    cursor.execute(
        f"SELECT s.n, mv.version, btrim(s.annotations, {WS}) FROM {ROWS} s "
        f"JOIN rgz_map_version mv ON mv.zwf = s.workflow_id::bigint "
        f"AND mv.v = coalesce(nullif(btrim(s.workflow_version, {WS}), ''), '1.0') "
        f"WHERE strpos(s.annotations, '\"tool') > 0 OR mv.version = ANY(%s) ORDER BY s.n",
        [drawing],
    )
    for n, version, text in cursor.fetchall():
        annotations = json.loads(text) if text[:1] in ("[", "{") else None
        if isinstance(annotations, dict):
            annotations = [annotations]
        problem = export_marks_problem(annotations, tasks[version])
        if problem:
            raise ValueError(f"row {n - first_n + first_row}: {problem}")


def _has_drawing(tasks: dict) -> bool:
    return any(isinstance(task, dict) and task.get("type") == "drawing" for task in tasks.values())


def _subject_map(cursor, catalogue, report) -> list[tuple]:
    first = "split_part(replace(subject_ids, ',', ';'), ';', 1)::bigint"
    cursor.execute(f"SELECT DISTINCT {first} FROM {ROWS}")
    wanted = [row[0] for row in cursor.fetchall()]
    known = {zid: mapping.cutout_id for zid, mapping in subjects_known(wanted).items()}
    missing = [zid for zid in wanted if zid not in known]
    if missing:
        cursor.execute(
            f"SELECT DISTINCT ON ({first}) {first}, subject_data FROM {ROWS} WHERE {first} = ANY(%s)", [missing]
        )
        data_of = {}
        for zid, subject_data in cursor.fetchall():
            # Django's PostgreSQL connection hands jsonb over as text (its JSONField parses it).
            data = json.loads(subject_data) if isinstance(subject_data, str) else subject_data
            data_of[zid] = data if isinstance(data, dict) else {}
        for zid, mapping in catalogue.subjects(data_of, report).items():
            known[zid] = mapping.cutout_id
    return list(known.items())


# Mirrors importer._classification and export_reader._record: same keys, same pseudonyms, same defaults.
# Each JSON value is parsed once: metadata and subject_data by COPY into jsonb columns, annotations in
# a lateral subquery that OFFSET 0 keeps from being inlined (inlined, each use would parse it again).
_INSERT = f"""
INSERT INTO {Classification._meta.db_table} (
    workflow_id, workflow_version_id, subject_id, session_key, volunteer_key, annotations, metadata,
    started_at, finished_at, created_at, user_agent, gold_standard, expert, idempotency_key, source
)
SELECT mv.workflow, mv.version, ms.cutout, '',
    'zooniverse:' || left(encode(sha256(convert_to(
        CASE WHEN s.user_id <> '' AND s.user_name NOT LIKE 'not-logged-in%%' THEN 'user|' || s.user_id
             ELSE 'anon|' || s.user_name || '|' || s.user_ip END, 'UTF8')), 'hex'), 24),
    CASE WHEN pa.parsed IS NULL THEN jsonb_build_array(jsonb_build_object('task', 'T0', 'value', pa.a))
         WHEN jsonb_typeof(pa.parsed) = 'object' THEN jsonb_build_array(pa.parsed)
         WHEN jsonb_typeof(pa.parsed) = 'array' THEN pa.parsed END,
    CASE jsonb_typeof(s.metadata) WHEN 'object' THEN s.metadata ELSE '{{}}'::jsonb END
    || jsonb_build_object('zooniverse', jsonb_build_object(
        'classification_id', s.classification_id::bigint,
        'workflow_id', s.workflow_id::bigint,
        'subject_ids', to_jsonb(array_remove(string_to_array(replace(s.subject_ids, ',', ';'), ';'), '')::bigint[]),
        'created_at', s.created_at,
        'row', s.n - %(first_n)s + %(first_row)s,
        'annotation_format', 'export',
        'subject_data', CASE jsonb_typeof(s.subject_data) WHEN 'object' THEN s.subject_data ELSE '{{}}'::jsonb END)),
    nullif(s.metadata ->> 'started_at', '')::timestamptz,
    coalesce(nullif(s.metadata ->> 'finished_at', '')::timestamptz,
             nullif(replace(s.created_at, ' UTC', '+00:00'), '')::timestamptz),
    now(),
    left(coalesce(s.metadata ->> 'user_agent', ''), 512),
    lower(btrim(s.gold_standard, {WS})) = 'true',
    btrim(s.expert, {WS}) <> '',
    'zooniverse:' || s.classification_id::bigint,
    'zooniverse'
FROM {ROWS} s
CROSS JOIN LATERAL (
    SELECT a, CASE WHEN left(a, 1) IN ('[', '{{') THEN a::jsonb END AS parsed
    FROM (SELECT btrim(s.annotations, {WS}) AS a) trimmed
    OFFSET 0
) pa
JOIN rgz_map_version mv
    ON mv.zwf = s.workflow_id::bigint AND mv.v = coalesce(nullif(btrim(s.workflow_version, {WS}), ''), '1.0')
JOIN rgz_map_subject ms ON ms.zsid = split_part(replace(s.subject_ids, ',', ';'), ';', 1)::bigint
ORDER BY s.n  -- ids in file order, as the row-by-row path gives them
ON CONFLICT (idempotency_key) DO NOTHING
"""


def _run_chunk(chunk: Chunk, header: list[str], catalogue, report, fallback) -> None:
    """One chunk, start to end: bytes repaired, staged and inserted, or given to ``fallback``."""
    chunk.data = export_encoding.repair_chunk(chunk.data, header, chunk.first_row, report.encoding)
    placeholders, workflows = list(report.placeholders), set(report.workflows)
    try:
        import_chunk(chunk, header, catalogue, report)
    except ChunkRejected:
        # What the chunk made was rolled back with it: forget it before the careful path.
        report.placeholders[:], report.workflows = placeholders, workflows
        catalogue.forget()
        fallback(chunk, catalogue, report)


def workers_for(requested: int | None = None) -> int:
    """Connections importing chunks at once: ``requested``, else ZOONIVERSE_IMPORT_WORKERS, else one
    per core (at most 4); one inside a transaction the caller holds (other connections could not
    see its rows, nor could it undo theirs)."""
    if connection.in_atomic_block:
        return 1
    wanted = requested if requested is not None else settings.ZOONIVERSE_IMPORT_WORKERS
    if wanted is None:
        wanted = min(4, os.cpu_count() or 1)
    return max(1, int(wanted))


def staged_import(
    path: Path,
    header: list[str],
    header_end: int,
    catalogue,
    report,
    *,
    fallback: Callable[[Chunk, object, object], None],
    progress: Callable[[int, int, str], None],
    workers: int | None = None,
) -> None:
    """Import the records after the header chunk by chunk; unusual chunks go to ``fallback``.

    With several workers the first chunk is imported alone (it makes the workflows and versions
    the rest will mostly share), then chunks go to worker threads, each with its own connection,
    staging table and transaction per chunk. A chunk is idempotent (its rows are skipped by their
    Zooniverse id once stored, its subjects found once mapped), so chunks committing in any order
    give the same rows as one connection would; only the order of the new ids follows the file
    within each chunk rather than across chunks. Their reports are merged in file order."""
    size = path.stat().st_size or 1
    workers = workers_for(workers)
    with path.open("rb") as handle:
        handle.seek(header_end)
        chunks = iter_chunks(handle, first_row=2)
        create_stage(header)
        try:
            for chunk in chunks:
                _run_chunk(chunk, header, catalogue, report, fallback)
                progress(min(size, chunk.end), size, f"{report.imported} imported")
                if workers > 1:
                    break
        finally:
            drop_stage()
        if workers > 1:
            parallel.run(
                chunks,
                workers=workers,
                work=lambda chunk, own_catalogue, part: _run_chunk(chunk, header, own_catalogue, part, fallback),
                setup=lambda: create_stage(header),
                teardown=drop_stage,
                catalogue=catalogue,
                report=report,
                on_merged=lambda end: progress(min(size, end), size, f"{report.imported} imported"),
            )
