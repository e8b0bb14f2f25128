"""Exports that are not clean UTF-8: invalid bytes become U+FFFD and are reported by column and row.

Some real exports carry a few bytes of another encoding (a workflow name typed in Latin-1, say).
Refusing the whole file for them would lose every good row, so the bytes are replaced and the
import says where. Text is decoded with ``surrogateescape`` first: each invalid byte becomes a
lone surrogate, which valid UTF-8 can never produce, so the damaged cells are found exactly.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

REPLACEMENT = "\ufffd"
_ESCAPED = re.compile("[\udc80-\udcff]")
ROWS_NAMED = 20  # rows listed per column in the warning; the count covers the rest


@dataclass
class EncodingRepairs:
    """Where invalid bytes were replaced: rows per column (capped), counts per column."""

    rows: dict[str, list[int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def note(self, column: str, row: int) -> None:
        self.counts[column] = self.counts.get(column, 0) + 1
        listed = self.rows.setdefault(column, [])
        if len(listed) < ROWS_NAMED:
            listed.append(row)

    def merge(self, other: EncodingRepairs) -> None:
        """Add the repairs noted in a later part of the same file."""
        for column, count in other.counts.items():
            self.counts[column] = self.counts.get(column, 0) + count
            listed = self.rows.setdefault(column, [])
            listed.extend(other.rows.get(column, [])[: max(0, ROWS_NAMED - len(listed))])

    def warnings(self, name: str) -> list[str]:
        lines = []
        for column, count in self.counts.items():
            shown = ", ".join(map(str, self.rows[column]))
            more = f" and {count - len(self.rows[column])} more" if count > len(self.rows[column]) else ""
            lines.append(
                f"{name}: invalid UTF-8 bytes replaced by U+FFFD in column {column}, {count} row(s): {shown}{more}"
            )
        return lines


def decode_lenient(data: bytes) -> str:
    """Bytes to text, each invalid byte kept as a lone surrogate (see ``repair``)."""
    return data.decode("utf-8", errors="surrogateescape")


def has_escapes(text: str) -> bool:
    return _ESCAPED.search(text) is not None


def repair(text: str) -> str:
    """Lone surrogates (invalid bytes) replaced by U+FFFD, one per byte as Python's 'replace' does."""
    return _ESCAPED.sub(REPLACEMENT, text)


def repair_cells(cells: list[str], header: list[str], row: int, repairs: EncodingRepairs) -> list[str]:
    """One record's cells with invalid bytes replaced, each damaged cell noted by column and row."""
    if not has_escapes("".join(cells)):
        return cells
    fixed = []
    for index, cell in enumerate(cells):
        if has_escapes(cell):
            column = header[index] if index < len(header) else f"column {index + 1}"
            repairs.note(column, row)
            cell = repair(cell)
        fixed.append(cell)
    return fixed


def repair_chunk(data: bytes, header: list[str], first_row: int, repairs: EncodingRepairs) -> bytes:
    """A block of whole records as valid UTF-8, the damaged cells noted (record numbers from ``first_row``).

    Clean blocks (the usual case) are returned as they are: pure ASCII at once, other text after one
    strict decode (whose copy of the block is dropped at once)."""
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    text = decode_lenient(data)
    # csv yields one list per record, [] for a blank line, so record numbers stay aligned.
    for offset, cells in enumerate(csv.reader(io.StringIO(text, newline=""))):
        repair_cells(cells, header, first_row + offset, repairs)
    return repair(text).encode("utf-8")
