"""The package descriptor, datapackage.json: the hand-written part in schemas/package.json, plus every
resource with its Table Schema inlined and the first and last date of its rows (`temporalCoverage`, an ISO
8601 interval as schema.org writes it), the sources from the log, the newest copy of each upstream
(`upstreams`), and `created` = the time the newest changeset was recorded (so the descriptor, like the
tables, is a pure function of the log)."""
from __future__ import annotations

import json
from pathlib import Path

from ..jsonio import dumps_canonical
from ..paths import PACKAGE_BASE
from ..registry import TABLES, table_schema
from ..replay.state import State
from .coverage import table_spans, upstream_snapshots


def source_entry(source: dict) -> dict:
    title = f"{source['publisher']}: {source.get('title', '(untitled)')} ({source['published'][:10]})"
    entry = {"title": title}
    if source.get("url"):
        entry["path"] = source["url"]
    if source.get("version"):
        entry["version"] = source["version"]
    return entry


def resource(name: str, span: tuple[str, str] | None = None) -> dict:
    schema = table_schema(name)
    coverage = {"temporalCoverage": f"{span[0]}/{span[1]}"} if span else {}
    return {
        "name": name,
        "type": "table",
        "profile": "tabular-data-resource",  # read by the R frictionless package (v1 style)
        "path": f"data/{name}.csv",
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": schema["title"],
        "description": schema["description"],
        "schema": {k: v for k, v in schema.items() if k not in ("title", "description")},
    } | coverage


def descriptor(state: State, tables: dict[str, bytes], base_path: Path = PACKAGE_BASE) -> dict:
    package = json.loads(base_path.read_text(encoding="utf-8"))
    if state.last_recorded_at:
        package["created"] = state.last_recorded_at
    spans = table_spans(tables)
    package["sources"] = [source_entry(source) for _, source in sorted(state.of("source").items())]
    package["upstreams"] = upstream_snapshots(tables)
    package["resources"] = [resource(name, spans.get(name)) for name in TABLES]
    return package


def render_descriptor(state: State, tables: dict[str, bytes]) -> bytes:
    return dumps_canonical(descriptor(state, tables)).encode("utf-8")
