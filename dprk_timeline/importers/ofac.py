"""Importer of OFAC SDN list snapshots (sdn.csv, OFAC's headerless format), North Korea related rows.

The snapshots are diffed in order: the first gives the parties already listed then (no action: their
dates are not in the file); in each later one, added entries form one designation action, removed
entries one delisting action, changed entries one amendment action, dated on the day OFAC published
the change in Washington: the copy's time (UTC, in the file name, at most a few hours after publication)
in US Eastern time. That is not always the legal designation date. Programme tags are kept. An
entry that is on evidence a party already in the log (from the UN list) is linked, not duplicated.
Snapshots whose source is in the log are skipped, so importing the same folder again gives nothing. A
snapshot with no earlier one beside it, given to a log that already holds OFAC snapshots (a new download:
scripts/update.py), is diffed against the entries the log holds as listed.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from ..replay.state import State
from ..paths import UPSTREAM
from .common import Plan, UpstreamError
from .parties import country_code, find_match, folded

DEFAULT = UPSTREAM / "ofac-sdn-dprk"
AUTHORITY = "us-ofac"
COLUMNS = ["ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage", "GRT",
           "Vess_flag", "Vess_owner", "Remarks"]
KINDS = {"individual": "individual", "vessel": "vessel", "aircraft": "aircraft", "": "entity"}
WASHINGTON = ZoneInfo("America/New_York")
FILE = re.compile(r"^sdn_([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2})([0-9]{2})Z\.csv$")


def _empty(value: str) -> str:
    value = value.strip()
    return "" if value == "-0-" else value


def read_snapshot(path: Path, report: list[str]) -> dict[int, dict]:
    """Rows of one file by entry number: {'raw': the line's fields, 'party': party dict, 'programmes': [...]}."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UpstreamError(f"{path}: cannot read ({err})") from None
    rows = {}
    for number, fields in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not fields:
            continue
        if len(fields) != len(COLUMNS) or not fields[0].strip().isdigit():
            raise UpstreamError(f"{path.name}: line {number}: expected {len(COLUMNS)} columns starting with an entry number")
        ent_num = int(fields[0])
        kind = KINDS.get(_empty(fields[2]))
        if kind is None:
            report.append(f"{path.name}: entry {ent_num}: SDN_Type {fields[2]!r} not understood; entry skipped")
            continue
        remarks = _empty(fields[11])
        party = {"party_id": f"ofac-{ent_num}", "name": folded(fields[1]), "kind": kind, "ofac_ent_num": ent_num}
        aliases = [folded(a) for a in re.findall(r"a\.k\.a\. '([^']+)'", remarks)]
        if aliases:
            party["aliases"] = list(dict.fromkeys(a for a in aliases if a != party["name"]))
            if not party["aliases"]:
                del party["aliases"]
        nationality = re.search(r"nationality ([^;.]+(?:, North)?)", remarks)
        if nationality:
            code = country_code(nationality.group(1))
            if code:
                party["nationality"] = code
            else:
                report.append(f"{path.name}: entry {ent_num}: nationality {nationality.group(1)!r} not mapped to a country code")
        birth = re.search(r"DOB ([0-9]{2} [A-Z][a-z]{2} [0-9]{4}|[0-9]{4})(?:;|$|\.)", remarks)
        if birth:
            value = birth.group(1)
            party["date_of_birth"] = value if len(value) == 4 else dt.datetime.strptime(value, "%d %b %Y").date().isoformat()
        if remarks:
            party["remarks"] = folded(remarks)[:2000]
        for name, index in (("Title", 4), ("Call_Sign", 5), ("Vess_type", 6), ("Tonnage", 7), ("GRT", 8),
                            ("Vess_flag", 9), ("Vess_owner", 10)):
            if _empty(fields[index]) and name != "Title":
                report.append(f"column {name} (vessels) not imported: no column yet")
        if _empty(fields[4]):
            party["title"] = folded(_empty(fields[4]))
        programmes = [p for p in re.split(r"\]\s*\[", _empty(fields[3]).strip("[]")) if p]
        rows[ent_num] = {"raw": fields, "party": party, "programmes": programmes}
    return rows


def snapshots(folder: Path) -> list[Path]:
    files = sorted(p for p in Path(folder).glob("*.csv") if FILE.match(p.name))
    if not files:
        raise UpstreamError(f"{folder}: no sdn_YYYY-MM-DDTHHMMZ.csv files")
    return files


def published_day(path: Path) -> str:
    """The day in Washington (US Eastern time) when the copy in this file was taken: the day OFAC published what
    it holds (a copy taken at 01:46 UTC is of the evening before in Washington)."""
    day, hour, minute = FILE.match(path.name).groups()
    copied = dt.datetime.fromisoformat(f"{day}T{hour}:{minute}:00+00:00")
    return copied.astimezone(WASHINGTON).date().isoformat()


def source_for(path: Path) -> dict:
    day, hour, minute = FILE.match(path.name).groups()
    return {"source_id": f"ofac-sdn-{day}t{hour}{minute}z", "kind": "official_list_snapshot",
            "publisher": "Office of Foreign Assets Control (OFAC), US Department of the Treasury",
            "title": f"Specially Designated Nationals list (sdn.csv), North Korea related rows, copy of {day} {hour}:{minute} UTC",
            "published": published_day(path), "retrieved": f"{day}T{hour}:{minute}:00Z", "version": path.name,
            "terms": "US government work, public domain.",
            "attribution": "US Department of the Treasury, Office of Foreign Assets Control, Specially Designated Nationals list"}


def arguments(parser) -> None:
    pass  # each snapshot's file name gives its copy time


def plan(folder: Path, state: State, options=None) -> Plan:
    """The changeset of what the snapshots in folder that the log does not hold yet add, change or remove."""
    events, report, notes = plan_events(folder, state)
    return Plan(events, "import-ofac", f"the OFAC SDN snapshots in {Path(folder).name}", report=report, notes=notes)


def plan_events(folder: Path, state: State) -> tuple[list[dict], list[str], list[str]]:
    """(events, report lines, notes) for the snapshots of folder not yet in the log."""
    report, notes, events = [], [], []
    files = snapshots(folder)
    parties = {pid: dict(p) for pid, p in state.of("party").items()}
    by_number = {p["ofac_ent_num"]: pid for pid, p in parties.items() if p.get("ofac_ent_num")}
    actions = set(state.of("sanction"))
    previous = listed_in_log(state) if any(s.startswith("ofac-sdn-") for s in state.of("source")) else None
    if AUTHORITY not in state.of("actor"):
        events.append({"type": "actor", "actor_id": AUTHORITY, "kind": "government", "country": "US", "parent": "us-gov",
                       "name": "Office of Foreign Assets Control, US Department of the Treasury"})
    for path in files:
        rows = read_snapshot(path, report)
        source = source_for(path)
        if source["source_id"] in state.of("source"):
            previous = rows
            continue
        body = []
        day = published_day(path)
        if previous is None:
            added, removed, changed = sorted(rows), [], []
        else:
            added = sorted(set(rows) - set(previous))
            removed = sorted(set(previous) - set(rows))
            changed = sorted(n for n in set(rows) & set(previous) if _changed(rows[n], previous[n]))
        for number in added + changed:
            body += _party_events(rows[number]["party"], parties, by_number, source["source_id"], notes)
        if previous is not None:
            for action, numbers, table in (("designation", added, rows), ("amendment", changed, rows),
                                           ("delisting", removed, previous)):
                if numbers:
                    body.append(_action(action, day, numbers, table, by_number, source["source_id"], actions))
        if body:
            events += [{"type": "source", **source}] + body
        previous = rows
    if events and all(e["type"] == "actor" for e in events):
        events = []
    return events, list(dict.fromkeys(report)), notes


def listed_in_log(state: State) -> dict[int, dict]:
    """The OFAC entries the log holds as listed now, as rows of a snapshot (by entry number): every party with
    an OFAC entry number but those whose latest OFAC action is a delisting."""
    numbers = {pid: p["ofac_ent_num"] for pid, p in state.of("party").items() if p.get("ofac_ent_num")}
    delisted = set()
    for action in sorted((a for a in state.of("sanction").values() if a["authority"] == AUTHORITY),
                         key=lambda a: a.get("date") or ""):
        if action["action"] in ("designation", "delisting"):
            change = delisted.update if action["action"] == "delisting" else delisted.difference_update
            change(action.get("parties", []))
    return {number: {"raw": None, "party": state.of("party")[pid], "programmes": []}
            for pid, number in numbers.items() if pid not in delisted}


def _changed(new: dict, old: dict) -> bool:
    if old["raw"] is not None:
        return new["raw"] != old["raw"]
    held = old["party"]
    return not held.get("un_reference") and any(held.get(k) != v for k, v in new["party"].items() if k != "party_id")


def _party_events(party: dict, parties: dict, by_number: dict, source_id: str, notes: list[str]) -> list[dict]:
    number = party["ofac_ent_num"]
    if number in by_number:
        current = parties[by_number[number]]
        if current.get("un_reference"):
            return []  # linked to a UN entry: the UN list describes it
        changed = {k: v for k, v in party.items() if k != "party_id" and current.get(k) != v}
        if not changed:
            return []
        current.update(changed)
        return [{"type": "correction", "target": f"party:{by_number[number]}", "set": changed,
                 "reason": "revised upstream", "source": source_id}]
    match = find_match(party, parties, "ofac_ent_num")
    if match:
        party_id, why = match
        link = {"ofac_ent_num": number, "linked_on": f"OFAC entry {number} = UN {parties[party_id].get('un_reference')}: {why}"}
        parties[party_id].update(link)
        by_number[number] = party_id
        notes.append(f"OFAC entry {number} linked to {party_id} ({why})")
        return [{"type": "correction", "target": f"party:{party_id}", "set": link, "reason": "linked on evidence",
                 "source": source_id}]
    parties[party["party_id"]] = dict(party)
    by_number[number] = party["party_id"]
    return [{"type": "party", **party, "source": source_id}]


def _action(action: str, day: str, numbers: list[int], rows: dict, by_number: dict, source_id: str, actions: set) -> dict:
    action_id = f"ofac-{action}-{day}"
    n = 1
    while action_id in actions:
        n += 1
        action_id = f"ofac-{action}-{day}-{n}"
    actions.add(action_id)
    programmes = sorted({p for number in numbers for p in rows[number]["programmes"]})
    verb = {"designation": "adds", "amendment": "changes", "delisting": "removes"}[action]
    return {"type": "sanction", "action_id": action_id, "action": action, "authority": AUTHORITY,
            **({"programme": "; ".join(programmes)} if programmes else {}), "date": day, "parties": [by_number[n] for n in numbers],
            "source": source_id,
            "summary": f"The OFAC SDN list {verb} {len(numbers)} North Korea related {'entry' if len(numbers) == 1 else 'entries'}, "
                       "as published by this day."}
