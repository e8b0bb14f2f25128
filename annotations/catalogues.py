"""Source catalogues (CSV): name, ra, dec in degrees, an optional label and file name."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidInput


@dataclass(frozen=True)
class CatalogueRow:
    row: int  # 1-based line number in the file, the header being line 1
    name: str
    ra_deg: float
    dec_deg: float
    label: str = ""
    file: str = ""


def read_catalogue(path: str | Path) -> list[CatalogueRow]:
    """Parse a catalogue; any bad row stops the read with its file and line number."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such catalogue file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
            missing = [c for c in ("name", "ra", "dec") if c not in fields]
            if missing:
                raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)} (need name, ra, dec)")
            rows, names = [], set()
            for line, record in enumerate(reader, start=2):
                rows.append(_parse_row(path, line, record, fields))
                if rows[-1].name in names:
                    raise InvalidInput(f"{path} row {line}: source name {rows[-1].name!r} appears twice")
                names.add(rows[-1].name)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not a UTF-8 text file ({exc})") from exc
    except csv.Error as exc:
        raise InvalidInput(f"{path}: malformed CSV ({exc})") from exc
    if not rows:
        raise InvalidInput(f"{path}: the catalogue has no rows")
    return rows


def _parse_row(path: Path, line: int, record: dict, fields: dict) -> CatalogueRow:
    def value(column: str) -> str:
        key = fields.get(column)
        return (record.get(key) or "").strip() if key else ""

    name = value("name")
    if not name:
        raise InvalidInput(f"{path} row {line}: empty name")
    ra, dec = _number(path, line, "ra", value("ra")), _number(path, line, "dec", value("dec"))
    if not 0 <= ra < 360:
        raise InvalidInput(f"{path} row {line}: ra {ra} is outside 0..360 degrees")
    if not -90 <= dec <= 90:
        raise InvalidInput(f"{path} row {line}: dec {dec} is outside -90..90 degrees")
    return CatalogueRow(row=line, name=name, ra_deg=ra, dec_deg=dec, label=value("label"), file=value("file"))


def _number(path: Path, line: int, column: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"{path} row {line}: {column} {text!r} is not a number in degrees") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{path} row {line}: {column} {text!r} is not a finite number")
    return number


@dataclass(frozen=True)
class LayerCatalogueRow:
    row: int
    name: str  # the cutout's name in its survey
    file: str  # the layer file's name


def read_layer_catalogue(path: str | Path) -> list[LayerCatalogueRow]:
    """A catalogue that pairs layer files with cutouts: columns ``name`` and ``file``; bad rows name file and line."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such catalogue file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
            missing = [c for c in ("name", "file") if c not in fields]
            if missing:
                raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)} (need name, file)")
            rows, files = [], set()
            for line, record in enumerate(reader, start=2):
                name = (record.get(fields["name"]) or "").strip()
                file = (record.get(fields["file"]) or "").strip()
                if not name or not file:
                    raise InvalidInput(f"{path} row {line}: name and file must both be given")
                if file in files:
                    raise InvalidInput(f"{path} row {line}: file {file!r} appears twice")
                files.add(file)
                rows.append(LayerCatalogueRow(row=line, name=name, file=file))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not a UTF-8 text file ({exc})") from exc
    except csv.Error as exc:
        raise InvalidInput(f"{path}: malformed CSV ({exc})") from exc
    if not rows:
        raise InvalidInput(f"{path}: the catalogue has no rows")
    return rows
