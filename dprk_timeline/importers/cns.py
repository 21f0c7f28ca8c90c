"""Importer of the CNS North Korea Missile Test Database, as derived by nagix/nk-missile-tests.

It reads a snapshot folder (test.en.json, missile.en.json, facility.en.json), compares it with what the
log already holds from CNS, and returns the events of one changeset: the snapshot as a source, new
sites and missile types, new launches and claims, corrections ("revised upstream") and retractions
("removed upstream"). Importing the same snapshot twice gives nothing. CNS's description prose is
never copied; fields and values it does not handle are reported, not dropped silently.

Grouping missiles into launch events (the README has the same rule):
1. A missile's Korea date is its UTC time + 9 h. Without a time, it takes the Korea date of the timed
   missiles of the same UTC date and facility; with none, its UTC date, marked approximate. Month-only
   dates stay months.
2. Missiles of the same Korea date and facility are one launch event, unless more than 60 minutes pass
   between two timed missiles: then a new event starts (untimed missiles join the first).
3. In an event, missiles are ordered by time, then CNS's series number, then file order.
4. A new event joins a launch already in the log when both are the only launch of that Korea date;
   otherwise it becomes a new launch, numbered after the launches already on that date.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..replay import Claim, State
from ..tables import korea_date_of

TEST_FILE = "test.en.json"
CLAIMANT = "cns"
BURST_GAP = dt.timedelta(minutes=60)
HANDLED = {"date", "time", "series", "missile", "facility", "landing", "apogee", "distance", "bearing", "outcome"}
NOT_IMPORTED = {
    "description": "CNS's own prose: read, never copied",
    "glide": "glide segments have no column yet",
}
LANDING = {"sea-of-japan": "Sea of Japan", "yellow-sea": "Yellow Sea", "pacific-ocean": "Pacific Ocean",
           "north-korea": "North Korea"}
NOT_GIVEN = {"unknown", "na"}
ATTRIBUTION = "CNS North Korea Missile Test Database, James Martin Center for Nonproliferation Studies, for the Nuclear Threat Initiative"


class SnapshotError(ValueError):
    """The snapshot cannot be read at all (missing file, not JSON, wrong shape)."""


@dataclass
class Row:
    key: str                   # test.en.json#<UTC date>/<n>: the n-th row of that date in file order
    order: int
    raw: dict
    utc_date: str
    time: str | None           # HH:MM UTC
    korea_date: str = ""
    precision: str = "day"     # day or month
    approximate: bool = False

    @property
    def instant(self) -> dt.datetime | None:
        if self.time is None or self.precision == "month":
            return None
        return dt.datetime.fromisoformat(f"{self.utc_date}T{self.time}:00+00:00")


@dataclass
class Snapshot:
    rows: list[Row]
    missiles: dict
    facilities: dict
    report: list[str] = field(default_factory=list)


def _load(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{path}: file not found") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise SnapshotError(f"{path}: not valid JSON ({err})") from None


def read_snapshot(folder: Path) -> Snapshot:
    folder = Path(folder)
    tests = _load(folder / TEST_FILE)
    missiles = _load(folder / "missile.en.json")
    facilities = _load(folder / "facility.en.json")
    if not isinstance(tests, dict) or not isinstance(tests.get("timeBins"), list):
        raise SnapshotError(f"{folder / TEST_FILE}: expected an object with a timeBins list")
    if not isinstance(facilities, dict) or not isinstance(facilities.get("facilities"), dict):
        raise SnapshotError(f"{folder / 'facility.en.json'}: expected an object with a facilities object")
    report = []
    unhandled = defaultdict(int)
    rows, per_date = [], defaultdict(int)
    for time_bin in tests["timeBins"]:
        for raw in time_bin.get("data", []):
            for name in raw:
                if name not in HANDLED:
                    unhandled[name] += 1
            date = str(raw.get("date", ""))
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", date):
                report.append(f"{TEST_FILE}: row {len(rows) + 1}: date {date!r} is not YYYY-MM-DD or YYYY-MM; row skipped")
                continue
            time = raw.get("time", "unknown")
            match = re.fullmatch(r"([0-9]{2}:[0-9]{2}) \(UTC\)", str(time))
            if not match and time != "unknown":
                report.append(f"{TEST_FILE}: {date}: time {time!r} not understood; imported without a time")
            per_date[date] += 1
            row = Row(f"{TEST_FILE}#{date}/{per_date[date]}", len(rows), raw, date, match.group(1) if match else None)
            if len(date) == 7:
                row.precision, row.korea_date = "month", f"{date}-01"
            rows.append(row)
    for name, count in sorted(unhandled.items()):
        why = NOT_IMPORTED.get(name, "field not handled by this importer")
        report.append(f"{TEST_FILE}: field {name!r} in {count} rows not imported: {why}")
    _check_values(rows, missiles, facilities["facilities"], report)
    _korea_dates(rows)
    return Snapshot(rows, missiles, facilities["facilities"], report)


def _check_values(rows, missiles, facilities, report):
    """Report values the importer does not know, so that none is dropped silently."""
    problems = defaultdict(int)
    for row in rows:
        raw = row.raw
        if raw.get("missile", "unknown") not in missiles and raw.get("missile") != "unknown":
            problems[f"missile {raw.get('missile')!r} is not in missile.en.json; no missile_type claim"] += 1
        if raw.get("facility", "unknown") not in facilities:
            problems[f"facility {raw.get('facility')!r} is not in facility.en.json; no site claim"] += 1
        landing = raw.get("landing", "unknown")
        if landing not in LANDING and landing not in NOT_GIVEN:
            problems[f"landing {landing!r} not understood; no landing_area claim"] += 1
        if raw.get("outcome", "unknown") not in ("success", "failure", "unknown"):
            problems[f"outcome {raw.get('outcome')!r} not understood; no outcome claim"] += 1
        for name in ("apogee", "distance", "bearing"):
            value = raw.get(name, "unknown")
            if value not in NOT_GIVEN and _number(value) is None:
                problems[f"{name} {value!r} is not a number; no claim"] += 1
    for text, count in sorted(problems.items()):
        report.append(f"{TEST_FILE}: {text} ({count} rows)")


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        return float(value)
    return None


def _korea_dates(rows: list[Row]) -> None:
    timed = defaultdict(set)
    for row in rows:
        if row.instant:
            row.korea_date = korea_date_of(row.instant.strftime("%Y-%m-%dT%H:%M:%SZ"))
            timed[(row.utc_date, row.raw.get("facility"))].add(row.korea_date)
    for row in rows:
        if not row.korea_date:
            siblings = timed.get((row.utc_date, row.raw.get("facility")))
            row.korea_date = min(siblings) if siblings else row.utc_date
            row.approximate = not siblings


def group(rows: list[Row]) -> list[list[Row]]:
    """Launch events: rows grouped by the rule in the module docstring, each ordered by firing."""
    by_day_site = defaultdict(list)
    for row in rows:
        by_day_site[(row.korea_date, row.precision, row.raw.get("facility", "unknown"))].append(row)
    events = []
    for members in by_day_site.values():
        members.sort(key=lambda r: (r.instant is None, r.instant or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                                    r.raw.get("series", 0), r.order))
        bursts, last = [[]], None
        for row in members:
            if row.instant and last and row.instant - last > BURST_GAP:
                bursts.append([])
            (bursts[-1] if row.instant else bursts[0]).append(row)
            last = row.instant or last
        events += [b for b in bursts if b]
    return events


# -- claims wanted from the snapshot ----------------------------------------------------------------
def missile_claims(row: Row, snapshot: Snapshot) -> dict[str, dict]:
    """Per-missile claims the row supports, by attribute (without claimant, source or position)."""
    raw, wanted = row.raw, {}
    if row.instant:
        wanted["launched_at"] = {"value": row.instant.strftime("%Y-%m-%dT%H:%M:%SZ"), "precision": "minute",
                                 "original": {"text": f"{row.utc_date} {raw['time']}"}}
    missile = raw.get("missile")
    if missile in snapshot.missiles and missile != "unknown":
        wanted["missile_type"] = {"value": missile, "original": {"text": snapshot.missiles[missile]["name"]}}
    for attribute, name, unit in (("apogee_km", "apogee", "km"), ("range_km", "distance", "km"), ("bearing_deg", "bearing", "deg")):
        number = _number(raw.get(name))
        if number is not None and not (attribute == "bearing_deg" and number > 360):
            value = int(number) if number.is_integer() else number
            wanted[attribute] = {"original": {"text": f"{name}: {raw[name]}", "value": value, "unit": unit}}
    landing = raw.get("landing")
    if landing in LANDING:
        wanted["landing_area"] = {"value": LANDING[landing], "original": {"text": landing}}
    if raw.get("outcome") in ("success", "failure"):
        wanted["outcome"] = {"value": raw["outcome"], "original": {"text": raw["outcome"]}}
    return wanted


def launch_claims(rows: list[Row], snapshot: Snapshot) -> dict[str, dict]:
    first = rows[0]
    text = first.utc_date + (f" {first.raw['time']}" if first.time else "")
    korea = {"value": first.korea_date, "precision": first.precision, "original": {"text": text}}
    if first.approximate:
        korea["qualifier"] = "approximate"
        korea["note"] = "CNS gives the UTC date without a time; in Korea it was that day or the next."
    wanted = {"korea_date": korea,
              "missile_count": {"original": {"text": f"{len(rows)} missile records", "value": len(rows), "unit": "missiles"}}}
    facility = first.raw.get("facility")
    if facility in snapshot.facilities and facility != "unknown":
        wanted["site"] = {"value": facility, "original": {"text": snapshot.facilities[facility]["name"]}}
    return wanted


def _same(claim: Claim, wanted: dict) -> bool:
    original = wanted.get("original", {})
    if "value" in wanted:
        if claim.value != wanted["value"]:
            return False
    elif claim.original_value != original.get("value") or claim.original_unit != original.get("unit"):
        return False
    return (claim.original_text == original.get("text", "") and claim.precision == wanted.get("precision", claim.precision)
            and claim.qualifier == wanted.get("qualifier", "exact"))


# -- the plan: events that bring the log up to the snapshot -----------------------------------------------
@dataclass
class Plan:
    events: list[dict] = field(default_factory=list)
    new_launches: int = 0
    new_claims: int = 0
    corrections: int = 0
    retractions: int = 0
    notes: list[str] = field(default_factory=list)


def plan_import(snapshot: Snapshot, state: State, source: dict) -> Plan:
    plan = Plan()
    source_id = source["source_id"]
    lookups = _lookups(snapshot, state, source_id)

    ours = [c for c in state.claims.values() if c.claimant == CLAIMANT and c.status == "current" and c.source_record]
    place, per_row, per_launch = {}, defaultdict(dict), defaultdict(dict)
    for claim in ours:
        row_key = claim.source_record
        if claim.missile is None:
            per_launch[claim.launch_id][claim.attribute] = claim
        else:
            place[row_key] = (claim.launch_id, claim.missile)
            per_row[row_key][claim.attribute] = claim

    body = []
    events = group(snapshot.rows)
    taken = _launches_by_date(state)
    # every launch ID the log has given, to launches still there or retracted or merged since: never reused
    reserved = set(state.launches) | {key.split(":", 1)[1] for key in state.retired if key.startswith("launch:")}
    new_by_date = defaultdict(list)
    for rows in events:
        if not any(r.key in place for r in rows):
            new_by_date[rows[0].korea_date].append(rows)
    seen_rows = set()
    for rows in sorted(events, key=lambda rs: (rs[0].korea_date, rs[0].instant is None,
                                                rs[0].instant or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                                                rs[0].raw.get("facility", ""))):
        seen_rows |= {r.key for r in rows}
        launches = {place[r.key][0] for r in rows if r.key in place}
        if len(launches) > 1:
            plan.notes.append(f"upstream now groups rows of launches {sorted(launches)} together; left as they are")
        if launches:
            launch_id = min(launches)
            positions = [place[r.key][1] for r in rows if r.key in place and place[r.key][0] == launch_id]
            next_position = max(positions + [0])
            additions = []
            for row in rows:
                if row.key in place:
                    body += _update(plan, row.key, missile_claims(row, snapshot), per_row[row.key], source_id)
                    missing = {a: w for a, w in missile_claims(row, snapshot).items() if a not in per_row[row.key]}
                    additions += [_claim(a, w, source_id, row.key, place[row.key][1]) for a, w in missing.items()]
                else:
                    next_position += 1
                    additions += [_claim(a, w, source_id, row.key, next_position)
                                  for a, w in missile_claims(row, snapshot).items()]
            wanted = launch_claims(rows, snapshot)
            wanted["missile_count"]["original"]["value"] = max(next_position, len(rows))
            wanted["missile_count"]["original"]["text"] = f"{max(next_position, len(rows))} missile records"
            body += _update(plan, None, wanted, per_launch[launch_id], source_id)
            additions += [_claim(a, w, source_id, rows[0].key, None) for a, w in wanted.items() if a not in per_launch[launch_id]]
            if additions:
                body.append({"type": "claims", "launch_id": launch_id, "source": source_id, "claimant": CLAIMANT, "claims": additions})
                plan.new_claims += len(additions)
            continue
        claims = [_claim(a, w, source_id, rows[0].key, None) for a, w in launch_claims(rows, snapshot).items()]
        for position, row in enumerate(rows, start=1):
            claims += [_claim(a, w, source_id, row.key, position) for a, w in missile_claims(row, snapshot).items()]
        day = rows[0].korea_date
        existing = [lid for lid in taken.get(day, []) if lid not in per_launch]
        if rows[0].precision == "day" and len(existing) == 1 and len(new_by_date[day]) == 1:
            body.append({"type": "claims", "launch_id": existing[0], "source": source_id, "claimant": CLAIMANT, "claims": claims})
            plan.notes.append(f"{rows[0].key}: joined launch {existing[0]}, the only launch of Korea date {day} on both sides")
        else:
            launch_id = _next_id(day, rows[0].precision, reserved)
            body.append({"type": "launch", "launch_id": launch_id, "source": source_id, "claimant": CLAIMANT, "claims": claims})
            plan.new_launches += 1
            if existing:
                plan.notes.append(f"{launch_id}: Korea date {day} also has {', '.join(existing)}; merge by hand if one launch")
        plan.new_claims += len(claims)

    body += _removed(plan, state, set(per_row) - seen_rows, place, per_row, per_launch, source_id)
    if body or lookups:
        head = [] if source_id in state.sources else [{"type": "source", **source}]
        if CLAIMANT not in state.actors:
            head.append({"type": "actor", "actor_id": CLAIMANT, "kind": "research_dataset",
                         "name": "James Martin Center for Nonproliferation Studies (CNS), North Korea Missile Test Database"})
        plan.events = head + lookups + body
    return plan


def _removed(plan: Plan, state: State, gone: set[str], place: dict, per_row: dict, per_launch: dict,
             source_id: str) -> list[dict]:
    """Retractions for rows removed upstream: their claims, or the whole launch when nothing else is left of it."""
    events = []
    remaining = defaultdict(set)
    for row_key, (launch_id, _) in place.items():
        if row_key not in gone:
            remaining[launch_id].add(row_key)
    for launch_id in sorted({place[k][0] for k in gone}):
        others = [c for c in state.claims.values()
                  if c.launch_id == launch_id and c.status == "current" and c.claimant != CLAIMANT]
        if not remaining[launch_id] and not others:
            events.append({"type": "retraction", "target": f"launch:{launch_id}", "reason": "removed upstream",
                           "source": source_id})
            plan.retractions += 1
            continue
        doomed = [c for k in sorted(gone) if place[k][0] == launch_id for c in per_row[k].values()]
        if not remaining[launch_id]:
            doomed += list(per_launch[launch_id].values())
        for claim in doomed:
            events.append({"type": "retraction", "target": f"claim:{claim.id}", "reason": "removed upstream",
                           "source": source_id})
            plan.retractions += 1
    return events


def _claim(attribute: str, wanted: dict, source_id: str, row_key: str, position: int | None) -> dict:
    claim = {"attribute": attribute, **wanted, "source_record": row_key}
    if position is not None:
        claim["missile"] = position
    return claim


def _update(plan: Plan, row_key, wanted: dict, existing: dict[str, Claim], source_id: str) -> list[dict]:
    """Corrections and retractions that bring existing claims to what the snapshot says."""
    events = []
    for attribute, claim in sorted(existing.items()):
        if attribute not in wanted:
            events.append({"type": "retraction", "target": f"claim:{claim.id}", "reason": "removed upstream", "source": source_id})
            plan.retractions += 1
        elif not _same(claim, wanted[attribute]):
            replacement = {"attribute": attribute, **wanted[attribute], "source_record": claim.source_record}
            if claim.missile is not None:
                replacement["missile"] = claim.missile
            events.append({"type": "correction", "target": f"claim:{claim.id}", "reason": "revised upstream",
                           "source": source_id, "claim": replacement})
            plan.corrections += 1
    return events


def _launches_by_date(state: State) -> dict[str, list[str]]:
    dates = defaultdict(list)
    for claim in state.claims.values():
        if claim.attribute == "korea_date" and claim.status == "current" and claim.launch_id in state.launches:
            if claim.launch_id not in dates[claim.value]:
                dates[claim.value].append(claim.launch_id)
    return dates


def _next_id(day: str, precision: str, reserved: set[str]) -> str:
    """The next free sequence number of that Korea date (IDs of retired launches are never reused)."""
    prefix = day[:8] + "00" if precision == "month" else day
    n = 1
    while f"{prefix}-{n}" in reserved:
        n += 1
    reserved.add(f"{prefix}-{n}")
    return f"{prefix}-{n}"


def _lookups(snapshot: Snapshot, state: State, source_id: str) -> list[dict]:
    events = []
    for site_id, facility in sorted(snapshot.facilities.items()):
        if site_id == "unknown":
            continue  # a placeholder location, not a site
        wanted = {"name": facility["name"], "country": "KP", "latitude": facility["lat"], "longitude": facility["lon"]}
        events += _lookup("site", site_id, wanted, state.sites, source_id)
    for type_id, missile in sorted(snapshot.missiles.items()):
        if type_id == "unknown":
            continue
        name, aliases = missile["name"], []
        match = re.fullmatch(r"(.+?) \((.+)\)", name)
        if match:
            name, aliases = match.group(1), [a.strip() for a in match.group(2).split(",")]
        wanted = {"name": name, "class": missile.get("type", "Unknown")}
        if aliases:
            wanted["aliases"] = aliases
        if missile.get("maneuver"):
            wanted["maneuver"] = missile["maneuver"]
        events += _lookup("missile_type", type_id, wanted, state.missile_types, source_id)
    return events


def _lookup(kind: str, record_id: str, wanted: dict, existing: dict, source_id: str) -> list[dict]:
    if record_id not in existing:
        return [{"type": kind, f"{kind}_id": record_id, **wanted, "source": source_id}]
    changed = {k: v for k, v in wanted.items() if existing[record_id].get(k) != v}
    if not changed:
        return []
    return [{"type": "correction", "target": f"{kind}:{record_id}", "set": changed, "reason": "revised upstream",
             "source": source_id}]
