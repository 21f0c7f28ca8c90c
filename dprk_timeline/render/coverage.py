"""How far each part of the dataset reaches: each table's first and last date, and the latest copy of each
upstream database or list. datapackage.json carries it, and the build writes it on the README's first screen
(between the markers below), so that "data through" is never stale."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

# table -> (the field its first date is read from, the field its last date is read from; empty falls back)
DATE_FIELDS = {"launches": ("korea_date", "korea_date"), "nuclear_tests": ("korea_date", "korea_date"),
               "statements": ("date", "date_latest"),
               "sanctions": ("date", "date_latest"), "context": ("period_start", "period_end"),
               "sources": ("published", "published"), "changes": ("recorded_at", "recorded_at")}
# the sources the importers create, one series per upstream they read (scripts/import.py, scripts/update.py)
UPSTREAM_SOURCES = ("cns-missile-tests-", "csis-provocations-", "ofac-sdn-", "un-consolidated-list-")
START, END = "<!-- data-through: written by scripts/build.py from the log -->", "<!-- /data-through -->"
BLOCK = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)


def read_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


def table_spans(tables: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """table -> (first date, last date), ISO days, for the tables with dates and rows."""
    spans = {}
    for name, (first, last) in DATE_FIELDS.items():
        rows = read_rows(tables[name])
        starts = [row[first][:10] for row in rows if row[first]]
        ends = [(row[last] or row[first])[:10] for row in rows if row[last] or row[first]]
        if starts:
            spans[name] = (min(starts), max(ends))
    return spans


def upstream_snapshots(tables: dict[str, bytes]) -> list[dict]:
    """The newest copy of each upstream (one per publisher), with its publication day."""
    newest = {}
    for source in read_rows(tables["sources"]):
        if source["source_id"].startswith(UPSTREAM_SOURCES) and source["published"] > newest.get(source["publisher"], {}).get(
                "published", ""):
            newest[source["publisher"]] = source
    return [{"source_id": s["source_id"], "title": s["title"], "publisher": s["publisher"],
             "published": s["published"][:10]} | ({"retrieved": s["retrieved_at_utc"]} if s["retrieved_at_utc"] else {})
            | ({"path": s["url"]} if s["url"] else {})
            for s in sorted(newest.values(), key=lambda s: s["source_id"])]


def long_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def readme_block(tables: dict[str, bytes]) -> str:
    """The README's "data through" lines."""
    spans, upstreams = table_spans(tables), {s["source_id"].split("-")[0]: s for s in upstream_snapshots(tables)}
    launches, statements = read_rows(tables["launches"]), read_rows(tables["statements"])
    answered = {row["launch_id"] for row in read_rows(tables["launch_statements"])}
    lines = [START, "**Data through** (as the build last wrote it from the log):", ""]
    if "launches" in spans:
        upstream = upstreams.get("cns")
        lines.append(f"- **Launches**: {len(launches)} launch events, {long_date(spans['launches'][0])} to "
                     f"{long_date(spans['launches'][1])}"
                     + (f" (CNS database as published {long_date(upstream['published'])})" if upstream else "") + ".")
    if "nuclear_tests" in spans:
        lines.append(f"- **Nuclear tests**: {len(read_rows(tables['nuclear_tests']))}, {long_date(spans['nuclear_tests'][0])} "
                     f"to {long_date(spans['nuclear_tests'][1])}.")
    if "statements" in spans:
        lines.append(f"- **Statements**: {len(statements)}, {long_date(spans['statements'][0])} to "
                     f"{long_date(spans['statements'][1])}, answering {len(answered)} launches.")
    if "sanctions" in spans:
        parts = [f"UN Security Council list as generated {long_date(upstreams['un']['published'])}"
                 if "un" in upstreams else "", f"OFAC SDN list changes to {long_date(upstreams['ofac']['published'])}"
                 if "ofac" in upstreams else ""]
        lines.append(f"- **Sanctions actions**: {len(read_rows(tables['sanctions']))}, "
                     f"{long_date(spans['sanctions'][0])} to {long_date(spans['sanctions'][1])}"
                     + (f" ({'; '.join(p for p in parts if p)})" if any(parts) else "") + ".")
    if "changes" in spans:
        lines.append(f"- **Last change to the log**: {long_date(spans['changes'][1])}.")
    return "\n".join(lines + [END])


def with_readme_block(readme: str, tables: dict[str, bytes]) -> str | None:
    """The README with its "data through" block rewritten, or None if it has no block."""
    if not BLOCK.search(readme):
        return None
    return BLOCK.sub(lambda _: readme_block(tables), readme, count=1)
