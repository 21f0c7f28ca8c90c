"""The CNS North Korea Missile Test Database as nagix/nk-missile-tests publishes it: its rows (one per
missile, dated in UTC), checked and grouped into launch events, and the claims each row supports.

Grouping missiles into launch events (the README has the same rule):
1. A missile's Korea date is its UTC time + 9 h. Without a time, it takes the Korea date of the timed
   missiles of the same UTC date and facility; with none, its UTC date, marked approximate. Month-only
   dates stay months.
2. Missiles of the same Korea date and facility are one launch event, unless more than 60 minutes pass
   between two timed missiles: then a new event starts (untimed missiles join the first).
3. In an event, missiles are ordered by time, then CNS's series number, then file order.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..dates import korea_date_of
from .common import UpstreamError

TEST_FILE = "test.en.json"
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
        raise UpstreamError(f"{path}: file not found") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise UpstreamError(f"{path}: not valid JSON ({err})") from None


def read_snapshot(folder: Path) -> Snapshot:
    folder = Path(folder)
    tests = _load(folder / TEST_FILE)
    missiles = _load(folder / "missile.en.json")
    facilities = _load(folder / "facility.en.json")
    if not isinstance(tests, dict) or not isinstance(tests.get("timeBins"), list):
        raise UpstreamError(f"{folder / TEST_FILE}: expected an object with a timeBins list")
    if not isinstance(facilities, dict) or not isinstance(facilities.get("facilities"), dict):
        raise UpstreamError(f"{folder / 'facility.en.json'}: expected an object with a facilities object")
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
