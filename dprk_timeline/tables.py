"""Tables: project the replayed state into the rows of every table, and write them as CSV.

Rows are made record by record: a launch makes its launches row, its firings rows and the claims rows of
its claims; a statement or a sanctions action makes its own row and its link rows; every other record and
every change makes one row. Each row remembers that record (its owner), so that a check on top of a
verified snapshot can render again only the records that new events touched (incremental.py).
Writing formats each cell one way only (see FORMAT_CELL) and sorts rows by primary key, so a rebuild
is byte-identical.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import operator
import re
from array import array
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from .paths import TABLE_SCHEMAS
from .reconcile import disagree, pick
from .replay import RECORDS, Claim, State, day_of, period_end
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
# Every kind of record that makes rows -> the state's mapping of them
KINDS = {"launch": "launches", **{kind: attribute for kind, (attribute, _) in RECORDS.items()}}
# The tables each kind of record makes rows in (the first is its own row).
OWNED = {"launch": ("launches", "firings", "claims"),
         "statement": ("statements", "launch_statements", "statement_sanctions"),
         "sanction": ("sanctions", "launch_sanctions", "sanction_parties"),
         "party": ("parties",), "context": ("context",), "site": ("sites",), "missile_type": ("missile_types",),
         "actor": ("actors",), "source": ("sources",)}


@lru_cache(maxsize=None)
def table_schema(name: str, schema_dir: Path = TABLE_SCHEMAS) -> dict:
    return json.loads((schema_dir / f"{name}.json").read_text(encoding="utf-8"))


def field_names(name: str) -> list[str]:
    return [f["name"] for f in table_schema(name)["fields"]]


def korea_date_of(instant: str) -> str:
    """Korea (UTC+9) calendar date of a UTC instant."""
    moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(KOREA).date().isoformat()


def dated(record: dict) -> dict:
    precision = record.get("date_precision", "day")
    return {"date": None if precision == "on_or_before" else record["date"],
            "date_latest": period_end(record["date"], precision) if precision != "on_or_before" else record["date"],
            "date_precision": precision, "date_text": record.get("date_text")}


class Projection:
    """The rows of each record of a replayed state. `claims_of` (launch ID -> IDs of all its claims) is
    the replay's index when given; otherwise it is made from the claims."""

    def __init__(self, state: State, claims_of=None):
        self.state = state
        self.kinds = _Field(state.actors, "kind")
        self.published = _Field(state.sources, "published")
        self.published_day = _Field(state.sources, "published", day_of)  # one string per source, not per row
        if claims_of is None:
            claims_of = defaultdict(list)
            for claim in state.claims.values():
                claims_of[claim.launch_id].append(claim.id)
        self.claims_of = claims_of
        self.rows = {name: operator.itemgetter(*field_names(name)) for name in TABLES}

    def reconcile(self, claims: list[Claim], used: set) -> tuple[dict[str, Claim], set[str]]:
        """Winning claim per attribute, and the attributes whose claims disagree."""
        chosen, disagreeing = {}, set()
        by_attribute = {}
        for claim in claims:
            by_attribute.setdefault(claim.attribute, []).append(claim)
        for attribute, group in by_attribute.items():
            winner = chosen[attribute] = group[0] if len(group) == 1 else pick(group, self.kinds, self.published)
            used.add(winner.id)
            if len(group) > 1 and disagree(group):
                disagreeing.add(attribute)
        return chosen, disagreeing

    # -- rows of one record, as lists in the order of the table's fields; no rows for a record gone --------
    def launch(self, launch_id: str) -> dict[str, list]:
        """The launch's row, its firings rows and the rows of all its claims."""
        if launch_id not in self.state.launches:
            return {}
        launch, firings, used = self.launch_parts(launch_id)
        return {"launches": [launch], "firings": firings,
                "claims": [self.claim_row(claim, claim.id in used) for claim in self.claims(launch_id)]}

    def claims(self, launch_id: str) -> list[Claim]:
        """All the launch's claims, whatever their status."""
        return [self.state.claims[claim_id] for claim_id in self.claims_of.get(launch_id, ())]

    def launch_parts(self, launch_id: str) -> tuple[tuple, list[tuple], set[str]]:
        """The launch's row, its firings rows, and the IDs of the claims that give their values."""
        every = self.claims(launch_id)
        claims = [c for c in every if c.status == "current"]
        used = set()
        launch_level = [c for c in claims if c.missile is None]
        counts, count_disagreement = self.reconcile([c for c in launch_level if c.attribute == "missile_count"], used)
        count = counts["missile_count"].value if counts else None
        positions = max([count or 0] + [c.missile for c in claims if c.missile])
        # For one missile, "the launch" and "missile 1" are the same thing: pool their claims.
        pooled = claims if positions == 1 else launch_level
        chosen, disagreeing = self.reconcile([c for c in pooled if c.attribute != "missile_count"], used)
        chosen.update(counts)
        disagreeing |= count_disagreement
        missile_rows = []
        for position in range(1, positions + 1):
            own = [c for c in claims if c.missile == position or (positions == 1 and c.missile is None)]
            picked, differ = self.reconcile([c for c in own if c.attribute in FIRING_ATTRIBUTES], used)
            disagreeing |= differ
            row = {"launch_id": launch_id, "position": position, "claim_count": len(own)}
            for attribute in FIRING_ATTRIBUTES:
                row[COLUMN.get(attribute, attribute)] = picked[attribute].value if attribute in picked else None
            missile_rows.append(row)
        launch = self.launch_row(launch_id, claims, chosen, disagreeing, count, missile_rows)
        return self.rows["launches"](launch), [self.rows["firings"](row) for row in missile_rows], used

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
        row["first_reported"] = min(self.published_day[c.source] for c in claims)
        return row

    def claim_row(self, claim: Claim, used: bool) -> tuple:
        numeric = isinstance(claim.value, (int, float))
        return (claim.id, claim.launch_id, claim.missile, claim.attribute,
                format_number(claim.value) if numeric else claim.value, claim.value if numeric else None,
                claim.unit or None, claim.original_text or None, claim.original_value, claim.original_unit or None,
                claim.qualifier, claim.precision or None, claim.claimant, claim.source,
                self.published_day[claim.source], claim.source_record or None, claim.event.id,
                claim.event.changeset.recorded_at, claim.status, claim.replaced_by or None, used, claim.note or None)

    def statement(self, statement_id: str) -> dict[str, list]:
        s = self.state.statements.get(statement_id)
        if s is None:
            return {}
        row = {"statement_id": statement_id, **dated(s), "actor_id": s["actor"],
               "country": self.state.actors[s["actor"]].get("country"), "speaker": s.get("speaker"),
               "role": s.get("role"), "channel": s.get("channel", "unknown"), "stance": s["stance"],
               "quote": s.get("quote"), "summary": s["summary"], "source_id": s["source"], "event_id": s["event"].id}
        return {"statements": [self.rows["statements"](row)],
                "launch_statements": [(x, statement_id, s["source"]) for x in s.get("launches", [])],
                "statement_sanctions": [(statement_id, x, s["source"]) for x in s.get("sanctions", [])]}

    def sanction(self, action_id: str) -> dict[str, list]:
        a = self.state.sanctions.get(action_id)
        if a is None:
            return {}
        named = len(a.get("parties", []))
        row = {"action_id": action_id, **dated(a), "action": a["action"], "authority_id": a["authority"],
               "programme": a.get("programme"), "legal_basis": a.get("legal_basis"),
               "parties_named": named, "parties_count": a.get("parties_count", named or None),
               "parties_text": a.get("parties_text"),
               "blocked_by": LIST_SEPARATOR.join(a.get("blocked_by", [])) or None,
               "refers_to": a.get("refers_to"), "summary": a["summary"], "source_id": a["source"],
               "event_id": a["event"].id}
        return {"sanctions": [self.rows["sanctions"](row)],
                "launch_sanctions": [(x, action_id, a["source"]) for x in a.get("launches", [])],
                "sanction_parties": [(action_id, x, a["source"]) for x in a.get("parties", [])]}

    def party(self, party_id: str) -> dict[str, list]:
        p = self.state.parties.get(party_id)
        return {} if p is None else {"parties": [(
            party_id, p["name"], p["kind"], LIST_SEPARATOR.join(p.get("aliases", [])) or None, p.get("nationality"),
            p.get("un_reference"), p.get("ofac_ent_num"), p.get("date_of_birth"), p.get("title"), p.get("remarks"),
            p.get("linked_on"), p["source"])]}

    def context(self, context_id: str) -> dict[str, list]:
        c = self.state.context.get(context_id)
        return {} if c is None else {"context": [(
            context_id, c["topic"], c.get("period_start"), c.get("period_end"), c.get("value"), c.get("unit"),
            c.get("original"), c["summary"], c["claimant"], c["source"])]}

    def site(self, site_id: str) -> dict[str, list]:
        s = self.state.sites.get(site_id)
        return {} if s is None else {"sites": [(
            site_id, s["name"], s.get("province"), s.get("country"), s.get("latitude"), s.get("longitude"),
            LIST_SEPARATOR.join(s.get("aliases", [])) or None, s["source"])]}

    def missile_type(self, missile_type_id: str) -> dict[str, list]:
        m = self.state.missile_types.get(missile_type_id)
        return {} if m is None else {"missile_types": [(
            missile_type_id, m["name"], m.get("class"), m.get("maneuver"),
            LIST_SEPARATOR.join(m.get("aliases", [])) or None, m["source"])]}

    def actor(self, actor_id: str) -> dict[str, list]:
        a = self.state.actors.get(actor_id)
        return {} if a is None else {"actors": [(actor_id, a["name"], a["kind"], a.get("country"), a.get("parent"))]}

    def source(self, source_id: str) -> dict[str, list]:
        s = self.state.sources.get(source_id)
        return {} if s is None else {"sources": [(
            source_id, s["kind"], s["publisher"], s.get("title"), s.get("author"), day_of(s["published"]),
            s["published"] if "T" in s["published"] else None, s.get("url"), s.get("version"), s.get("terms"),
            s.get("attribution"))]}

    @staticmethod
    def change(c) -> tuple:
        return (c.event.id, c.record_type, c.record_id, c.change, c.detail or None, c.reason or None,
                c.source or None, c.event.changeset.recorded_at, c.event.changeset.name, c.event.changeset.body["author"])


def lookup_dependents(state: State):
    """("kind:ID" of a source, actor or missile type, kind, ID) of each record whose rows show more of it than
    its ID, so that a correction of it renders them again: a launch shows its claims' sources' dates (claims'
    source_published, first_reported, ties of reconciliation), its claimants' kinds and countries (which claim
    wins, confirmation) and its missile type's class; a statement shows its actor's country. Sites show in
    no row but their own. May repeat an item."""
    for claim in state.claims.values():
        yield f"source:{claim.source}", "launch", claim.launch_id
        yield f"actor:{claim.claimant}", "launch", claim.launch_id
        if claim.attribute == "missile_type":
            yield f"missile_type:{claim.value}", "launch", claim.launch_id
    for statement_id, statement in state.statements.items():
        yield f"actor:{statement['actor']}", "statement", statement_id


class _Field(dict):
    """actor ID -> kind, source ID -> published: one field of each record (or what convert makes of it),
    looked up once when first asked (a dict, so that later lookups cost no Python call)."""

    def __init__(self, records, name, convert=None):
        super().__init__()
        self.records, self.name, self.convert = records, name, convert

    def __missing__(self, record_id):
        value = self.records[record_id][self.name]
        value = self[record_id] = self.convert(value) if self.convert else value
        return value


# -- sorting ------------------------------------------------------------------------------------
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


# Keys of several fields are joined with a character below any that can follow a text's NUL (a number's
# length, 0x20 and up): a key that is a prefix of another then still sorts first, as in a tuple.
KEY_SEPARATOR = "\x01"


@lru_cache(maxsize=1 << 16)
def _stem_key(stem: str) -> str:
    return natural_key(stem)[:-1]


_tail_key = lru_cache(maxsize=1 << 16)(natural_key)  # parts of IDs repeat across tables and rows ("3.1")


def _key_by_stem(value: str) -> str:
    """natural_key, fast for IDs that share a stem: the key of stem + rest is the stem's key without its
    final NUL, then the rest's key, when the stem ends with a character that is not a digit (no run of
    digits crosses the cut). Event and claim IDs share their changeset's name up to the last '/'."""
    cut = value.rfind("/") + 1
    if cut:
        return _stem_key(value[:cut]) + _tail_key(value[cut:])
    return _tail_key(value)


NUMERALS = "0123456789"


def value_key(value) -> str:
    """natural_key of one key value (integers as their digits), fast for IDs that end with a number: the
    key of head + digits is the head's key (which ends with a text, maybe empty, and its NUL), then the
    number's and the empty text's after it. Heads repeat (party-, st-, "12." of a changeset's claim 12.3),
    whole IDs seldom."""
    if not isinstance(value, str):
        value = str(value)
    head = value.rstrip(NUMERALS)
    if len(head) == len(value):
        return _key_by_stem(value)
    number = value[len(head):].lstrip("0")
    return _key_by_stem(head) + chr(0x20 + len(number)) + number + "\0"


def row_key(values) -> str:
    """One string that sorts rows as the tuples of their key values' natural keys would."""
    return KEY_SEPARATOR.join(map(value_key, values))


# -- writing --------------------------------------------------------------------------------------
def _boolean(value) -> str:
    return "" if value is None else "true" if value else "false"


def _number(value) -> str:
    if value is None:
        return ""
    kind = type(value)  # the usual cases first (a bool is not of type int, and format_number refuses it)
    if kind is int:
        return str(value)
    if kind is float and not value.is_integer():
        return repr(value)
    return format_number(value)


# The one way a value of each Table Schema type is written in a CSV cell.
FORMAT_CELL = {"boolean": _boolean, "integer": _number, "number": _number}


def utf8_lengths(texts: list[str]) -> array:
    return array("L", (len(text) if text.isascii() else len(text.encode("utf-8")) for text in texts))


class Keys:
    """The sort keys of a table's rows, in order, as UTF-8 bytes; kept in one bytes object (as a list of
    str, the 3 million keys of a 10^6-event log would take 350 MB)."""

    def __init__(self, keys: list[str]):
        self.ends = array("Q", accumulate(utf8_lengths(keys)))
        self.blob = "".join(keys).encode("utf-8")

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, row: int) -> bytes:
        return self.blob[self.ends[row - 1] if row else 0:self.ends[row]]

    def __iter__(self):
        blob, start = self.blob, 0
        for end in self.ends:
            yield blob[start:end]
            start = end


@dataclass
class Table:
    """A rendered table: CSV bytes with its rows sorted by primary key, and for each row its sort key, its
    owner (the record that made it) and its length in bytes (what a snapshot keeps to find it again)."""
    name: str
    keys: Keys
    owners: list[str]
    lengths: array
    content: bytes

    @property
    def rows(self) -> int:
        return len(self.keys)

    def places(self):
        """(sort key as UTF-8, owner, first byte, length) of each row, in order."""
        start = len(header(self.name))
        for key, owner, length in zip(self.keys, self.owners, self.lengths):
            yield key, owner, start, length
            start += length


def header(name: str) -> bytes:
    return (",".join(field_names(name)) + "\n").encode("utf-8")


def key_of(name: str):
    """Function of a row (a list in field order) to its sort key."""
    names = field_names(name)
    positions = [names.index(k) for k in table_schema(name)["primaryKey"]]
    if len(positions) == 1:
        position = positions[0]
        return lambda row: value_key(row[position])
    get = operator.itemgetter(*positions)
    return lambda row: row_key(get(row))


def csv_lines(name: str, rows, consume: bool = False) -> list[str]:
    """Rows (sequences in field order) as CSV lines, each ending with LF. consume: rows is a list that may be
    emptied as soon as it is read (its rows then go, unless held elsewhere)."""
    rows = rows if consume else list(rows)
    width = len(field_names(name))
    if set(map(len, rows)) - {width}:
        raise ValueError(f"table {name}: a row of {next(len(r) for r in rows if len(r) != width)} cells for {width} fields")
    converted = [(i, FORMAT_CELL[f["type"]]) for i, f in enumerate(table_schema(name)["fields"])
                 if f["type"] in FORMAT_CELL]
    if converted and rows:
        columns = list(zip(*rows))  # a column at a time: the cells to format, without a Python loop per row
        rows.clear()
        for i, write in converted:
            columns[i] = map(write, columns[i])
        rows = zip(*columns)
    lines = []
    # csv writes a string as it is and None as an empty cell, and gives the file one write per row: the
    # lines are collected as written.
    csv.writer(_Lines(lines), lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return lines


class _Lines:
    def __init__(self, lines: list):
        self.write = lines.append


# Rows are formatted and encoded this many at a time: of a large table, only a chunk's cells and lines are held.
CHUNK = 1 << 16
# The sort key of an item whose row is made as it is written (see owned_rows): the key of that row.
ITEM_KEYS = {"claims": lambda claim: value_key(claim.id),
             "changes": lambda change: row_key((change.event.id, change.record_type, change.record_id))}


def make_table(name: str, owned: list, row_of=None) -> Table:
    """A table from (owner, row) pairs, or, given row_of, from (owner, item) pairs whose rows row_of makes as
    they are written (the rows of the largest tables are then never all held): rows sorted by primary key and
    written as CSV. It empties owned as it goes."""
    key = ITEM_KEYS[name] if row_of else key_of(name)
    keyed = sorted(((key(x), owner, x) for owner, x in owned), key=operator.itemgetter(0))
    owned.clear()
    keys, owners, items = Keys([k for k, _, _ in keyed]), [o for _, o, _ in keyed], [x for _, _, x in keyed]
    del keyed
    content, lengths = io.BytesIO(), array("L")
    content.write(header(name))
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK]
        items[start:start + CHUNK] = [None] * len(chunk)  # let go of rows once written
        lines = csv_lines(name, list(map(row_of, chunk)) if row_of else chunk, consume=True)
        lengths.extend(utf8_lengths(lines))
        content.write("".join(lines).encode("utf-8"))
    return Table(name, keys, owners, lengths, content.getvalue())


def owned_rows(state: State):
    """(table name, [(owner, row or item)], row_of) for every table, one kind of record at a time, so that only
    one kind's rows are held as Python objects at once; the largest table first, while no other is held.
    row_of is None when the pairs hold rows; for claims and changes it makes an item's row (make_table)."""
    projection = Projection(state)
    yield "changes", [("", c) for c in state.changes], projection.change
    for kind, attribute in KINDS.items():
        ids = getattr(state, attribute)
        if kind == "launch":
            yield from _launch_rows(projection, ids)
            continue
        owned = {name: [] for name in OWNED[kind]}
        make = getattr(projection, kind)
        for record_id in ids:
            for name, rows in make(record_id).items():
                owned[name] += [(record_id, row) for row in rows]
        for name, rows in owned.items():
            yield name, rows, None
        del owned


def _launch_rows(projection: Projection, ids):
    """The rows of launches and firings, then the claims (whose rows show which claims these used)."""
    launches, firings, used = [], [], set()
    for launch_id in ids:
        launch, missiles, chosen = projection.launch_parts(launch_id)
        launches.append((launch_id, launch))
        firings += [(launch_id, row) for row in missiles]
        used |= chosen
    yield "launches", launches, None
    yield "firings", firings, None
    del launches, firings
    yield "claims", [(launch_id, claim) for launch_id in ids for claim in projection.claims(launch_id)], \
        lambda claim: projection.claim_row(claim, claim.id in used)


def render_tables(state: State) -> dict[str, Table]:
    """Every table, in the package's order."""
    tables = {name: make_table(name, owned, row_of) for name, owned, row_of in owned_rows(state)}
    return {name: tables[name] for name in TABLES}


def project(state: State):
    """Every table's name and rows (unsorted) as dicts of Python values keyed by field name (for tests)."""
    for name, owned, row_of in owned_rows(state):
        names = field_names(name)
        yield name, [dict(zip(names, row_of(x) if row_of else x)) for _, x in owned]
