"""Importer of the CNS North Korea Missile Test Database, as derived by nagix/nk-missile-tests.

It reads a snapshot folder (test.en.json, missile.en.json, facility.en.json; cns_rows.py), compares it with
what the log already holds from CNS, and plans one changeset: the snapshot as a source, new sites and
missile types, new launches and claims, corrections ("revised upstream") and retractions ("removed
upstream"). Importing the same snapshot twice gives nothing. CNS's description prose is never copied;
fields and values it does not handle are reported, not dropped silently.

A new launch event joins a launch already in the log when both are the only launch of that Korea date;
otherwise it becomes a new launch, numbered after the launches already on that date.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

from ..dates import day_option
from ..paths import UPSTREAM
from ..replay.state import Claim, State
from .cns_rows import ATTRIBUTION, Row, Snapshot, group, launch_claims, missile_claims, read_snapshot
from .common import Plan, commit_option

DEFAULT = UPSTREAM / "cns-via-nagix"
CLAIMANT = "cns"


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
def arguments(parser) -> None:
    parser.add_argument("--commit", required=True, type=commit_option, help="upstream commit of the snapshot (40 hex digits)")
    parser.add_argument("--published", required=True, type=day_option, help="date of that commit (YYYY-MM-DD)")




def source_of(commit: str, published: str) -> dict:
    return {
        "source_id": f"cns-missile-tests-{commit[:7]}", "kind": "research_dataset",
        "publisher": "James Martin Center for Nonproliferation Studies (CNS), for the Nuclear Threat Initiative; "
                     "derived by the nagix/nk-missile-tests repository",
        "title": "CNS North Korea Missile Test Database (nagix/nk-missile-tests data files)",
        "published": published, "url": "https://github.com/nagix/nk-missile-tests", "version": f"commit {commit}",
        "terms": "Facts from CNS/NTI, cited with the attribution; the repository is Apache-2.0; "
                 "CNS's description prose is not copied.",
        "attribution": ATTRIBUTION,
    }


def plan(folder: Path, state: State, options) -> Plan:
    """The changeset that brings the log up to the snapshot in folder (options: commit and published)."""
    snapshot = read_snapshot(folder)
    source = source_of(options.commit, options.published)
    if getattr(options, "retrieved_at", None):  # downloaded by scripts/update.py
        source["retrieved"] = options.retrieved_at
    planner = Planner(snapshot, state, source)
    events = planner.events()
    n = planner.counts
    return Plan(events, f"import-cns-{options.commit[:7]}",
                f"the CNS North Korea Missile Test Database, snapshot {options.commit[:7]}",
                f"{n['new launches']} new launches, {n['claims']} claims, {n['corrections']} corrections "
                f"(revised upstream), {n['retractions']} retractions (removed upstream)", snapshot.report, planner.notes)


class Planner:
    """Compares a snapshot with what the log holds from CNS (claims by their upstream row), and plans events."""

    def __init__(self, snapshot: Snapshot, state: State, source: dict):
        self.snapshot, self.state, self.source = snapshot, state, source
        self.source_id = source["source_id"]
        self.notes: list[str] = []
        self.counts = {"new launches": 0, "claims": 0, "corrections": 0, "retractions": 0}
        # the log's current CNS claims: by upstream row (its launch and missile), and launch-wide ones by launch
        self.place, self.per_row, self.per_launch = {}, defaultdict(dict), defaultdict(dict)
        for claim in state.claims.values():
            if claim.claimant != CLAIMANT or claim.status != "current" or not claim.source_record:
                continue
            if claim.missile is None:
                self.per_launch[claim.launch_id][claim.attribute] = claim
            else:
                self.place[claim.source_record] = (claim.launch_id, claim.missile)
                self.per_row[claim.source_record][claim.attribute] = claim
        # every launch ID the log has given, to launches still there or retracted or merged since: never reused
        self.reserved = set(state.of("launch")) | {key.split(":", 1)[1] for key in state.retired
                                                   if key.startswith("launch:")}

    def events(self) -> list[dict]:
        lookups = _lookups(self.snapshot, self.state, self.source_id)
        launch_events = group(self.snapshot.rows)
        taken = _launches_by_date(self.state)
        new_by_date = defaultdict(list)
        for rows in launch_events:
            if not any(r.key in self.place for r in rows):
                new_by_date[rows[0].korea_date].append(rows)
        body, seen_rows = [], set()
        for rows in sorted(launch_events, key=lambda rs: (rs[0].korea_date, rs[0].instant is None,
                                                          rs[0].instant or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                                                          rs[0].raw.get("facility", ""))):
            seen_rows |= {r.key for r in rows}
            launches = {self.place[r.key][0] for r in rows if r.key in self.place}
            if len(launches) > 1:
                self.notes.append(f"upstream now groups rows of launches {sorted(launches)} together; left as they are")
            if launches:
                body += self.known_launch(min(launches), rows)
            else:
                day = rows[0].korea_date
                existing = [lid for lid in taken.get(day, []) if lid not in self.per_launch]
                body.append(self.new_launch(rows, existing, alone=len(new_by_date[day]) == 1))
        body += self.removed(set(self.per_row) - seen_rows)
        if not (body or lookups):
            return []
        head = [] if self.source_id in self.state.of("source") else [{"type": "source", **self.source}]
        if CLAIMANT not in self.state.of("actor"):
            head.append({"type": "actor", "actor_id": CLAIMANT, "kind": "research_dataset",
                         "name": "James Martin Center for Nonproliferation Studies (CNS), North Korea Missile Test Database"})
        return head + lookups + body

    def known_launch(self, launch_id: str, rows: list[Row]) -> list[dict]:
        """Corrections, retractions and new claims that bring a launch in the log up to its rows."""
        source_id, body, additions = self.source_id, [], []
        positions = [self.place[r.key][1] for r in rows if r.key in self.place and self.place[r.key][0] == launch_id]
        next_position = max(positions + [0])
        for row in rows:
            wanted = missile_claims(row, self.snapshot)
            if row.key in self.place:
                body += self.update(wanted, self.per_row[row.key])
                additions += [_claim(a, w, row.key, self.place[row.key][1]) for a, w in wanted.items()
                              if a not in self.per_row[row.key]]
            else:
                next_position += 1
                additions += [_claim(a, w, row.key, next_position) for a, w in wanted.items()]
        wanted = launch_claims(rows, self.snapshot)
        count = max(next_position, len(rows))
        wanted["missile_count"]["original"].update({"value": count, "text": f"{count} missile records"})
        body += self.update(wanted, self.per_launch[launch_id])
        additions += [_claim(a, w, rows[0].key, None) for a, w in wanted.items() if a not in self.per_launch[launch_id]]
        if additions:
            body.append({"type": "claims", "launch_id": launch_id, "source": source_id, "claimant": CLAIMANT,
                         "claims": additions})
            self.counts["claims"] += len(additions)
        return body

    def new_launch(self, rows: list[Row], existing: list[str], alone: bool) -> dict:
        """A launch event for rows the log does not hold; or their claims on the one launch of their Korea date
        in the log, when they are the only new launch of that date (existing: the log's launches that day)."""
        claims = [_claim(a, w, rows[0].key, None) for a, w in launch_claims(rows, self.snapshot).items()]
        for position, row in enumerate(rows, start=1):
            claims += [_claim(a, w, row.key, position) for a, w in missile_claims(row, self.snapshot).items()]
        self.counts["claims"] += len(claims)
        day = rows[0].korea_date
        event = {"source": self.source_id, "claimant": CLAIMANT, "claims": claims}
        if rows[0].precision == "day" and len(existing) == 1 and alone:
            self.notes.append(f"{rows[0].key}: joined launch {existing[0]}, the only launch of Korea date {day} on both sides")
            return {"type": "claims", "launch_id": existing[0], **event}
        launch_id = _next_id(day, rows[0].precision, self.reserved)
        self.counts["new launches"] += 1
        if existing:
            self.notes.append(f"{launch_id}: Korea date {day} also has {', '.join(existing)}; merge by hand if one launch")
        return {"type": "launch", "launch_id": launch_id, **event}

    def removed(self, gone: set[str]) -> list[dict]:
        """Retractions for rows removed upstream: their claims, or the whole launch when nothing else is left."""
        events = []
        remaining = defaultdict(set)
        for row_key, (launch_id, _) in self.place.items():
            if row_key not in gone:
                remaining[launch_id].add(row_key)
        for launch_id in sorted({self.place[k][0] for k in gone}):
            others = [c for c in self.state.claims_of.get(launch_id, [])
                      if c.status == "current" and c.claimant != CLAIMANT]
            if not remaining[launch_id] and not others:
                events.append(self.retraction(f"launch:{launch_id}"))
                continue
            doomed = [c for k in sorted(gone) if self.place[k][0] == launch_id for c in self.per_row[k].values()]
            if not remaining[launch_id]:
                doomed += list(self.per_launch[launch_id].values())
            events += [self.retraction(f"claim:{claim.id}") for claim in doomed]
        return events

    def retraction(self, target: str) -> dict:
        self.counts["retractions"] += 1
        return {"type": "retraction", "target": target, "reason": "removed upstream", "source": self.source_id}

    def update(self, wanted: dict, existing: dict[str, Claim]) -> list[dict]:
        """Corrections and retractions that bring existing claims to what the snapshot says."""
        events = []
        for attribute, claim in sorted(existing.items()):
            if attribute not in wanted:
                events.append(self.retraction(f"claim:{claim.id}"))
            elif not _same(claim, wanted[attribute]):
                replacement = {"attribute": attribute, **wanted[attribute], "source_record": claim.source_record}
                if claim.missile is not None:
                    replacement["missile"] = claim.missile
                events.append({"type": "correction", "target": f"claim:{claim.id}", "reason": "revised upstream",
                               "source": self.source_id, "claim": replacement})
                self.counts["corrections"] += 1
        return events


def _claim(attribute: str, wanted: dict, row_key: str, position: int | None) -> dict:
    claim = {"attribute": attribute, **wanted, "source_record": row_key}
    if position is not None:
        claim["missile"] = position
    return claim


def _launches_by_date(state: State) -> dict[str, list[str]]:
    dates = defaultdict(list)
    for claim in state.claims.values():
        if claim.attribute == "korea_date" and claim.status == "current" and claim.launch_id in state.of("launch"):
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
        events += _lookup("site", site_id, wanted, state.of("site"), source_id)
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
        events += _lookup("missile_type", type_id, wanted, state.of("missile_type"), source_id)
    return events


def _lookup(kind: str, record_id: str, wanted: dict, existing: dict, source_id: str) -> list[dict]:
    if record_id not in existing:
        return [{"type": kind, f"{kind}_id": record_id, **wanted, "source": source_id}]
    changed = {k: v for k, v in wanted.items() if existing[record_id].get(k) != v}
    if not changed:
        return []
    return [{"type": "correction", "target": f"{kind}:{record_id}", "set": changed, "reason": "revised upstream",
             "source": source_id}]
