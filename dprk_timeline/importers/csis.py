"""Importer of the CSIS Beyond Parallel database of North Korean provocations (a CSV export): a second,
independent record of the launches.

A row is one day's event: its Korea date (as CSIS writes it), a type ("Missile Provocation" ...), an
event label ("Short-range Ballistic Missile Launch"), and CSIS's own description and references, which are
read for nothing and never copied. For each missile row, the launches of the log on that Korea date get
two claims of CSIS: the Korea date, and the class its label names (none for a label that does not say:
"Short-range Missile Launch" covers rocket launchers and cruise missiles too). A ballistic row whose day
holds no launch of the log goes to the one launch a day before or after, if there is exactly one: the two
Korea dates then disagree in the launches table, which is how a day confused between Korea and UTC or US
time shows (a note names each). Rows of other kinds of missile (cruise, anti-ship, surface-to-air), rows
without a launch near their day, and labels this importer does not know are reported, not imported.
Importing the same export again gives nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from pathlib import Path

from ..dates import day_option
from ..replay.state import State
from .common import Plan, UpstreamError, commit_option

DEFAULT = None  # not among the snapshots in ../shared/upstream: give the path of the CSV export
CLAIMANT = "csis"
ACTOR = {"type": "actor", "actor_id": CLAIMANT, "kind": "research_dataset", "country": "US",
         "name": "Center for Strategic and International Studies (CSIS), Beyond Parallel"}
ATTRIBUTION = "CSIS Beyond Parallel, Database: North Korean Provocations"
# the columns of the two exports known (the CSIS download, and an older copy with year, month and weekday added)
COLUMNS = {"date": ("Date", "date"), "type": ("Type", "type"), "event": ("Event", "event")}
NOT_IMPORTED = {"Description": "CSIS's own prose: read, never copied", "description": "CSIS's own prose: read, never copied",
                "Resources": "CSIS's references", "media": "CSIS's references",
                "year": "derived from the date", "month": "derived from the date", "weekday": "derived from the date"}
CLASSES = {
    "inter-continental ballistic missile launch": "ICBM", "inter-continential ballistic missile launch": "ICBM",
    "intercontinental ballistic missile": "ICBM", "intermediate-range ballistic missile launch": "IRBM",
    "medium-range ballistic missile launch": "MRBM", "short-range ballistic missile launch": "SRBM",
    "submarine launched ballistic missile launch": "SLBM", "ballistic missile launch": "BM",
    "ballistic missile launch (type unknown)": "BM", "short-range missile launch": None,
    # a salvo of several classes counts as a launch of its longest-range class, as in the launches table
    "inter-continental ballistic missile/short-range missile launches": "ICBM",
    "satellite launch": "SLV", "satellite launch (other provocation)": "SLV",
}
OTHER_MISSILES = re.compile(r"cruise|anti-ship|surface-to-air|anti-aircraft|surface-to-ship", re.I)


def arguments(parser) -> None:
    parser.add_argument("--commit", required=True, type=commit_option,
                        help="commit of the repository the export was copied from (40 hex digits)")
    parser.add_argument("--published", required=True, type=day_option,
                        help="the export's date, or the latest date it holds when it is not dated (YYYY-MM-DD)")
    parser.add_argument("--repository", default="stiles/notebooks", help="the repository the export was copied from")




def read_rows(path: Path) -> tuple[list[dict], list[str]]:
    """The missile rows of the export (date, event label, row key), and report lines."""
    path = Path(path) if path else None
    if path is None or not path.is_file():
        raise UpstreamError(f"{path}: file not found (give the path of the CSIS CSV export)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise UpstreamError(f"{path}: cannot read ({err})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    names = {key: next((n for n in options if n in header), None) for key, options in COLUMNS.items()}
    if None in names.values():
        raise UpstreamError(f"{path.name}: expected the columns Date, Type and Event (or date, type, event); "
                            f"found {', '.join(header)}")
    report = [f"{path.name}: column {name!r} not imported: {NOT_IMPORTED.get(name, 'not handled by this importer')}"
              for name in header if name not in names.values()]
    record = re.sub(r"[^A-Za-z0-9._+-]", "_", path.name)  # the file's name as a source record can hold it
    rows, per_date = [], defaultdict(int)
    for number, raw in enumerate(reader, start=1):
        date = (raw[names["date"]] or "").strip()
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", date):
            report.append(f"{path.name}: row {number}: date {date!r} is not YYYY-MM-DD; row skipped")
            continue
        per_date[date] += 1
        if raw[names["type"]].strip() != "Missile Provocation":
            continue
        rows.append({"date": date, "event": " ".join(raw[names["event"]].split()),
                     "key": f"{record}#{date}/{per_date[date]}"})
    return rows, report


def plan(path: Path, state: State, options) -> Plan:
    """The changeset of the claims the export adds to the launches of the log."""
    rows, report = read_rows(path)
    source = {"source_id": f"csis-provocations-{options.commit[:7]}", "kind": "research_dataset",
              "publisher": f"Center for Strategic and International Studies (CSIS), Beyond Parallel; the CSV export "
                           f"kept in the {options.repository} repository",
              "title": "Database: North Korean Provocations (CSV export)", "published": options.published,
              "url": "https://beyondparallel.csis.org/database-north-korean-provocations/",
              "version": f"{options.repository} commit {options.commit}, {Path(path).name}",
              "terms": "No licence is stated for the export; only facts (dates and missile classes) are taken, "
                       "with attribution; CSIS's descriptions are not copied.",
              "attribution": ATTRIBUTION}
    events, notes = claims_events(rows, state, source["source_id"], report)
    if events:
        head = [] if source["source_id"] in state.of("source") else [{"type": "source", **source}]
        events = head + ([] if CLAIMANT in state.of("actor") else [ACTOR]) + events
    return Plan(events, f"import-csis-{options.commit[:7]}", f"the CSIS provocations export {Path(path).name}",
                report=report, notes=notes)


def claims_events(rows: list[dict], state: State, source_id: str, report: list[str]) -> tuple[list[dict], list[str]]:
    """A claims event per launch that a row's day holds and that has no claim of this export yet."""
    by_date = defaultdict(list)
    for claim in state.claims.values():
        if claim.attribute == "korea_date" and claim.status == "current" and claim.launch_id in state.of("launch"):
            if claim.launch_id not in by_date[claim.value]:
                by_date[claim.value].append(claim.launch_id)
    done = {c.launch_id for c in state.claims.values() if c.source == source_id}
    events, notes, unknown = [], [], defaultdict(int)
    for row in rows:
        label = row["event"].lower()
        if OTHER_MISSILES.search(label):
            notes.append(f"{row['key']}: {row['event']}: not a ballistic launch; not imported")
            continue
        if label not in CLASSES:
            unknown[row["event"]] += 1
            continue
        launches = sorted(by_date.get(row["date"], []))
        if not launches and CLASSES[label]:
            launches = neighbour(by_date, row["date"])
            if launches:
                notes.append(f"{row['key']}: {row['event']}: no launch of Korea date {row['date']} in the log; its "
                             f"claims go to {launches[0]}, a day away (check which date is right)")
        if not launches:
            notes.append(f"{row['key']}: {row['event']}: no launch of Korea date {row['date']} in the log")
            continue
        for launch_id in launches:
            if launch_id in done:
                continue
            done.add(launch_id)
            claims = [{"attribute": "korea_date", "value": row["date"], "original": {"text": row["date"]},
                       "source_record": row["key"]}]
            if CLASSES[label]:
                claims.append({"attribute": "missile_class", "value": CLASSES[label], "original": {"text": row["event"]},
                               "source_record": row["key"]})
            events.append({"type": "claims", "launch_id": launch_id, "source": source_id, "claimant": CLAIMANT,
                           "claims": claims})
    report += [f"event label {label!r} in {n} missile rows not handled by this importer" for label, n in sorted(unknown.items())]
    return events, notes


def neighbour(by_date: dict[str, list[str]], date: str) -> list[str]:
    """The one launch of the day before or after, if there is exactly one (else none)."""
    day = dt.date.fromisoformat(date)
    near = [launch for step in (-1, 1) for launch in by_date.get((day + dt.timedelta(days=step)).isoformat(), [])]
    return near if len(near) == 1 else []
