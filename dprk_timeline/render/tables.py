"""The tables: every record's rows (rows.py, as the registry says), sorted by primary key and written as
CSV, one way only, so that a rebuild is byte-identical."""
from __future__ import annotations

import csv
import io
import re

from ..registry import EVENT_TYPES, TABLES
from ..replay.state import State
from ..table_schemas import field_names, table_schema
from ..units import format_number
from .rows import Projection, change_row

DIGITS = re.compile(r"([0-9]+)")
# A cell is quoted, its quotes doubled, when it holds a comma, a double quote, a line feed or a carriage
# return (RFC 4180). Written out because the csv module's rule depends on Python's version (3.11 does not
# quote a carriage return when lines end with LF).
NEEDS_QUOTES = re.compile(r'[,"\n\r]')


def table_rows(state: State) -> dict[str, list[tuple]]:
    """The rows of every table, unsorted: each record's, then the history of changes."""
    projection = Projection(state)
    rows = {name: [] for name in TABLES}
    for kind, event_type in EVENT_TYPES.items():
        if event_type.rows is None:
            continue
        for record_id in state.of(kind):
            for table, made in event_type.rows(projection, record_id).items():
                rows[table] += made
    rows["changes"] = [change_row(change) for change in state.changes]
    return rows


def natural_key(value) -> tuple:
    """Sort key that puts event/2 before event/10: runs of digits compare as numbers, the text between them
    as text (the parts alternate text, number, text ..., so two keys always compare like with like)."""
    parts = DIGITS.split(str(value))
    parts[1::2] = [int(digits) for digits in parts[1::2]]
    return tuple(parts)


def sorted_rows(name: str, rows: list[tuple]) -> list[tuple]:
    names = field_names(name)
    places = [names.index(k) for k in table_schema(name)["primaryKey"]]
    return sorted(rows, key=lambda row: tuple(natural_key(row[p]) for p in places))


def cell(value, kind: str) -> str:
    """The one way a value of a Table Schema type is written in a CSV cell."""
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("integer", "number"):
        return format_number(value)
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if NEEDS_QUOTES.search(text) else text


def csv_bytes(name: str, rows: list[tuple]) -> bytes:
    """A table as CSV: its header, then its rows sorted by primary key; UTF-8, LF line ends."""
    kinds = [field["type"] for field in table_schema(name)["fields"]]
    width = len(kinds)
    lines = [",".join(field_names(name))]
    for row in sorted_rows(name, rows):
        if len(row) != width:
            raise ValueError(f"table {name}: a row of {len(row)} cells for {width} fields")
        lines.append(",".join(cell(value, kind) for value, kind in zip(row, kinds)))
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_tables(state: State) -> dict[str, bytes]:
    """Every table as CSV bytes, by name, in the package's order."""
    return {name: csv_bytes(name, rows) for name, rows in table_rows(state).items()}


def row_count(content: bytes) -> int:
    """The rows of a table's CSV, without its header."""
    return sum(1 for _ in csv.reader(io.StringIO(content.decode("utf-8"), newline=""))) - 1
