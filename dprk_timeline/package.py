"""The package descriptor, datapackage.json: the hand-written part in schemas/package.json, plus
every resource with its Table Schema inlined, the sources from the log, and `created` = the time the
newest changeset was recorded (so the descriptor, like the tables, is a pure function of the log)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from .jsonio import dumps_canonical
from .paths import PACKAGE_BASE
from .replay import State
from .tables import TABLES, table_schema


def source_entry(source: dict) -> dict:
    title = f"{source['publisher']}: {source.get('title', '(untitled)')} ({source['published'][:10]})"
    entry = {"title": title}
    if source.get("url"):
        entry["path"] = source["url"]
    if source.get("version"):
        entry["version"] = source["version"]
    return entry


def descriptor(state: State, base_path: Path = PACKAGE_BASE, sources: list | None = None) -> dict:
    """sources: the entries of `sources`, when already made (else made from every source of the state)."""
    package = json.loads(base_path.read_text(encoding="utf-8"))
    package["created"] = state.last_recorded_at or None
    if package["created"] is None:
        del package["created"]
    if sources is None:
        sources = [source_entry(source) for _, source in sorted(state.sources.items(), key=lambda item: item[0])]
    package["sources"] = sources
    package["resources"] = []
    for name in TABLES:
        schema = table_schema(name)
        package["resources"].append({
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
        })
    return package


# The text of the descriptor's sources, as dumps_canonical writes them: the list's opening line, and each entry (a
# flat object: no line of a value can start as its closing brace does, since JSON text holds no raw line break).
SOURCES_START = '\n  "sources": [\n'
SOURCE_TEXT = re.compile(r"    \{\n.*?\n    \}", re.DOTALL)
PLACEHOLDER = "\0sources\0"


def source_text(source: dict) -> str:
    """A source's entry in the descriptor, as dumps_canonical writes it there (two levels in)."""
    return "\n".join("    " + line for line in json.dumps(source_entry(source), indent=2, ensure_ascii=False).split("\n"))


def source_texts(descriptor_text: str) -> list[str] | None:
    """The text of each entry of the sources of a descriptor that render_descriptor wrote (None if it has none)."""
    start = descriptor_text.find(SOURCES_START)
    if start < 0:
        return None
    start += len(SOURCES_START)
    return SOURCE_TEXT.findall(descriptor_text, start, descriptor_text.index("\n  ]", start))


def render_descriptor(state: State, texts: list[str] | None = None) -> bytes:
    """datapackage.json. texts: the entries of its sources as text (source_text of each, in order), when they are
    known: a check on a snapshot keeps those of the sources it did not touch, rather than read all of them and
    write the 8 MB of a 10^6-event log's descriptor again with json's pure-Python indenting encoder."""
    if not texts:
        return dumps_canonical(descriptor(state)).encode("utf-8")
    text = dumps_canonical(descriptor(state, sources=[PLACEHOLDER]))
    return text.replace("    " + json.dumps(PLACEHOLDER), ",\n".join(texts), 1).encode("utf-8")
