"""The replay: a pure fold of the log's events, in log order, into the current state.

It is also check 2 (log integrity): every reference must resolve to something registered by an
earlier event, IDs are registered once, corrections and retractions target what exists, and no
date lies after the time the dataset recorded it. Problems are collected, not raised, so that a
contributor sees all of them at once.

Time travel: `as_of` is applied by the caller (only changesets recorded by then are replayed);
`reported_by` keeps only what sources published by that date said (claims, statements, sanctions,
context, and the corrections whose source was published by then).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from sys import intern

from . import event_schema
from .log import Changeset, Event, pickled_as_values
from .problems import Problem
from .units import MEASURES, normalise

MEASURED = set(MEASURES)
DEFAULT_PRECISION = {"launched_at": "minute", "korea_date": "day"}
NOTHING: dict = {}  # a claim without `original` (never changed)


@pickled_as_values
@dataclass(slots=True)
class Claim:
    launch_id: str
    missile: int | None
    attribute: str
    value: object              # normalised: float/int for measures, str otherwise
    unit: str
    original_text: str
    original_value: float | None
    original_unit: str
    qualifier: str
    precision: str
    claimant: str
    source: str
    event: Event
    order: int                 # its event's place in the log (one int for all the event's claims), then:
    position: int              # its place in the event: together, the claim's place in the log ("latest" ties)
    note: str = ""
    source_record: str = ""
    status: str = "current"    # current, superseded, retracted
    replaced_by: str = ""

    @property
    def id(self) -> str:
        """<event ID>.<position>: made when asked, as the event's is (1.8 million claims' IDs held as text would
        take 140 MB, and a dict by them 80 MB more)."""
        return f"{self.event.id}.{self.position}"


class Claims(MutableMapping):
    """Claim ID -> claim, held by the ID of the claim's event (a claim's ID is its event's and its position in
    it): a dict with a key for each event that makes claims (a launch event makes a dozen) rather than one for
    each claim. Iterates in the order the claims were added, as a dict would (an event's claims are added
    together, and never again once deleted)."""

    def __init__(self):
        self._by_event: dict[str, list[Claim]] = {}
        self._count = 0

    def _find(self, claim_id: str) -> tuple[list[Claim], int]:
        event_id, _, position = claim_id.rpartition(".")
        claims = self._by_event.get(event_id, ())
        for n, claim in enumerate(claims):
            if str(claim.position) == position:
                return claims, n
        raise KeyError(claim_id)

    def __getitem__(self, claim_id: str) -> Claim:
        claims, n = self._find(claim_id)
        return claims[n]

    def __contains__(self, claim_id) -> bool:
        try:
            self._find(claim_id)
        except KeyError:
            return False
        return True

    def __setitem__(self, claim_id: str, claim: Claim) -> None:
        if claim_id != claim.id:
            raise ValueError(f"claim {claim.id!r} stored as {claim_id!r}")
        try:
            claims, n = self._find(claim_id)
        except KeyError:
            self.add(claim.event, [claim])
        else:
            claims[n] = claim

    def add(self, event: Event, claims: list[Claim]) -> None:
        """Store an event's new claims (all of theirs: a claims event is folded once)."""
        if claims:
            self._by_event.setdefault(event.id, []).extend(claims)
            self._count += len(claims)

    def __delitem__(self, claim_id: str) -> None:
        claims, n = self._find(claim_id)
        del claims[n]
        self._count -= 1
        if not claims:
            del self._by_event[claim_id.rpartition(".")[0]]

    def __iter__(self):
        return (claim.id for claim in self.values())

    def values(self):
        return (claim for claims in self._by_event.values() for claim in claims)

    def items(self):
        return ((claim.id, claim) for claim in self.values())

    def __len__(self) -> int:
        return self._count


@pickled_as_values
@dataclass(slots=True)
class Change:
    event: Event
    record_type: str
    record_id: str
    change: str                # created, claims_added, corrected, retracted, merged
    detail: str = ""
    reason: str = ""
    source: str = ""


@dataclass
class State:
    sources: dict[str, dict] = field(default_factory=dict)
    actors: dict[str, dict] = field(default_factory=dict)
    sites: dict[str, dict] = field(default_factory=dict)
    missile_types: dict[str, dict] = field(default_factory=dict)
    launches: dict[str, Event] = field(default_factory=dict)        # launch ID -> the event that reported it
    claims: MutableMapping[str, Claim] = field(default_factory=Claims)
    statements: dict[str, dict] = field(default_factory=dict)
    sanctions: dict[str, dict] = field(default_factory=dict)
    parties: dict[str, dict] = field(default_factory=dict)
    context: dict[str, dict] = field(default_factory=dict)
    # "kind:id" -> (how, into, the event that had registered it): an ID is never used again
    retired: dict[str, tuple[str, str, Event]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    last_recorded_at: str = ""


# record kind -> (state attribute, ID field of its event)
RECORDS = {
    "source": ("sources", "source_id"),
    "actor": ("actors", "actor_id"),
    "site": ("sites", "site_id"),
    "missile_type": ("missile_types", "missile_type_id"),
    "statement": ("statements", "statement_id"),
    "sanction": ("sanctions", "action_id"),
    "party": ("parties", "party_id"),
    "context": ("context", "context_id"),
}
# fields of statements and sanctions that link to launches, sanctions and parties (unlink repoints them)
LINK_FIELDS = {"launch": "launches", "sanction": "sanctions", "party": "parties"}
# fields of record events that name other records: field -> kind
REFERENCES = {
    "source": "source", "actor": "actor", "claimant": "actor", "authority": "actor", "parent": "actor",
    "refers_to": "sanction", "launches": "launch", "sanctions": "sanction", "parties": "party",
    "blocked_by": "actor",
}
LOOKUP_KINDS = {"source", "actor", "site", "missile_type"}
# kind of record -> the (field, kind) of REFERENCES its events can have (their schemas allow no others)
REFERENCES_OF = {kind: tuple((name, ref) for name, ref in REFERENCES.items() if name in event_schema.fields_of(kind))
                 for kind in RECORDS}
LINKING = {"statement", "sanction"}  # the kinds of record that hold links (index_links)
LOOKUP_FIELDS = {name for name, kind in REFERENCES.items() if kind in LOOKUP_KINDS}


def day_of(value: str) -> str:
    """The UTC calendar date of a date or instant string."""
    return value[:10]


def period_end(date: str, precision: str) -> str:
    """Last day a date of this precision can stand for."""
    day = dt.date.fromisoformat(date)
    if precision == "week":
        day += dt.timedelta(days=6)
    elif precision == "month":
        next_month = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        day = next_month - dt.timedelta(days=1)
    return day.isoformat()


class Replay:
    def __init__(self, reported_by: str | None = None, now: str | None = None):
        self.state = State()
        self.problems: list[Problem] = []
        self.reported_by = reported_by
        self.now = now
        self.order = 0
        self.hidden: dict[str, Event | None] = {}  # reported_by: "kind:id" of records not public yet -> launch event
        # Indexes, so that retracting or merging a record does not scan every claim, statement and sanction:
        self.claims_of: dict[str, list[Claim]] = {}             # launch ID -> its claims
        self.linked_from: dict[tuple[str, str], list] = {}       # (field, ID) -> records that may name it there
        # of an engine restored from a snapshot: "kind:ID" of each lookup that the stored state names (mentions)
        self.stored_names = None
        self._maps = self._handlers = None
        self.details = {}  # the claims' attributes, in order -> the detail of their entry in the history

    def index_links(self, table: str, record_id: str, fields: dict) -> None:
        """Note that the record of state.<table> may name these IDs in its link fields (from now on; a record
        that drops a link stays noted, and unlink looks at what it holds when the time comes)."""
        if table not in ("statements", "sanctions"):
            return
        linking = (table, record_id)  # one tuple for all its links, and a list rather than a set per link: most
        for name in (*LINK_FIELDS.values(), "refers_to"):  # IDs are named by one record, and a set costs 4 times more
            values = fields.get(name)
            for value in ([values] if isinstance(values, str) else values or []):
                linked = self.linked_from.setdefault((name, value), [])
                if linking not in linked:
                    linked.append(linking)

    # -- reporting -------------------------------------------------------------------------
    def problem(self, event: Event, pointer: str, reason: str) -> None:
        self.problems.append(Problem("integrity", event.changeset.file, reason, event.label, pointer))

    def maps(self) -> dict[str, dict]:
        """kind of record -> the state's mapping of them (looked up for every reference of every event)."""
        state = self.state
        if self._maps is None or self._maps[0] is not state:
            self._maps = (state, {"launch": state.launches,
                                  **{kind: getattr(state, attr) for kind, (attr, _) in RECORDS.items()}})
        return self._maps[1]

    def exists(self, kind: str, record_id: str) -> bool:
        return record_id in self.maps()[kind]

    def need(self, event: Event, pointer: str, kind: str, record_id: str) -> bool:
        """Check a reference; say what is wrong when it does not resolve."""
        if record_id in self.maps()[kind]:
            return True
        if self.reported_by and f"{kind}:{record_id}" in self.hidden:
            return False  # exists, but not yet public at the reported_by date: drop silently
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
        source = self.state.sources.get(source_id)
        return source is not None and day_of(source["published"]) <= self.reported_by

    def not_after_recording(self, event: Event, pointer: str, date: str, what: str) -> None:
        recorded = self.recorded_day
        if day_of(date) > recorded:
            self.problem(event, pointer, f"{what} {date} is after the changeset was recorded ({recorded}); "
                                         "facts cannot be recorded before they happen")

    # -- the fold ------------------------------------------------------------------------------
    def handlers(self) -> dict:
        """event type -> its on_<type> method"""
        if self._handlers is None:
            self._handlers = {name[3:]: getattr(self, name) for name in dir(self) if name.startswith("on_")}
        return self._handlers

    def run(self, changesets: list[Changeset], consume: bool = False) -> State:
        """Fold changesets (in log order) into the state; a later call goes on from where this one stopped.
        consume: let go of each event's parsed JSON once folded in (the changesets cannot be replayed again)."""
        handlers = self.handlers()
        self.kinds = self.maps()  # the handlers look references up in these (the state stays the same during a run)
        for changeset in changesets:
            recorded = changeset.recorded_at
            self.recorded_day = recorded[:10]
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
                handlers[event.type](event)
            self.state.last_recorded_at = max(self.state.last_recorded_at, recorded)
            if consume:
                # What the tables need of these events is in the state now (records, claims, changes): the
                # parsed JSON is most of the memory of a large log, and of its snapshot.
                for event in changeset.events:
                    event.body = None
                changeset.body = {key: value for key, value in changeset.body.items() if key != "events"}
        return self.state

    def registered(self, kind: str, record_id: str) -> Event | None:
        """The event that registered the record of this kind and ID, whether it is still there or was retracted or
        merged since (with reported_by, a launch not public yet may have one too); None if none did."""
        record = self.maps()[kind].get(record_id)
        if record is not None:
            return record if kind == "launch" else record["event"]
        retired = self.state.retired.get(f"{kind}:{record_id}")
        return retired[2] if retired else self.hidden.get(f"{kind}:{record_id}")

    def register(self, event: Event, kind: str) -> dict | None:
        """Register a record: its ID must be new. Returns the stored fields, or None."""
        attr, id_field = RECORDS[kind]
        body = event.body
        record_id = body[id_field]
        key = f"{kind}:{record_id}"
        maps = self.kinds
        if record_id in maps[kind] or key in self.state.retired or key in self.hidden:
            first = self.registered(kind, record_id)
            where = f" by {first.changeset.file} {first.label}" if first else ""
            self.problem(event, "/" + id_field, f"{kind.replace('_', ' ')} {record_id!r} is already registered{where}")
            return None
        for name, ref_kind in REFERENCES_OF[kind]:
            if name in body:
                listed = isinstance(body[name], list)
                for i, value in enumerate(body[name] if listed else [body[name]]):
                    if value not in maps[ref_kind]:  # the pointer is written only for a problem
                        self.need(event, f"/{name}" + (f"/{i}" if listed else ""), ref_kind, value)
        if self.reported_by and kind not in LOOKUP_KINDS and not self.public(body["source"]):
            self.hidden[key] = None
            return None
        record = dict(body)
        for name, _ in REFERENCES_OF[kind]:  # the IDs it names, kept once in the whole log (see make_claim)
            value = record.get(name)
            if type(value) is str:
                record[name] = intern(value)
        del record["type"]
        record.pop("note", None)
        record.pop("id", None)
        record["event"] = event
        maps[kind][record_id] = record
        if kind in LINKING:
            self.index_links(attr, record_id, record)
        self.state.changes.append(Change(event, kind, record_id, "created", "", "", record.get("source", "")))
        return record

    def on_source(self, event):
        body = event.body
        self.not_after_recording(event, "/published", body["published"], "published")
        self.register(event, "source")

    def on_actor(self, event):
        self.register(event, "actor")

    def on_site(self, event):
        self.register(event, "site")

    def on_missile_type(self, event):
        self.register(event, "missile_type")

    def check_dated(self, event: Event, body: dict) -> None:
        precision = body.get("date_precision", "day")
        date = body["date"]
        if precision == "month" and dt.date.fromisoformat(date).day != 1:
            self.problem(event, "/date", f"with date_precision month, date is the 1st of the month, not {date}")
        if precision == "week" and dt.date.fromisoformat(date).weekday() != 0:
            self.problem(event, "/date", f"with date_precision week, date is the Monday that starts it, not {date}")
        if date[:10] > self.recorded_day:
            self.not_after_recording(event, "/date", date, "date")

    def on_statement(self, event):
        self.check_dated(event, event.body)
        found = len(self.problems)
        record = self.register(event, "statement")
        if record is not None and (self.reported_by or len(self.problems) > found):
            self.drop_hidden_links(record)

    def on_sanction(self, event):
        self.check_dated(event, event.body)
        body = event.body
        if body["action"] in ("proposal_blocked", "veto") and not body.get("blocked_by"):
            self.problem(event, "/blocked_by", f"a {body['action']} names who blocked it")
        if body.get("blocked_by") and body["action"] not in ("proposal_blocked", "veto"):
            self.problem(event, "/blocked_by", "only proposal_blocked and veto actions have blocked_by")
        found = len(self.problems)
        record = self.register(event, "sanction")
        if record is not None and (self.reported_by or len(self.problems) > found):
            self.drop_hidden_links(record)

    def on_party(self, event):
        self.register(event, "party")

    def on_context(self, event):
        body = event.body
        for name in ("period_start", "period_end"):
            if name in body:
                self.not_after_recording(event, "/" + name, body[name], name)
        if "period_start" in body and "period_end" in body and body["period_end"] < body["period_start"]:
            self.problem(event, "/period_end", "period_end is before period_start")
        if ("value" in body) != ("unit" in body):
            self.problem(event, "/unit" if "value" in body else "/value", "value and unit go together")
        self.register(event, "context")

    def drop_hidden_links(self, record: dict) -> None:
        """With reported_by, links to records not public yet are left out (they are not errors); as are links
        that do not resolve (register found them: problems)."""
        for name, kind in (("launches", "launch"), ("sanctions", "sanction"), ("parties", "party")):
            if name in record:
                record[name] = [v for v in record[name] if self.exists(kind, v)]

    # -- launches and claims -----------------------------------------------------------------
    def on_launch(self, event):
        launch_id = event.body["launch_id"]
        key = "launch:" + launch_id
        state = self.state
        if launch_id in state.launches or key in state.retired:
            first = self.registered("launch", launch_id)
            self.problem(event, "/launch_id", f"launch {launch_id!r} already exists ({first.changeset.file} "
                                              f"{first.label}); add to it with a claims event")
            return
        for claim in event.body["claims"]:
            if claim["attribute"] == "korea_date" or claim["attribute"] == "launched_at":
                break
        else:
            self.problem(event, "/claims", "a new launch needs a korea_date or launched_at claim")
            return
        claims = self.add_claims(event, launch_id)
        if claims:
            state.launches[launch_id] = event
            self.claims_change(event, launch_id, "created", claims)
        elif key not in self.hidden:
            self.hidden[key] = event

    def on_claims(self, event):
        launch_id = event.body["launch_id"]
        if launch_id not in self.state.launches:
            if f"launch:{launch_id}" in self.hidden:  # reported_by: the launch becomes public now
                claims = self.add_claims(event, launch_id)
                if claims:
                    del self.hidden[f"launch:{launch_id}"]
                    self.state.launches[launch_id] = event
                    self.claims_change(event, launch_id, "created", claims)
                return
            self.need(event, "/launch_id", "launch", launch_id)
            return
        claims = self.add_claims(event, launch_id)
        if claims:
            self.claims_change(event, launch_id, "claims_added", claims)

    def claims_change(self, event: Event, launch_id: str, change: str, claims: list[Claim]) -> None:
        """The history's entry for claims added to a launch (its words kept once, as the claims' are)."""
        attributes = tuple(c.attribute for c in claims)
        detail = self.details.get(attributes)
        if detail is None:
            detail = self.details[attributes] = intern(", ".join(sorted(set(attributes))))
        self.state.changes.append(Change(event, "launch", launch_id, change, detail, "", intern(event.body["source"])))

    def make_claim(self, event: Event, index: int | None, raw: dict, launch_id: str,
                   default_source: str, default_claimant: str | None, position: int = 1) -> Claim | None:
        """Check one claim (claims[index] of the event, or its `claim` if index is None) for its references and
        values, and build it (None if it has problems or is not public)."""
        maps = self.kinds
        source = raw.get("source", default_source)
        claimant = raw.get("claimant", default_claimant)
        attribute = raw["attribute"]
        original = raw.get("original", NOTHING)
        if attribute in MEASURED:
            value, unit = normalise(attribute, original["value"], original["unit"])
        else:
            value, unit = raw["value"], ""
        # Each check is made fast first, and again by the checks that word the problem (claim_problems).
        sources = maps["source"]
        if (claimant is None or claimant not in maps["actor"] or source not in sources
                or sources[source]["published"][:10] > self.recorded_day
                or ((attribute == "missile_type" or attribute == "site") and value not in maps[attribute])
                or ((attribute == "launched_at" or attribute == "korea_date")
                    and (value[:10] > self.recorded_day or raw.get("precision") == "month" and not value.endswith("-01")))):
            if not self.claim_problems(event, "/claim" if index is None else f"/claims/{index}", raw, source, claimant,
                                       attribute, value):
                return None
        if self.reported_by and not self.public(source):
            return None
        # The words that repeat from claim to claim are kept once in the whole log (intern): the file's reading kept
        # them once in each changeset (log.REPEATED), but not across changesets read by build.SchemaWorker
        return Claim(launch_id, raw.get("missile"), attribute, intern(value) if type(value) is str else value, unit,
                     intern(original.get("text", "")), original.get("value"), original.get("unit", ""),
                     raw.get("qualifier", "exact"), raw.get("precision", DEFAULT_PRECISION.get(attribute, "")),
                     intern(claimant), intern(source), event,
                     self.order, position, raw.get("note", ""), raw.get("source_record", ""))

    def claim_problems(self, event: Event, pointer: str, raw: dict, source: str, claimant: str | None,
                       attribute: str, value) -> bool:
        """Word the problems of a claim; is it still to be made?"""
        ok = True
        maps = self.kinds
        if claimant is None:
            self.problem(event, pointer + "/claimant", "required field is missing (on the claim or the event)")
            ok = False
        elif claimant not in maps["actor"]:
            ok = self.need(event, pointer + "/claimant", "actor", claimant)
        if source not in maps["source"]:
            ok &= self.need(event, pointer + "/source" if "source" in raw else "/source", "source", source)
        if attribute == "missile_type" or attribute == "site":
            if value not in maps[attribute]:
                ok &= self.need(event, pointer + "/value", attribute, value)
        elif attribute == "launched_at" or attribute == "korea_date":
            if value[:10] > self.recorded_day:
                self.not_after_recording(event, pointer + "/value", value, attribute)
            if raw.get("precision") == "month" and not value.endswith("-01"):
                self.problem(event, pointer + "/value", "with precision month, the value is the 1st of the month")
                ok = False
        if ok and source in maps["source"] and maps["source"][source]["published"][:10] > self.recorded_day:
            self.not_after_recording(event, pointer + "/source", maps["source"][source]["published"],
                                     f"source {source!r} published")
        return ok

    def add_claims(self, event: Event, launch_id: str) -> list[Claim]:
        body = event.body
        made = []
        source, claimant = body["source"], body.get("claimant")
        for n, raw in enumerate(body["claims"], start=1):
            claim = self.make_claim(event, n - 1, raw, launch_id, source, claimant, n)
            if claim is not None:
                made.append(claim)
        counts = [c for c in made if c.attribute == "missile_count"]
        for claim in made:
            if claim.missile and any(claim.missile > c.value for c in counts if c.claimant == claim.claimant):
                self.problem(event, "/claims", f"missile {claim.missile} is beyond the count its claimant gives")
        claims = self.state.claims
        if type(claims) is Claims:
            claims.add(event, made)
        else:  # a snapshot's (snapshot.LazyMap)
            for claim in made:
                claims[claim.id] = claim
        self.claims_of.setdefault(launch_id, []).extend(made)
        return made

    # -- corrections, retractions, merges --------------------------------------------------
    def resolve_target(self, event: Event, target: str) -> tuple[str, str] | None:
        kind, _, record_id = target.partition(":")
        if kind == "claim":
            if record_id in self.state.claims:
                return kind, record_id
            if self.reported_by:
                return None
            self.problem(event, "/target", f"no claim {record_id!r} to act on")
            return None
        if self.need(event, "/target", kind, record_id):
            return kind, record_id
        return None

    def on_correction(self, event):
        body = event.body
        if not self.need(event, "/source", "source", body["source"]):
            return
        target = self.resolve_target(event, body["target"])
        if target is None or not self.public(body["source"]):
            return
        kind, record_id = target
        if kind == "claim":
            if "claim" not in body or "set" in body:
                self.problem(event, "/claim", "a correction of a claim gives the replacing claim in `claim` (and no `set`)")
                return
            old = self.state.claims[record_id]
            if old.status != "current":
                self.problem(event, "/target", f"claim {record_id!r} is already {old.status}")
                return
            if body["claim"]["attribute"] != old.attribute:
                self.problem(event, "/claim/attribute", f"the replacing claim must be about {old.attribute!r}")
                return
            new = self.make_claim(event, None, body["claim"], old.launch_id, body["source"], old.claimant)
            if new is None:
                return
            new.missile = body["claim"].get("missile", old.missile)
            old.status, old.replaced_by = "superseded", new.id
            self.state.claims[new.id] = new
            self.claims_of[new.launch_id].append(new)
            self.state.changes.append(Change(event, "launch", old.launch_id, "corrected",
                                             detail=f"{old.attribute}: claim {old.id} replaced by {new.id}",
                                             reason=body["reason"], source=body["source"]))
            return
        if "set" not in body or "claim" in body:
            self.problem(event, "/set", f"a correction of a {kind} gives the changed fields in `set` (and no `claim`)")
            return
        if kind == "launch":
            self.problem(event, "/target", "a launch is corrected through its claims: target claim:<id>, "
                                           "or add claims with a claims event")
            return
        attr, id_field = RECORDS[kind]
        record = getattr(self.state, attr)[record_id]
        fields = body["set"]
        if id_field in fields:
            self.problem(event, f"/set/{id_field}", "an ID never changes; retract the record and register a new one")
            return
        merged = {k: v for k, v in record.items() if k != "event"}
        merged.update(fields)
        merged.update({"type": kind})
        found = event_schema.check_event(merged, event.changeset.file, event.label)  # must stay schema-valid
        for p in found:
            self.problem(event, "/set" + (p.pointer if p.pointer != "/" else ""), p.reason)
        if found:
            return
        before = len(self.problems)
        for name, ref_kind in REFERENCES.items():
            if name in fields:
                values = fields[name] if isinstance(fields[name], list) else [fields[name]]
                for value in values:
                    self.need(event, f"/set/{name}", ref_kind, value)
        if "date" in fields or "date_precision" in fields:
            self.check_dated(event, merged)
        if len(self.problems) > before:
            return
        record.update(fields)
        self.index_links(attr, record_id, fields)
        self.state.changes.append(Change(event, kind, record_id, "corrected", detail=", ".join(sorted(fields)),
                                         reason=body["reason"], source=body["source"]))

    def on_retraction(self, event):
        body = event.body
        if "source" in body and not self.need(event, "/source", "source", body["source"]):
            return
        target = self.resolve_target(event, body["target"])
        if target is None or ("source" in body and not self.public(body["source"])):
            return
        kind, record_id = target
        if kind == "claim":
            claim = self.state.claims[record_id]
            if claim.status != "current":
                self.problem(event, "/target", f"claim {record_id!r} is already {claim.status}")
                return
            claim.status = "retracted"
            self.state.changes.append(Change(event, "launch", claim.launch_id, "corrected",
                                             detail=f"{claim.attribute}: claim {claim.id} retracted",
                                             reason=body["reason"], source=body.get("source", "")))
            return
        if kind in LOOKUP_KINDS:
            users = self.users_of(kind, record_id)
            if users:
                more = f" and {len(users) - 1} more" if len(users) > 1 else ""
                self.problem(event, "/target", f"{kind.replace('_', ' ')} {record_id!r} is still used by {users[0]}{more}; "
                                               "it can be corrected, not retracted")
                return
        first = self.registered(kind, record_id)
        if kind == "launch":
            del self.state.launches[record_id]
            for claim in self.claims_of.pop(record_id, []):
                del self.state.claims[claim.id]
        else:
            del getattr(self.state, RECORDS[kind][0])[record_id]
        self.state.retired[f"{kind}:{record_id}"] = ("retracted", "", first)
        self.unlink(kind, record_id)
        self.state.changes.append(Change(event, kind, record_id, "retracted", reason=body["reason"],
                                         source=body.get("source", "")))

    def users_of(self, kind: str, record_id: str) -> list[str]:
        """What still names a source, actor, site or missile type (each user once). A scan: such retractions
        are rare; on a state restored from a snapshot, only of what this run read or changed when nothing
        stored names it (stored_names)."""
        target = f"{kind}:{record_id}"
        loaded_only = self.stored_names is not None and target not in self.stored_names
        return list(dict.fromkeys(user for name, user in self.mentions(loaded_only) if name == target))

    def mentions(self, loaded_only: bool = False):
        """("kind:ID", user) for each source, actor, site or missile type that something names: claims of any
        status, records, and the history of changes (the tables keep all of them, each with a foreign key to
        it). loaded_only: of a state restored from a snapshot, only the values this run read or changed
        (LazyMap.loaded_items, LazyList.new)."""
        state = self.state

        def items(mapping):
            return mapping.loaded_items() if loaded_only else mapping.items()
        for _, claim in items(state.claims):
            user = f"claim {claim.id}"
            yield f"source:{claim.source}", user
            yield f"actor:{claim.claimant}", user
            if claim.attribute in LOOKUP_KINDS and isinstance(claim.value, str):
                yield f"{claim.attribute}:{claim.value}", user
        for table, (attr, _) in RECORDS.items():
            for other_id, record in items(getattr(state, attr)):
                for name in LOOKUP_FIELDS & record.keys():
                    values = record[name]
                    for value in [values] if isinstance(values, str) else values or []:
                        yield f"{REFERENCES[name]}:{value}", f"{table.replace('_', ' ')} {other_id}"
        for change in state.changes.new if loaded_only else state.changes:
            if change.source:
                yield f"source:{change.source}", f"the history of {change.record_type} {change.record_id} ({change.event.id})"

    def unlink(self, kind: str, record_id: str, into: str | None = None) -> None:
        """Remove (or repoint, for a merge) the links other records hold to a retired record."""
        field_name = LINK_FIELDS.get(kind)
        if field_name is None:
            return
        for table, linking_id in sorted(self.linked_from.pop((field_name, record_id), ())):
            record = getattr(self.state, table).get(linking_id)
            if record is not None and record_id in record.get(field_name, []):
                kept = [v for v in record[field_name] if v != record_id]
                if into and into not in kept:
                    kept.append(into)
                    self.index_links(table, linking_id, {field_name: [into]})
                record[field_name] = kept
        if kind == "sanction":
            for table, action_id in sorted(self.linked_from.pop(("refers_to", record_id), ())):
                action = self.state.sanctions.get(action_id) if table == "sanctions" else None
                if action is not None and action.get("refers_to") == record_id:
                    if into:
                        action["refers_to"] = into
                        self.index_links("sanctions", action_id, {"refers_to": into})
                    else:
                        del action["refers_to"]

    def on_merge(self, event):
        body = event.body
        kind, old, new = body["record_type"], body["from"], body["into"]
        if "source" in body and not self.need(event, "/source", "source", body["source"]):
            return
        if old == new:
            self.problem(event, "/into", "a record cannot be merged into itself")
            return
        if not (self.need(event, "/from", kind, old) & self.need(event, "/into", kind, new)):
            return
        if "source" in body and not self.public(body["source"]):
            return
        first = self.registered(kind, old)
        if kind == "launch":
            del self.state.launches[old]
            moved = self.claims_of.pop(old, [])
            for claim in moved:
                claim.launch_id = new
            self.claims_of.setdefault(new, []).extend(moved)
        elif kind == "sanction":
            absorbed, kept = self.state.sanctions.pop(old), self.state.sanctions[new]
            for name in ("launches", "parties"):
                merged = kept.get(name, []) + [v for v in absorbed.get(name, []) if v not in kept.get(name, [])]
                if merged:
                    kept[name] = merged
            self.index_links("sanctions", new, kept)
        else:
            del self.state.parties[old]
        self.state.retired[f"{kind}:{old}"] = ("merged", new, first)
        self.unlink(kind, old, into=new)
        self.state.changes.append(Change(event, kind, old, "merged", detail=f"into {new}", reason=body["reason"],
                                         source=body.get("source", "")))
        self.state.changes.append(Change(event, kind, new, "merged", detail=f"absorbed {old}",
                                         reason=body["reason"], source=body.get("source", "")))


def replay(changesets: list[Changeset], reported_by: str | None = None, now: str | None = None,
           start: Replay | None = None, consume: bool = False) -> tuple[State, list[Problem]]:
    """Fold the log (already in log order) into a State; also return the integrity problems found.
    start: an engine that already folded the changesets before these (a snapshot).
    consume: let go of the events' parsed JSON as they are folded in (see Replay.run)."""
    engine = start or Replay(reported_by=reported_by, now=now)
    engine.now = now
    state = engine.run(changesets, consume)
    return state, engine.problems
