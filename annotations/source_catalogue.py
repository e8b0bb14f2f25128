"""The catalogue of consensus radio sources of a workflow: per source its components, its host's
position (pixels and RA/Dec), the spread of the volunteers' host marks and their agreement, as CSV
or VOTable (astropy). Generated (synthetic) subjects are left out."""

from __future__ import annotations

import csv
import io

from astropy.table import Table

from .mark_consensus import mark_consensus
from .models import Cutout, Workflow

COLUMNS = (
    ("subject", int, None),
    ("cutout", str, None),
    ("task", str, None),
    ("source", int, None),
    ("components", str, None),
    ("n_components", int, None),
    ("volunteers", int, None),
    ("source_share", float, None),
    ("grouping_agreement", float, None),
    ("host_x", float, "pix"),
    ("host_y", float, "pix"),
    ("host_ra_deg", float, "deg"),
    ("host_dec_deg", float, "deg"),
    ("host_spread_arcsec", float, "arcsec"),
    ("host_votes", int, None),
    ("host_share", float, None),
)
NAMES = [name for name, _, _ in COLUMNS]


def consensus_sources(*, workflow: Workflow) -> list[dict]:
    """One row per source of each subject's consensus grouping (radio-component tasks)."""
    results = [c for c in mark_consensus(workflow=workflow).values() if c.kind == "radio_components" and c.sources]
    # Generated subjects are no sky sources: they never enter the catalogue.
    generated = set(
        Cutout.objects.filter(pk__in={c.subject_id for c in results}, synthetic=True).values_list("pk", flat=True)
    )
    results = [c for c in results if c.subject_id not in generated]
    names = dict(Cutout.objects.filter(pk__in={c.subject_id for c in results}).values_list("pk", "name"))
    rows = []
    for consensus in sorted(results, key=lambda c: (c.subject_id, c.task)):
        for index, source in enumerate(consensus.sources, start=1):
            host = source.host
            rows.append(
                {
                    "subject": consensus.subject_id,
                    "cutout": names.get(consensus.subject_id, ""),
                    "task": consensus.task,
                    "source": index,
                    "components": " ".join(str(c) for c in source.components),
                    "n_components": len(source.components),
                    "volunteers": consensus.num_votes,
                    "source_share": source.share,
                    "grouping_agreement": consensus.agreement,
                    "host_x": host.x if host else None,
                    "host_y": host.y if host else None,
                    "host_ra_deg": host.ra_deg if host else None,
                    "host_dec_deg": host.dec_deg if host else None,
                    "host_spread_arcsec": host.spread_arcsec if host else None,
                    "host_votes": source.host_votes,
                    "host_share": host.share if host else None,
                }
            )
    return rows


def catalogue_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(NAMES)
    for row in rows:
        writer.writerow(["" if row[name] is None else _text(row[name]) for name in NAMES])
    return buffer.getvalue()


def catalogue_votable(rows: list[dict], *, description: str) -> bytes:
    table = Table(names=NAMES, dtype=[kind for _, kind, _ in COLUMNS], masked=True)
    for row in rows:
        table.add_row([_blank(row[name], kind) for name, kind, _ in COLUMNS], mask=[row[n] is None for n in NAMES])
    for name, _, unit in COLUMNS:
        if unit:
            table[name].unit = unit
    table.meta["description"] = description
    buffer = io.BytesIO()
    table.write(buffer, format="votable")
    return buffer.getvalue()


def _text(value) -> str:
    return f"{value:.8g}" if isinstance(value, float) else str(value)


def _blank(value, kind):
    return value if value is not None else {int: 0, float: 0.0, str: ""}[kind]


OVERLAY_COLOURS = ["#ff4060", "#40ff80", "#ffe000", "#00e5ff", "#ff90ff", "#ff9000"]


def consensus_source_overlays(*, workflow: Workflow, limit: int = 100) -> list[dict]:
    """Per subject with consensus sources: its image, and per source the outline of its components
    (SVG points in image pixels) and its host, for the desk's overlay; at most ``limit`` subjects."""
    rows = consensus_sources(workflow=workflow)
    by_subject: dict[int, list[dict]] = {}
    for row in rows:
        by_subject.setdefault(row["subject"], []).append(row)
    cutouts = Cutout.objects.in_bulk(list(by_subject)[:limit])
    overlays = []
    for subject_id, sources in list(by_subject.items())[:limit]:
        cutout = cutouts[subject_id]
        paths = cutout.contours[0]["paths"] if cutout.contours else []
        drawn = []
        for index, row in enumerate(sources):
            components = [int(c) for c in row["components"].split()]
            outlines = [
                " ".join(f"{x + 0.5:.1f},{y + 0.5:.1f}" for x, y in paths[c]) for c in components if c < len(paths)
            ]
            x, y = row["host_x"], row["host_y"]
            cross = None if x is None else {"x": x, "y": y, "x0": x - 8, "x1": x + 8, "y0": y - 8, "y1": y + 8}
            colour = OVERLAY_COLOURS[index % len(OVERLAY_COLOURS)]
            drawn.append({"row": row, "colour": colour, "outlines": outlines, "cross": cross})
        overlays.append({"cutout": cutout, "sources": drawn})
    return overlays
