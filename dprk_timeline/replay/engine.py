"""The replay engine: folds changesets, in log order, into a State, each event by its type's handler
(registry.py).

It is also check 2 (log integrity): every reference must resolve to something registered by an earlier
event, IDs are registered once, corrections and retractions target what exists, and no date lies after
the time the dataset recorded it. Problems are collected, not raised, so that a contributor sees all of
them at once.

Time travel: `as_of` is applied by the caller (only changesets recorded by then are replayed);
`reported_by` keeps only what sources published by that date said (claims, statements, sanctions,
context, and the corrections whose source was published by then).
"""
from __future__ import annotations

import datetime as dt

from ..checks.schema import check_event
from ..dates import day_of
from ..log import Changeset, Event
from ..problems import Problem
from ..registry import EVENT_TYPES
from .references import LINK_FIELDS, LINKING, LOOKUP_FIELDS, LOOKUP_KINDS, REFERENCES
from .state import Change, State


EARLIEST = "1900-01-01"


class Replay:
    def __init__(self, reported_by: str | None = None, now: str | None = None):
        self.state = State()
        self.problems: list[Problem] = []
        self.reported_by = reported_by
        self.now = now
        self.order = 0                # events folded so far: a claim's place in the log
        self.recorded_day = ""        # of the changeset being folded
        # reported_by: "kind:id" of records not public yet -> the launch's event (None for other records)
        self.hidden: dict[str, Event | None] = {}
        # so that retracting or merging a record does not scan every statement and sanctions action:
        self.linked_from: dict[tuple[str, str], list] = {}       # (field, ID) -> records that may name it there

    def run(self, changesets: list[Changeset]) -> State:
        """Fold changesets (in log order) into the state."""
        for changeset in changesets:
            recorded = changeset.recorded_at
            self.recorded_day = day_of(recorded)
            if self.now and recorded > self.now:
                self.problems.append(Problem("integrity", changeset.file, f"recorded_at {recorded} is in the future",
                                             "changeset", "/recorded_at"))
            # An event's ID starts with its changeset's name, which no other changeset has: IDs can only repeat
            # within a changeset (explicit IDs).
            first_of = {}
            for event in changeset.events:
                first = first_of.setdefault(event.id, event)
                if first is not event:
                    self.problem(event, "/id", f"event ID {event.id!r} is already used by {first.changeset.file} "
                                               f"{first.label}")
                    continue
                self.order += 1
                EVENT_TYPES[event.type].apply(self, event)
            self.state.last_recorded_at = max(self.state.last_recorded_at, recorded)
        return self.state

    # -- reporting ---------------------------------------------------------------------------
    def problem(self, event: Event, pointer: str, reason: str) -> None:
        self.problems.append(Problem("integrity", event.changeset.file, reason, event.label, pointer))

    def not_after_recording(self, event: Event, pointer: str, date: str, what: str) -> None:
        """A date of the dataset lies between 1900 and the day its changeset was recorded."""
        if day_of(date) < EARLIEST:
            self.problem(event, pointer, f"{what} {date} is before {EARLIEST[:4]}: no fact of this dataset is that old")
        if day_of(date) > self.recorded_day:
            self.problem(event, pointer, f"{what} {date} is after the changeset was recorded ({self.recorded_day}); "
                                         "facts cannot be recorded before they happen")

    def check_dated(self, event: Event, body: dict) -> None:
        """A statement's or sanctions action's date agrees with its precision and was known when recorded."""
        precision = body.get("date_precision", "day")
        date = body["date"]
        if precision == "month" and dt.date.fromisoformat(date).day != 1:
            self.problem(event, "/date", f"with date_precision month, date is the 1st of the month, not {date}")
        if precision == "week" and dt.date.fromisoformat(date).weekday() != 0:
            self.problem(event, "/date", f"with date_precision week, date is the Monday that starts it, not {date}")
        self.not_after_recording(event, "/date", date, "date")

    def schema_problems(self, event: Event, record: dict) -> list[Problem]:
        """The problems of a record, as corrected by this event, with the schema of its type."""
        return check_event(record, event.changeset.file, event.label)

    # -- references ----------------------------------------------------------------------------
    def exists(self, kind: str, record_id: str) -> bool:
        return record_id in self.state.of(kind)

    def need(self, event: Event, pointer: str, kind: str, record_id: str) -> bool:
        """Check a reference; say what is wrong when it does not resolve."""
        if self.exists(kind, record_id):
            return True
        if self.reported_by and f"{kind}:{record_id}" in self.hidden:
            return False  # exists, but not yet public at the reported_by date: dropped silently
        retired = self.state.retired.get(f"{kind}:{record_id}")
        if retired:
            how, into, _ = retired
            hint = f" (it was {how}" + (f" into {into})" if into else ")")
        else:
            hint = " (register it in an earlier event)" if kind in LOOKUP_KINDS else ""
        self.problem(event, pointer, f"unknown {kind.replace('_', ' ')} {record_id!r}{hint}")
        return False

    def public(self, source_id: str) -> bool:
        """With reported_by: was this source published by then?"""
        if not self.reported_by:
            return True
        source = self.state.of("source").get(source_id)
        return source is not None and day_of(source["published"]) <= self.reported_by

    def registered(self, kind: str, record_id: str) -> Event | None:
        """The event that registered the record of this kind and ID, whether it is still there or was retracted
        or merged since (with reported_by, a launch not public yet may have one too); None if none did."""
        record = self.state.of(kind).get(record_id)
        if record is not None:
            return record["event"]
        retired = self.state.retired.get(f"{kind}:{record_id}")
        return retired[2] if retired else self.hidden.get(f"{kind}:{record_id}")

    @staticmethod
    def is_record_kind(kind: str) -> bool:
        return kind in EVENT_TYPES and EVENT_TYPES[kind].id_field is not None

    @staticmethod
    def record_kinds() -> str:
        return ", ".join(kind for kind, event_type in EVENT_TYPES.items() if event_type.id_field)

    @staticmethod
    def id_field(kind: str) -> str:
        """The field of a record's event that holds its ID."""
        return EVENT_TYPES[kind].id_field

    def register(self, event: Event, kind: str) -> dict | None:
        """Register the record an event of this kind gives: its ID must be new. Returns the stored fields, or
        None."""
        body = event.body
        id_field = self.id_field(kind)
        record_id = body[id_field]
        key = f"{kind}:{record_id}"
        if self.exists(kind, record_id) or key in self.state.retired or key in self.hidden:
            first = self.registered(kind, record_id)
            where = f" by {first.changeset.file} {first.label}" if first else ""
            self.problem(event, "/" + id_field, f"{kind.replace('_', ' ')} {record_id!r} is already registered{where}")
            return None
        for name, ref_kind in REFERENCES.items():
            if name in body:
                listed = isinstance(body[name], list)
                for i, value in enumerate(body[name] if listed else [body[name]]):
                    self.need(event, f"/{name}" + (f"/{i}" if listed else ""), ref_kind, value)
        if self.reported_by and kind not in LOOKUP_KINDS and not self.public(body["source"]):
            self.hidden[key] = None
            return None
        record = {k: v for k, v in body.items() if k not in ("type", "note", "id")}
        record["event"] = event
        self.state.of(kind)[record_id] = record
        if kind in LINKING:
            self.index_links(kind, record_id, record)
        self.state.changes.append(Change(event, kind, record_id, "created", source=record.get("source", "")))
        return record

    def drop_hidden_links(self, record: dict) -> None:
        """With reported_by, links to records not public yet are left out (they are not errors); so are links
        that do not resolve (register found them: problems)."""
        for kind, name in LINK_FIELDS.items():
            if name in record:
                record[name] = [v for v in record[name] if self.exists(kind, v)]

    # -- links between records: kept up to date as records are retracted and merged -------------
    def index_links(self, kind: str, record_id: str, fields: dict) -> None:
        """Note that this statement or sanctions action may name these IDs in its link fields (from now on; a
        record that drops a link stays noted, and unlink looks at what it holds when the time comes)."""
        if kind not in LINKING:
            return
        for name in (*LINK_FIELDS.values(), "refers_to"):
            values = fields.get(name)
            for value in ([values] if isinstance(values, str) else values or []):
                linked = self.linked_from.setdefault((name, value), [])
                if (kind, record_id) not in linked:
                    linked.append((kind, record_id))

    def unlink(self, kind: str, record_id: str, into: str | None = None) -> None:
        """Remove (or repoint, for a merge) the links other records hold to a retired record."""
        field_name = LINK_FIELDS.get(kind)
        if field_name is None:
            return
        for linking_kind, linking_id in sorted(self.linked_from.pop((field_name, record_id), ())):
            record = self.state.of(linking_kind).get(linking_id)
            if record is not None and record_id in record.get(field_name, []):
                kept = [v for v in record[field_name] if v != record_id]
                if into and into not in kept:
                    kept.append(into)
                    self.index_links(linking_kind, linking_id, {field_name: [into]})
                record[field_name] = kept
        if kind == "sanction":
            for linking_kind, action_id in sorted(self.linked_from.pop(("refers_to", record_id), ())):
                action = self.state.of("sanction").get(action_id) if linking_kind == "sanction" else None
                if action is not None and action.get("refers_to") == record_id:
                    if into:
                        action["refers_to"] = into
                        self.index_links("sanction", action_id, {"refers_to": into})
                    else:
                        del action["refers_to"]

    def users_of(self, kind: str, record_id: str) -> list[str]:
        """What still names a source, actor, site or missile type, each user once: claims of any status,
        records, and the history of changes (the tables keep all of them, each with a foreign key to it). A
        scan: such retractions are rare."""
        target = f"{kind}:{record_id}"
        return list(dict.fromkeys(user for name, user in self.mentions() if name == target))

    def mentions(self):
        """("kind:ID", user) for each lookup that something names."""
        for claim in self.state.claims.values():
            user = f"claim {claim.id}"
            yield f"source:{claim.source}", user
            yield f"actor:{claim.claimant}", user
            if claim.attribute in LOOKUP_KINDS and isinstance(claim.value, str):
                yield f"{claim.attribute}:{claim.value}", user
        for kind in EVENT_TYPES:
            for other_id, record in self.state.records.get(kind, {}).items():
                for name in LOOKUP_FIELDS & record.keys():
                    values = record[name]
                    for value in [values] if isinstance(values, str) else values or []:
                        yield f"{REFERENCES[name]}:{value}", f"{kind.replace('_', ' ')} {other_id}"
        for change in self.state.changes:
            if change.source:
                yield f"source:{change.source}", f"the history of {change.record_type} {change.record_id} ({change.event.id})"


def replay(changesets: list[Changeset], reported_by: str | None = None,
           now: str | None = None) -> tuple[State, list[Problem]]:
    """Fold the log (already in log order) into a State; also return the integrity problems found."""
    engine = Replay(reported_by=reported_by, now=now)
    state = engine.run(changesets)
    return state, engine.problems
