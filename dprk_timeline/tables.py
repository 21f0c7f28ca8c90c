"""Tables: project the replayed state into the rows of every table, and write them as CSV.

Rows are dicts of Python values keyed by the Table Schema's field names; writing formats them one
way only (see FORMAT_CELL) and sorts them by primary key, so a rebuild is byte-identical.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import operator
import re
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from .paths import TABLE_SCHEMAS
from .reconcile import disagree, pick
from .replay import Claim, State, day_of, period_end
from .units import format_number

# The order of resources in datapackage.json: facts first, links, then lookups and history.
TABLES = ["launches", "firings", "claims", "statements", "sanctions", "parties", "launch_statements",
          "launch_sanctions", "sanction_parties", "statement_sanctions", "context", "sites", "missile_types",
          "actors", "sources", "changes"]
LIST_SEPARATOR = "; "
DIGITS = re.compile(r"([0-9]+)")
LAUNCH_ATTRIBUTES = ["launched_at", "korea_date", "site", "launch_area", "landing_area", "missile_type",
                     "missile_class", "missile_count", "apogee_km", "range_km", "max_speed_mach",
                     "flight_time_s", "trajectory", "outcome"]
FIRING_ATTRIBUTES = ["launched_at", "missile_type", "apogee_km", "range_km", "max_speed_mach", "flight_time_s",
                     "bearing_deg", "landing_area", "outcome"]
COLUMN = {"launched_at": "launched_at_utc", "site": "site_id", "missile_type": "missile_type_id"}
KOREA = dt.timezone(dt.timedelta(hours=9))


@lru_cache(maxsize=None)
def table_schema(name: str, schema_dir: Path = TABLE_SCHEMAS) -> dict:
    return json.loads((schema_dir / f"{name}.json").read_text(encoding="utf-8"))


def korea_date_of(instant: str) -> str:
    """Korea (UTC+9) calendar date of a UTC instant."""
    moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(KOREA).date().isoformat()


class Projection:
    def __init__(self, state: State):
        self.state = state
        self.kinds = {actor_id: actor["kind"] for actor_id, actor in state.actors.items()}
        self.published = {sid: source["published"] for sid, source in state.sources.items()}
        self.used: set[str] = set()

    def reconcile(self, claims: list[Claim]) -> tuple[dict[str, Claim], set[str]]:
        """Winning claim per attribute, and the attributes whose claims disagree."""
        by_attribute = defaultdict(list)
        for claim in claims:
            by_attribute[claim.attribute].append(claim)
        chosen, disagreeing = {}, set()
        for attribute, group in by_attribute.items():
            chosen[attribute] = pick(group, self.kinds, self.published)
            self.used.add(chosen[attribute].id)
            if disagree(group):
                disagreeing.add(attribute)
        return chosen, disagreeing

    def launch_rows(self) -> tuple[list[dict], list[dict]]:
        claims_by_launch = defaultdict(list)
        for claim in self.state.claims.values():
            if claim.status == "current":
                claims_by_launch[claim.launch_id].append(claim)
        launches, firings = [], []
        for launch_id in self.state.launches:
            claims = claims_by_launch[launch_id]
            launch_level = [c for c in claims if c.missile is None]
            counts, count_disagreement = self.reconcile([c for c in launch_level if c.attribute == "missile_count"])
            count = counts["missile_count"].value if counts else None
            positions = max([count or 0] + [c.missile for c in claims if c.missile])
            # For one missile, "the launch" and "missile 1" are the same thing: pool their claims.
            pooled = claims if positions == 1 else launch_level
            chosen, disagreeing = self.reconcile([c for c in pooled if c.attribute != "missile_count"])
            chosen.update(counts)
            disagreeing |= count_disagreement
            missile_rows = []
            for position in range(1, positions + 1):
                own = [c for c in claims if c.missile == position or (positions == 1 and c.missile is None)]
                picked, differ = self.reconcile([c for c in own if c.attribute in FIRING_ATTRIBUTES])
                disagreeing |= differ
                row = {"launch_id": launch_id, "position": position, "claim_count": len(own)}
                for attribute in FIRING_ATTRIBUTES:
                    row[COLUMN.get(attribute, attribute)] = picked[attribute].value if attribute in picked else None
                missile_rows.append(row)
            firings += missile_rows
            launches.append(self.launch_row(launch_id, claims, chosen, disagreeing, count, missile_rows))
        return launches, firings

    def launch_row(self, launch_id, claims, chosen, disagreeing, count, missile_rows) -> dict:
        def value(attribute):
            return chosen[attribute].value if attribute in chosen else None

        row = {"launch_id": launch_id}
        for attribute in LAUNCH_ATTRIBUTES:
            row[COLUMN.get(attribute, attribute)] = value(attribute)
        for attribute in ("apogee_km", "range_km", "max_speed_mach", "flight_time_s"):
            figures = [m[attribute] for m in missile_rows if m[attribute] is not None]
            if row[attribute] is None and figures:
                row[attribute] = max(figures)  # the salvo's highest / farthest / fastest / longest
        times = [m["launched_at_utc"] for m in missile_rows if m["launched_at_utc"]]
        if row["launched_at_utc"] is None and times:
            row["launched_at_utc"] = min(times)
            chosen.setdefault("launched_at", next(c for c in claims if c.value == min(times)
                                                  and c.attribute == "launched_at"))
        for column in ("missile_type_id", "landing_area", "outcome"):
            shared = {m[column] for m in missile_rows if m[column]}
            if row[column] is None and len(shared) == 1:
                row[column] = shared.pop()  # what every missile of the salvo has in common
            elif row[column] is None and column == "outcome" and len(shared) > 1:
                row[column] = "mixed"
        if row["launched_at_utc"]:
            row["time_precision"] = chosen["launched_at"].precision
            if row["korea_date"] is None:
                row["korea_date"] = korea_date_of(row["launched_at_utc"])
        elif row["korea_date"]:
            row["time_precision"] = chosen["korea_date"].precision
        else:
            row["time_precision"] = "unknown"
        missile_type = self.state.missile_types.get(row["missile_type_id"] or "")
        if missile_type and missile_type.get("class"):
            row["missile_class"] = missile_type["class"]
        row["missile_count"] = count
        countries = {self.state.actors[c.claimant].get("country") for c in claims}
        dprk, others = "KP" in countries, bool(countries - {"KP"})
        row["confirmation"] = "dprk_and_others" if dprk and others else ("dprk_only" if dprk else "others_only")
        row["claim_count"] = len(claims)
        row["source_count"] = len({c.source for c in claims})
        row["sources_disagree"] = bool(disagreeing)
        row["disagreements"] = LIST_SEPARATOR.join(sorted(disagreeing)) or None
        row["first_reported"] = min(day_of(self.published[c.source]) for c in claims)
        return row

    def claim_rows(self) -> list[dict]:
        rows = []
        for claim in self.state.claims.values():
            numeric = isinstance(claim.value, (int, float))
            rows.append({
                "claim_id": claim.id, "launch_id": claim.launch_id, "missile": claim.missile,
                "attribute": claim.attribute,
                "value": format_number(claim.value) if numeric else claim.value,
                "value_number": claim.value if numeric else None, "unit": claim.unit or None,
                "original_text": claim.original_text or None, "original_value": claim.original_value,
                "original_unit": claim.original_unit or None, "qualifier": claim.qualifier,
                "precision": claim.precision or None, "claimant_id": claim.claimant, "source_id": claim.source,
                "source_published": day_of(self.published[claim.source]), "event_id": claim.event.id,
                "recorded_at": claim.event.changeset.recorded_at, "status": claim.status,
                "replaced_by": claim.replaced_by or None, "used": claim.id in self.used,
                "source_record": claim.source_record or None,
                "note": claim.note or None,
            })
        return rows


def dated(record: dict) -> dict:
    precision = record.get("date_precision", "day")
    return {"date": None if precision == "on_or_before" else record["date"],
            "date_latest": period_end(record["date"], precision) if precision != "on_or_before" else record["date"],
            "date_precision": precision, "date_text": record.get("date_text")}


def project(state: State) -> Iterator[tuple[str, list[dict]]]:
    """Every table's name and rows (unsorted), from the replayed state, one table at a time so that a
    caller writing each as it comes holds only one table's row dicts (a gigabyte of claims at 10^6 events)."""
    projection = Projection(state)
    launches, firings = projection.launch_rows()  # before the claims: it marks the claims used
    yield "launches", launches
    yield "firings", firings
    del launches, firings
    yield "claims", projection.claim_rows()
    statements, sanctions = [], []
    links = {name: [] for name in ("launch_statements", "launch_sanctions", "sanction_parties", "statement_sanctions")}
    for statement_id, s in state.statements.items():
        statements.append({"statement_id": statement_id, **dated(s), "actor_id": s["actor"],
                           "country": state.actors[s["actor"]].get("country"), "speaker": s.get("speaker"),
                           "role": s.get("role"), "channel": s.get("channel", "unknown"), "stance": s["stance"],
                           "quote": s.get("quote"), "summary": s["summary"], "source_id": s["source"],
                           "event_id": s["event"].id})
        links["launch_statements"] += [{"launch_id": x, "statement_id": statement_id, "source_id": s["source"]}
                                       for x in s.get("launches", [])]
        links["statement_sanctions"] += [{"statement_id": statement_id, "action_id": x, "source_id": s["source"]}
                                         for x in s.get("sanctions", [])]
    for action_id, a in state.sanctions.items():
        named = len(a.get("parties", []))
        sanctions.append({"action_id": action_id, **dated(a), "action": a["action"], "authority_id": a["authority"],
                          "programme": a.get("programme"), "legal_basis": a.get("legal_basis"),
                          "parties_named": named, "parties_count": a.get("parties_count", named or None),
                          "parties_text": a.get("parties_text"),
                          "blocked_by": LIST_SEPARATOR.join(a.get("blocked_by", [])) or None,
                          "refers_to": a.get("refers_to"), "summary": a["summary"], "source_id": a["source"],
                          "event_id": a["event"].id})
        links["launch_sanctions"] += [{"launch_id": x, "action_id": action_id, "source_id": a["source"]}
                                      for x in a.get("launches", [])]
        links["sanction_parties"] += [{"action_id": action_id, "party_id": x, "source_id": a["source"]}
                                      for x in a.get("parties", [])]
    yield "statements", statements
    yield "sanctions", sanctions
    yield from links.items()
    del statements, sanctions, links
    yield "parties", [{"party_id": pid, "name": p["name"], "kind": p["kind"],
                       "aliases": LIST_SEPARATOR.join(p.get("aliases", [])) or None,
                       "nationality": p.get("nationality"), "un_reference": p.get("un_reference"),
                       "ofac_ent_num": p.get("ofac_ent_num"), "date_of_birth": p.get("date_of_birth"),
                       "title": p.get("title"), "remarks": p.get("remarks"), "linked_on": p.get("linked_on"),
                       "source_id": p["source"]}
                      for pid, p in state.parties.items()]
    yield "context", [{"context_id": cid, "topic": c["topic"], "period_start": c.get("period_start"),
                       "period_end": c.get("period_end"), "value": c.get("value"), "unit": c.get("unit"),
                       "original": c.get("original"), "summary": c["summary"], "claimant_id": c["claimant"],
                       "source_id": c["source"]} for cid, c in state.context.items()]
    yield "sites", [{"site_id": sid, "name": s["name"], "province": s.get("province"), "country": s.get("country"),
                     "latitude": s.get("latitude"), "longitude": s.get("longitude"),
                     "aliases": LIST_SEPARATOR.join(s.get("aliases", [])) or None, "source_id": s["source"]}
                    for sid, s in state.sites.items()]
    yield "missile_types", [{"missile_type_id": mid, "name": m["name"], "class": m.get("class"), "maneuver": m.get("maneuver"),
                             "aliases": LIST_SEPARATOR.join(m.get("aliases", [])) or None, "source_id": m["source"]}
                            for mid, m in state.missile_types.items()]
    yield "actors", [{"actor_id": aid, "name": a["name"], "kind": a["kind"], "country": a.get("country"),
                      "parent_id": a.get("parent")} for aid, a in state.actors.items()]
    yield "sources", [{"source_id": sid, "kind": s["kind"], "publisher": s["publisher"], "title": s.get("title"),
                       "author": s.get("author"), "published": day_of(s["published"]),
                       "published_at_utc": s["published"] if "T" in s["published"] else None,
                       "url": s.get("url"), "version": s.get("version"), "terms": s.get("terms"),
                       "attribution": s.get("attribution")} for sid, s in state.sources.items()]
    yield "changes", [{"event_id": c.event.id, "record_type": c.record_type, "record_id": c.record_id,
                       "change": c.change, "detail": c.detail or None, "reason": c.reason or None,
                       "source_id": c.source or None, "recorded_at": c.event.changeset.recorded_at,
                       "changeset": c.event.changeset.name, "author": c.event.changeset.body["author"]}
                      for c in state.changes]


def natural_key(value):
    """Sort key that puts event/2 before event/10: runs of digits compare as numbers, the text between
    them as text. Splitting on the digit runs alternates text (even places, maybe empty) and numbers (odd
    places); the key is one string, compared in C, in which each text ends with NUL (below any character
    of an ID, so a shorter text sorts first) and each number is written as its digit count (as a
    character from 0x20 up) then its digits without leading zeros, so numbers compare by value.
    It orders strings as the tuples (text, int, text, ..., text) would. Other values are their own key."""
    if not isinstance(value, str):
        return (value,)
    if "\0" in value:
        raise ValueError(f"a key cannot hold a NUL character: {value!r}")
    parts = DIGITS.split(value)
    numbers = [digits.lstrip("0") for digits in parts[1::2]]
    parts[1::2] = [chr(0x20 + len(number)) + number for number in numbers]
    parts[0::2] = [text + "\0" for text in parts[0::2]]
    return "".join(parts)


def _text(value) -> str:
    return "" if value is None else str(value)


def _boolean(value) -> str:
    return "" if value is None else "true" if value else "false"


def _number(value) -> str:
    return "" if value is None else format_number(value)


# The one way a value of each Table Schema type is written in a CSV cell.
FORMAT_CELL = {"boolean": _boolean, "integer": _number, "number": _number}


def to_csv(name: str, rows: list[dict]) -> bytes:
    """A table as CSV bytes: header from its Table Schema, rows sorted by primary key, LF line ends."""
    schema = table_schema(name)
    fields = [(f["name"], f["type"]) for f in schema["fields"]]
    names = [n for n, _ in fields]
    for row in rows[:1]:
        if set(row) != set(names):
            raise ValueError(f"table {name}: projection columns {sorted(row)} differ from schema {sorted(names)}")
    key = schema["primaryKey"]
    sort_key = lru_cache(maxsize=None)(natural_key)  # key parts repeat (one event, many changes)
    if len(key) == 1:
        ordered = sorted(rows, key=lambda r: sort_key(r[key[0]]))
    else:
        ordered = sorted(rows, key=lambda r: tuple(sort_key(r[k]) for k in key))
    # csv writes a string as it is and None as an empty cell, as _text would: only other types need a call.
    cells = operator.itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    converted = [(i, FORMAT_CELL.get(t, _text)) for i, (_, t) in enumerate(fields) if t != "string"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    lines = []
    for row in ordered:
        line = list(cells(row))
        for i, write in converted:
            line[i] = write(line[i])
        lines.append(line)
    writer.writerows(lines)
    return out.getvalue().encode("utf-8")


def render(state: State) -> dict[str, bytes]:
    """Every table as CSV bytes, keyed by table name."""
    tables = {name: to_csv(name, rows) for name, rows in project(state)}
    return {name: tables[name] for name in TABLES}
