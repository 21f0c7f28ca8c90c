"""Tables: project the replayed state into the rows of every table, and write them as CSV.

Rows are made record by record: a launch makes its launches row, its firings rows and the claims rows of
its claims; a statement or a sanctions action makes its own row and its link rows; every other record and
every change makes one row. Each row remembers that record (its owner), so that a check on top of a
verified snapshot can render again only the records that new events touched (incremental.py).
Writing formats each cell one way only (see FORMAT_COLUMN) and sorts rows by primary key, so a rebuild
is byte-identical.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import marshal
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
from .replay import RECORDS, Change, Claim, State, day_of, period_end
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
LAUNCH_COLUMNS = [(attribute, COLUMN.get(attribute, attribute)) for attribute in LAUNCH_ATTRIBUTES]
FIRING_COLUMNS = [(attribute, COLUMN.get(attribute, attribute)) for attribute in FIRING_ATTRIBUTES]
# A firings row is its launch's ID, its position, its values (FIRING_COLUMNS), its claim count: the place of each
FIRING_PLACE = {"launch_id": 0, "position": 1, **{column: 2 + n for n, (_, column) in enumerate(FIRING_COLUMNS)},
                "claim_count": 2 + len(FIRING_COLUMNS)}
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
    date = record["date"]
    # a date of the schemas' format stands for itself (period_end gives it back) unless it starts a week or month
    return {"date": None if precision == "on_or_before" else date,
            "date_latest": period_end(date, precision) if precision in ("week", "month") else date,
            "date_precision": precision, "date_text": record.get("date_text")}


class Projection:
    """The rows of each record of a replayed state. `claims_of` (launch ID -> all its claims) is the replay's
    index when given (Replay.claims_of); otherwise it is made from the claims."""

    def __init__(self, state: State, claims_of=None):
        self.state = state
        self.kinds = _Field(state.actors, "kind")
        self.published = _Field(state.sources, "published")
        self.published_day = _Field(state.sources, "published", day_of)  # one string per source, not per row
        self.countries = _Field(state.actors, "country", optional=True)
        if claims_of is None:
            claims_of = defaultdict(list)
            for claim in state.claims.values():
                claims_of[claim.launch_id].append(claim)
        self.claims_of = claims_of
        self.rows = {name: operator.itemgetter(*field_names(name)) for name in TABLES}

    def reconcile(self, groups: dict[str, list[Claim]], used: set) -> tuple[dict[str, Claim], set[str]]:
        """Winning claim per attribute, and the attributes whose claims disagree (groups: attribute -> its
        current claims; used: the id() of every claim that gives a value, to which the winners are added)."""
        chosen, disagreeing = {}, set()
        for attribute, group in groups.items():
            if len(group) == 1:
                winner = chosen[attribute] = group[0]
            else:
                winner = chosen[attribute] = pick(group, self.kinds, self.published)
                if disagree(group):
                    disagreeing.add(attribute)
            used.add(id(winner))
        return chosen, disagreeing

    # -- rows of one record, as lists in the order of the table's fields; no rows for a record gone --------
    def launch(self, launch_id: str) -> dict[str, list]:
        """The launch's row, its firings rows and the rows of all its claims."""
        if launch_id not in self.state.launches:
            return {}
        launch, firings, passed_over = self.launch_parts(launch_id)
        return {"launches": [launch], "firings": firings,
                "claims": list(zip(*self.claim_columns(self.claims(launch_id), passed_over)))}

    def claims(self, launch_id: str) -> list[Claim]:
        """All the launch's claims, whatever their status."""
        return list(self.claims_of.get(launch_id, ()))

    def launch_parts(self, launch_id: str) -> tuple[tuple, list[tuple], set[str]]:
        """The launch's row, its firings rows, and the IDs of its current claims that give none of their values
        (passed over: usually none, where nearly all claims give one)."""
        claims = [claim for claim in self.claims_of.get(launch_id, ()) if claim.status == "current"]
        scopes = {}  # missile position (None: the launch as a whole) -> attribute -> current claims
        for claim in claims:
            scopes.setdefault(claim.missile, {}).setdefault(claim.attribute, []).append(claim)
        used = set()
        launch_level = scopes.get(None, {})
        counts, count_disagreement = self.reconcile({"missile_count": launch_level["missile_count"]}
                                                    if "missile_count" in launch_level else {}, used)
        count = counts["missile_count"].value if counts else None
        positions = max([count or 0] + [position for position in scopes if position])
        if positions == 1:
            # For one missile, "the launch" and "missile 1" are the same thing: pool their claims.
            pooled = {}
            for scope in (launch_level, scopes.get(1, {})):
                for attribute, group in scope.items():
                    pooled[attribute] = pooled.get(attribute, []) + group
        else:
            pooled = launch_level
        pooled = {attribute: group for attribute, group in pooled.items() if attribute != "missile_count"}
        chosen, disagreeing = self.reconcile(pooled, used)
        chosen.update(counts)
        disagreeing |= count_disagreement
        missile_rows = []  # each a firings row: launch ID, position, the values of FIRING_COLUMNS, claim count
        for position in range(1, positions + 1):
            if positions == 1:  # its claims are all the launch's, reconciled above
                picked, claim_count = chosen, len(claims)
            else:
                own = scopes.get(position, {})
                picked, differ = self.reconcile({a: g for a, g in own.items() if a in FIRING_ATTRIBUTES}, used)
                disagreeing |= differ
                claim_count = sum(map(len, own.values()))
            missile_rows.append((launch_id, position, *[winner.value if (winner := picked.get(attribute)) else None
                                                        for attribute in FIRING_ATTRIBUTES], claim_count))
        launch = self.launch_row(launch_id, claims, chosen, disagreeing, count, missile_rows)
        return self.rows["launches"](launch), missile_rows, {c.id for c in claims if id(c) not in used}

    def launch_row(self, launch_id, claims, chosen, disagreeing, count, missile_rows) -> dict:
        row = {"launch_id": launch_id}
        for attribute, column in LAUNCH_COLUMNS:
            row[column] = winner.value if (winner := chosen.get(attribute)) else None
        if missile_rows:
            for column in ("apogee_km", "range_km", "max_speed_mach", "flight_time_s"):
                if row[column] is None:
                    place = FIRING_PLACE[column]
                    figures = [m[place] for m in missile_rows if m[place] is not None]
                    if figures:
                        row[column] = max(figures)  # the salvo's highest / farthest / fastest / longest
            place = FIRING_PLACE["launched_at_utc"]
            times = [m[place] for m in missile_rows if m[place]]
            if row["launched_at_utc"] is None and times:
                row["launched_at_utc"] = min(times)
                chosen.setdefault("launched_at", next(c for c in claims if c.value == min(times)
                                                      and c.attribute == "launched_at"))
            for column in ("missile_type_id", "landing_area", "outcome"):
                if row[column] is None:
                    place = FIRING_PLACE[column]
                    shared = {m[place] for m in missile_rows if m[place]}
                    if len(shared) == 1:
                        row[column] = shared.pop()  # what every missile of the salvo has in common
                    elif column == "outcome" and len(shared) > 1:
                        row[column] = "mixed"
        if row["launched_at_utc"]:
            row["time_precision"] = chosen["launched_at"].precision
            if row["korea_date"] is None:
                row["korea_date"] = korea_date_of(row["launched_at_utc"])
        elif row["korea_date"]:
            row["time_precision"] = chosen["korea_date"].precision
        else:
            row["time_precision"] = "unknown"
        if row["missile_type_id"]:
            missile_type = self.state.missile_types.get(row["missile_type_id"])
            if missile_type and missile_type.get("class"):
                row["missile_class"] = missile_type["class"]
        row["missile_count"] = count
        countries = set(map(self.countries.__getitem__, {c.claimant for c in claims}))
        dprk, others = "KP" in countries, bool(countries - {"KP"})
        row["confirmation"] = "dprk_and_others" if dprk and others else ("dprk_only" if dprk else "others_only")
        row["claim_count"] = len(claims)
        sources = {c.source for c in claims}
        row["source_count"] = len(sources)
        row["sources_disagree"] = bool(disagreeing)
        row["disagreements"] = LIST_SEPARATOR.join(sorted(disagreeing)) or None
        row["first_reported"] = min(map(self.published_day.__getitem__, sources))
        return row

    def claim_columns(self, claims: list[Claim], passed_over) -> list[list]:
        """The claims' rows as columns (a large table's rows are made a column at a time); passed_over: the IDs
        of the current claims that give none of their launch's or firings' values (launch_parts): every other
        current claim gives one (is used)."""
        values = [c.value for c in claims]
        numbers = [v if isinstance(v, (int, float)) else None for v in values]
        published = self.published_day
        events = [c.event.id for c in claims]
        ids = [f"{event}.{c.position}" for event, c in zip(events, claims)]  # (Claim.id, from the IDs made here)
        return [ids, [c.launch_id for c in claims], [c.missile for c in claims],
                [c.attribute for c in claims],
                [v if n is None else format_number(n) for v, n in zip(values, numbers)], numbers,
                [c.unit or None for c in claims], [c.original_text or None for c in claims],
                [c.original_value for c in claims], [c.original_unit or None for c in claims],
                [c.qualifier for c in claims], [c.precision or None for c in claims],
                [c.claimant for c in claims], [c.source for c in claims], [published[c.source] for c in claims],
                [c.source_record or None for c in claims], events,
                [c.event.changeset.recorded_at for c in claims], [c.status for c in claims],
                [c.replaced_by or None for c in claims],
                [c.status == "current" and i not in passed_over for c, i in zip(claims, ids)],
                [c.note or None for c in claims]]

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

    def change(self, change: Change) -> tuple:
        return next(zip(*self.change_columns([change])))

    @staticmethod
    def change_columns(changes: list[Change]) -> list[list]:
        events = [c.event for c in changes]
        changesets = [e.changeset for e in events]
        return [[e.id for e in events], [c.record_type for c in changes], [c.record_id for c in changes],
                [c.change for c in changes], [c.detail or None for c in changes], [c.reason or None for c in changes],
                [c.source or None for c in changes], [c.recorded_at for c in changesets],
                [c.name for c in changesets], [c.body["author"] for c in changesets]]


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
    """actor ID -> kind, source ID -> published: one field of each record (or what convert makes of it; None
    for a field that is optional and not given), looked up once when first asked (a dict, so that later
    lookups cost no Python call)."""

    def __init__(self, records, name, convert=None, optional=False):
        super().__init__()
        self.records, self.name, self.convert, self.optional = records, name, convert, optional

    def __missing__(self, record_id):
        record = self.records[record_id]
        value = record.get(self.name) if self.optional else record[self.name]
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


class _HeadKeys(dict):
    """Head of an ID (what comes before its final run of digits, or the whole ID if it ends otherwise) -> its
    key (_key_by_stem), each made once: heads repeat from row to row (party-, st-, a changeset's name and /)."""

    def __missing__(self, head: str) -> str:
        key = self[head] = _key_by_stem(head)
        return key


class _LengthMarks(dict):
    """Length of a number's digits -> the character that stands for it in a key (see natural_key)."""

    def __missing__(self, length: int) -> str:
        mark = self[length] = chr(0x20 + length)
        return mark


_LENGTH_MARKS = _LengthMarks()


def value_keys(values, heads: _HeadKeys | None = None) -> list[str]:
    """value_key of each value: the same keys, made in one comprehension (no Python call for most values).
    heads: the keys of heads made so far (of earlier values of the same column)."""
    heads, marks = _HeadKeys() if heads is None else heads, _LENGTH_MARKS
    try:
        "".join(values)  # all text, as IDs are
    except TypeError:
        values = [v if type(v) is str else str(v) for v in values]
    return [f"{heads[h]}{marks[len(n := v[len(h):].lstrip('0'))]}{n}\0" if len(h := v.rstrip(NUMERALS)) < len(v)
            else heads[v] for v in values]


def sort_keys(columns: list) -> list[str]:
    """The sort key of each row (row_key of its key values), from the key values given as columns, which it
    empties: a chunk of values goes as soon as its keys are made (the values and the keys of a large table are
    never all held together)."""
    keys, heads = [], [_HeadKeys() for _ in columns]
    rows = len(columns[0]) if columns else 0
    for start in range(0, rows, CHUNK):
        made = [value_keys(column[start:start + CHUNK], cache) for column, cache in zip(columns, heads)]
        keys += made[0] if len(made) == 1 else map(KEY_SEPARATOR.join, zip(*made))
        for column in columns:
            column[start:start + CHUNK] = [None] * len(made[0])
    columns.clear()
    return keys


# -- writing --------------------------------------------------------------------------------------
# Cells are made a column at a time (a comprehension per column, not a Python call per cell), and a row is
# its cells joined. A cell is quoted, its quotes doubled, when it holds a comma, a double quote, a line feed or
# a carriage return: what the csv module does with QUOTE_MINIMAL (the checks refuse control characters in
# texts, so no cell holds a carriage return today), written out so that the bytes do not depend on Python's
# version.
NEEDS_QUOTES = re.compile(r'[,"\n\r]')


def _quoted(cells: list[str]) -> list[str]:
    if not NEEDS_QUOTES.search("".join(cells)):
        return cells
    done = {}  # a column's texts often repeat (lists of attributes in the history): each is looked at once
    return [done[cell] if cell in done else done.setdefault(cell, _quote(cell)) for cell in cells]


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if NEEDS_QUOTES.search(cell) else cell


def _text_cells(column) -> list[str]:
    for cells in (column, ["" if v is None else v for v in column]):  # all text, or text and None: the usual cases
        try:
            "".join(cells)
            return cells
        except TypeError:
            pass
    return [v if type(v) is str else "" if v is None else str(v) for v in column]


def _number_cells(column) -> list[str]:
    # the usual cases inline (a bool is not of type int, and format_number refuses it)
    return ["" if v is None else str(v) if type(v) is int else repr(v) if type(v) is float and not v.is_integer()
            else format_number(v) for v in column]


def _boolean_cells(column) -> list[str]:
    return ["" if v is None else "true" if v else "false" for v in column]


# The one way a value of each Table Schema type is written in a CSV cell (any other type: as text, quoted
# where it must be; numbers and booleans never need quotes).
FORMAT_COLUMN = {"boolean": _boolean_cells, "integer": _number_cells, "number": _number_cells}


def utf8_lengths(texts: list[str]) -> array:
    return array("L", (len(text) if text.isascii() else len(text.encode("utf-8")) for text in texts))


class Keys:
    """The sort keys of a table's rows, in order, as UTF-8 bytes; kept in one bytes object (as a list of
    str, the 3 million keys of a 10^6-event log would take 350 MB), or in a file, which only a snapshot reads,
    once the checks passed."""

    @classmethod
    def in_order(cls, keys: list[str], order: list[int], path: Path | None = None) -> "Keys":
        """The keys in this order (without a second list of them), written to the file at path if given."""
        made = cls.__new__(cls)
        made.ends = array("Q", accumulate(utf8_lengths(map(keys.__getitem__, order))))
        made.blob, made.path = None, path
        with open(path, "wb") if path else io.BytesIO() as out:  # a chunk at a time: no copy of them all as text
            for start in range(0, len(order), CHUNK):
                out.write("".join(map(keys.__getitem__, order[start:start + CHUNK])).encode("utf-8"))
            if not path:
                made.blob = out.getvalue()
        return made

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, row: int) -> bytes:
        start, end = self.ends[row - 1] if row else 0, self.ends[row]
        if self.blob is not None:
            return self.blob[start:end]
        with open(self.path, "rb") as file:
            file.seek(start)
            return file.read(end - start)

    def __iter__(self):
        blob, start = self.blob if self.blob is not None else self.path.read_bytes(), 0
        for end in self.ends:
            yield blob[start:end]
            start = end


@dataclass
class Table:
    """A rendered table: CSV bytes with its rows sorted by primary key (content; None when written to a file
    instead), and for each row its sort key, its owner (the record that made it) and its length in bytes (what
    a snapshot keeps to find it again); and for the codebook, the first value given in each column with its
    row (0 is the first row)."""
    name: str
    keys: Keys
    owners: list[str]
    lengths: array
    content: bytes | None
    examples: dict[str, tuple[str, int]]

    @property
    def rows(self) -> int:
        return len(self.keys)

    @property
    def summary(self) -> tuple[int, dict[str, tuple[str, int]]]:
        """What codebook.summarise tells of the table's CSV."""
        return self.rows, self.examples

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
    columns = list(zip(*rows)) or [()] * width
    rows.clear()
    return column_lines(name, columns)


def column_lines(name: str, columns: list, examples: dict | None = None, first_row: int = 0) -> list[str]:
    """A table's columns (in field order, of equal length) as CSV lines, each ending with LF. Empties columns.
    examples: for each column not in it yet, its first value given here, with its row (first_row + place)."""
    cells = []
    for field in table_schema(name)["fields"]:
        formatted = FORMAT_COLUMN.get(field["type"], _text_cells)(columns.pop(0))
        if examples is not None and field["name"] not in examples:
            given = next(filter(None, formatted), None)
            if given is not None:
                examples[field["name"]] = (given, first_row + formatted.index(given))
        cells.append(formatted if field["type"] in FORMAT_COLUMN else _quoted(formatted))
    cells[-1] = [cell + "\n" for cell in cells[-1]]
    return list(map(",".join, zip(*cells)))


# Rows are formatted and encoded this many at a time: of a large table, only a chunk's cells and lines are held.
CHUNK = 1 << 16
# The key values, as columns, of items whose rows are made as they are written (see owned_rows): those of
# their rows.
ITEM_KEY_COLUMNS = {"claims": lambda claims: [[c.id for c in claims]],
                    "changes": lambda changes: [[c.event.id for c in changes], [c.record_type for c in changes],
                                                [c.record_id for c in changes]]}


def key_columns(name: str, rows: list) -> list[list]:
    """The key values of rows (sequences in field order), as columns."""
    names = field_names(name)
    return [[row[p] for row in rows] for p in (names.index(k) for k in table_schema(name)["primaryKey"])]


def rows_of(columns_of, items: list) -> list[tuple]:
    """The rows that columns_of (see owned_rows) makes of items."""
    return list(zip(*columns_of(items)))


def _sorted_order(keys: list[str]) -> list[int]:
    return sorted(range(len(keys)), key=keys.__getitem__)


class TableWriter:
    """Writes one table: given the key values of its rows (as columns), it tells their order (sorted by primary
    key); then it takes the rows in that order, a chunk of columns at a time, and writes them as CSV (to the
    file at path, if given, else in memory); finish gives the Table."""

    def __init__(self, name: str, path: Path | None = None, keys_path: Path | None = None):
        self.name, self.path, self.keys_path = name, path, keys_path
        self.out = open(path, "wb") if path else io.BytesIO()
        self.out.write(header(name))
        self.keys, self.lengths, self.examples, self.written = None, array("L"), {}, 0

    def order(self, key_columns: list[list]) -> list[int]:
        """The order of the rows, given their key values as columns (emptied: they go once their keys are made)."""
        keys = sort_keys(key_columns)
        order = _sorted_order(keys)
        self.keys = Keys.in_order(keys, order, self.keys_path)
        return order

    def write(self, columns: list[list]) -> None:
        lines = column_lines(self.name, columns, self.examples, self.written)
        text = "".join(lines)
        self.lengths.extend(map(len, lines) if text.isascii() else utf8_lengths(lines))
        self.out.write(text.encode("utf-8"))
        self.written += len(lines)

    def finish(self, owners: list[str] | None) -> Table:
        """The table (owners: of its rows, in order; None, to be filled in by who sent the rows)."""
        content = None if self.path else self.out.getvalue()
        self.out.close()
        return Table(self.name, self.keys, owners, self.lengths, content,
                     {column: self.examples[column] for column in field_names(self.name) if column in self.examples})


def make_table(name: str, owners: list[str], items: list, columns_of=None, path: Path | None = None,
               keys_path: Path | None = None, pump=None) -> Table:
    """A table from rows (sequences in field order) and the owner of each, or, given columns_of, from items
    whose rows columns_of makes, a column at a time, as they are written (the rows of the largest tables are
    then never all held): rows sorted by primary key and written as CSV, to the file at path if given (and
    their keys to the file at keys_path). It empties items (so that rows go once written). pump: called
    before each chunk of rows is written (Feeder.pump)."""
    pump = pump or _nothing
    writer = TableWriter(name, path, keys_path)
    order = writer.order(ITEM_KEY_COLUMNS[name](items) if columns_of else key_columns(name, items))
    owners, rows = [owners[i] for i in order], [items[i] for i in order]
    items.clear()
    del order
    for start in range(0, len(rows), CHUNK):
        pump()
        chunk = rows[start:start + CHUNK]
        rows[start:start + CHUNK] = [None] * len(chunk)  # let go of rows once written
        writer.write(columns_of(chunk) if columns_of else list(zip(*chunk)))
    return writer.finish(owners)


# -- tables written by a helper process (helper.py) while this one makes the others ----------------------
# This process makes the key values of a table's rows and, once the helper has sorted them, its rows in that
# order (columns carried by marshal, the fastest way between processes); the helper makes the sort keys and
# formats and writes the rows, most of the work of a table. It writes every table but the launches, which are
# made last with the firings (after the longest work here, reconciling the launches' claims, during which the
# helper writes the other tables), and which this process writes while the helper writes the firings and the
# claims (which show what the launches use: LATER); the helper then draws the charts. The two processes
# finish within a few seconds of each other.
HELPED = tuple(name for name in TABLES if name != "launches")
# Chunks of rows sent and not yet written by the helper, at most: it always has the next at hand, and what waits
# in its queue stays small (the claims alone are 150 MB of marshal at 10^6 events).
AHEAD = 3
_writers: dict[str, TableWriter] = {}  # in the helper process: the tables it is writing


def order_in_helper(name: str, path: Path | None, keys_path: Path | None, packed_keys: list[bytes]) -> bytes:
    """In the helper: start writing a table; the order of its rows (array of "L", as bytes). packed_keys: the
    marshal of the key values, alone in a list, taken out so that it goes once read (it is as large as them)."""
    writer = _writers[name] = TableWriter(name, path, keys_path)
    return array("L", writer.order(marshal.loads(packed_keys.pop()))).tobytes()


def write_in_helper(name: str, packed_columns: bytes) -> None:
    _writers[name].write(marshal.loads(packed_columns))


def finish_in_helper(name: str) -> Table:
    """In the helper: the table written (its owners to be filled in)."""
    table = _writers.pop(name).finish(None)
    give_back_memory()
    return table


def give_back_memory() -> None:
    """Hand freed memory back to the system, which the C library keeps otherwise: in the helper, that of a finished
    table (its memory would stay that of its largest table plus what the next one takes); here, that of the
    parsed log, before the rows are made."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # (not the GNU C library: nothing to do)


@dataclass
class Feed:
    """A table the helper writes, as this process sends it."""
    name: str
    owners: list[str]
    items: list
    columns_of: object
    path: Path | None
    keys_path: Path | None
    ordered: object                 # the helper's job that finds the rows' order (None once taken)
    held: bool = False              # its rows cannot be made yet (LATER)
    order: array | None = None
    sent: int = 0                   # rows sent
    finished: object = None         # the helper's job that finishes the table


class Feeder:
    """Sends the helper the rows of the tables it writes: a table's key values as soon as it is given (add), its
    rows once the helper found their order (and the table is not held), a chunk at a time, never more than AHEAD
    chunks ahead of the helper (each let go of here once sent). This process calls pump now and then while it
    makes its own tables, and finish at the end."""

    def __init__(self, helper, state: State, claims_of=None):
        self.helper, self.state, self.claims_of, self.feeds = helper, state, claims_of, []

    def add(self, name: str, owners: list[str], items: list, columns_of, path: Path | None,
            keys_path: Path | None, held: bool = False) -> None:
        values = ITEM_KEY_COLUMNS[name](items) if columns_of else key_columns(name, items)
        # (not kept here once sent: if the helper goes, finish makes the table here from the state again)
        ordered = self.helper.submit(order_in_helper, name, path, keys_path, [marshal.dumps(values)], keep=False)
        self.feeds.append(Feed(name, owners, items, columns_of, path, keys_path, ordered, held))

    def release(self, name: str) -> None:
        for feed in self.feeds:
            feed.held = feed.held and feed.name != name

    def sent(self) -> set[str]:
        """The tables the helper has been sent all of."""
        return {feed.name for feed in self.feeds if feed.finished is not None}

    def pump(self, wait: bool = False) -> None:
        """Send what the helper has room for, the tables in the order given (wait: all but the held ones,
        waiting for room as it goes)."""
        helper = self.helper
        if helper.process is not None:
            helper.backlog()  # take in what has come back: the helper may be waiting to send it
        for feed in self.feeds:
            if feed.held or feed.finished is not None:
                continue
            if feed.order is None:
                if helper.process is None or not (wait or feed.ordered.ready()):
                    return
                order, feed.ordered = feed.ordered.result(), None  # (its bytes are as large as the order)
                if order is None:  # the helper went: finish makes the table
                    return
                feed.order = array("L")
                feed.order.frombytes(order)
            while feed.sent < len(feed.order):
                if helper.process is None or helper.backlog() > AHEAD and not wait:
                    return
                helper.wait_below(AHEAD + 1)
                chunk = [feed.items[i] for i in feed.order[feed.sent:feed.sent + CHUNK]]
                feed.sent += CHUNK
                columns = feed.columns_of(chunk) if feed.columns_of else list(zip(*chunk))
                helper.submit(write_in_helper, feed.name, marshal.dumps(columns))
            feed.finished = helper.submit(finish_in_helper, feed.name)
            feed.owners = [feed.owners[i] for i in feed.order]
            feed.items.clear()
            feed.order = None

    def finish(self):
        """(name, Table) of each table sent, once the helper wrote it. If the helper is gone (what it did of the
        tables is lost), the tables it did not finish are made here, from the state again."""
        self.pump(wait=True)
        tables, lost = {}, {}
        for feed in self.feeds:
            if feed.finished is not None and self.helper.process is not None:
                try:
                    tables[feed.name] = finished = feed.finished.result()
                    finished.owners = feed.owners
                    continue
                except KeyError:  # the helper went meanwhile: the job ran here, where the table has no writer
                    pass
            _writers.pop(feed.name, None)  # (a job of the helper's that was run here instead)
            lost[feed.name] = (feed.path, feed.keys_path)
        remade = list(owned_rows(self.state, claims_of=self.claims_of)) if lost else ()  # (all made: LATER)
        for name, owners, items, columns_of in remade:
            if name in lost:
                tables[name] = make_table(name, owners, items, columns_of, *lost[name])
        yield from tables.items()


# A table whose rows can be made only once another is given (owned_rows gives it before, so that its order can be
# found meanwhile): the claims' rows tell which claims the launches' and firings' rows use.
LATER = {"claims": "launches"}


def owned_rows(state: State, pump=None, claims_of=None):
    """(table name, owners, rows or items, columns_of) for every table, one kind of record at a time, so that
    only one kind's rows are held as Python objects at once: the history of changes first (while no other is
    held), the claims (whose rows can be made only once the launches' are: LATER), the statements, the
    sanctions actions and the other records, then the launches and firings. columns_of is None when the list
    holds rows; for claims and changes it makes the rows of a list of items, as columns (make_table). owners:
    the record that made each row (its ID; none for the history of changes). pump: called every so often while
    rows are made (Feeder.pump). claims_of: the replay's index of claims by launch (Projection)."""
    pump = pump or _nothing
    projection = Projection(state, claims_of)
    yield "changes", [""] * len(state.changes), list(state.changes), projection.change_columns
    passed_over = set()  # current claims that give no launch's or firing's value (the claims' rows show which do)
    owners = [launch_id for launch_id in state.launches for _ in projection.claims_of.get(launch_id, ())]
    yield "claims", owners, [claim for launch_id in state.launches for claim in projection.claims(launch_id)], \
        lambda claims: projection.claim_columns(claims, passed_over)
    for kind in ("statement", "sanction", *(kind for kind in KINDS if kind not in ("launch", "statement", "sanction"))):
        yield from _record_rows(projection, kind, pump)
    yield from _launch_rows(projection, state.launches, passed_over, pump)


def _nothing() -> None:
    pass


# Records whose rows are made between two calls of pump (a few tenths of a second's work).
PUMP_EVERY = 1 << 14


def _launch_rows(projection: Projection, ids, passed_over: set, pump):
    """The rows of launches and firings; the current claims that give none of their values are added to
    passed_over."""
    launches, firings, owners = [], [], []
    for n, launch_id in enumerate(ids):
        if not n % PUMP_EVERY:
            pump()
        launch, missiles, passed = projection.launch_parts(launch_id)
        launches.append(launch)
        firings += missiles
        owners += [launch_id] * len(missiles)
        if passed:
            passed_over |= passed
    yield "launches", list(ids), launches, None
    yield "firings", owners, firings, None


def _record_rows(projection: Projection, kind: str, pump):
    owned = {name: ([], []) for name in OWNED[kind]}
    make = getattr(projection, kind)
    for n, record_id in enumerate(getattr(projection.state, KINDS[kind])):
        if not n % PUMP_EVERY:
            pump()
        for name, rows in make(record_id).items():
            owners, made = owned[name]
            owners += [record_id] * len(rows)
            made += rows
    yield from ((name, owners, rows, None) for name, (owners, rows) in owned.items())


def rendered_tables(state: State, folder: Path | None = None, helper=None, keys: Path | None = None,
                    then: tuple[set, object] | None = None, claims_of=None):
    """(name, Table) of every table as it is made, written to folder/data/<name>.csv if a folder is given (not
    held in memory), its rows' keys to keys/<name>.keys if that folder is given. Given a helper process, it
    writes the tables of HELPED, which are given last, once it has. then: (names of tables, a function) called
    once, as soon as those tables are written or the helper has been sent all it needs to write them (the
    helper would do a job it is sent then after them). claims_of: the replay's index of claims by launch."""
    if folder:
        (folder / "data").mkdir(parents=True, exist_ok=True)
    give_back_memory()  # what reading the log freed (its parsed events), before the rows are made
    feeder = Feeder(helper, state, claims_of) if helper else None
    pump = feeder.pump if feeder else None
    held, done = {}, set()  # LATER tables given, not made yet
    for name, owners, items, columns_of in owned_rows(state, pump, claims_of):
        path = folder / "data" / f"{name}.csv" if folder else None
        keys_path = keys / f"{name}.keys" if keys else None
        for later in [later for later, after in LATER.items() if after == name]:
            if later in held:
                yield later, make_table(later, *held.pop(later), pump)
                done.add(later)
            elif feeder:
                feeder.release(later)
        if feeder and name in HELPED:
            feeder.add(name, owners, items, columns_of, path, keys_path, held=name in LATER)
        elif name in LATER:
            held[name] = (owners, items, columns_of, path, keys_path)
        else:
            yield name, make_table(name, owners, items, columns_of, path, keys_path, pump)
            done.add(name)
        if feeder:
            feeder.pump()
            done |= feeder.sent()
        if then and then[0] <= done:
            then, call = None, then[1]
            call()
    if feeder:
        yield from feeder.finish()
    if then:
        then[1]()


def render_tables(state: State) -> dict[str, Table]:
    """Every table, in the package's order."""
    tables = dict(rendered_tables(state))
    return {name: tables[name] for name in TABLES}


def project(state: State):
    """Every table's name and rows (unsorted) as dicts of Python values keyed by field name (for tests)."""
    for name, _, items, columns_of in list(owned_rows(state)):  # (all given before any is made: LATER)
        names = field_names(name)
        yield name, [dict(zip(names, row)) for row in (rows_of(columns_of, items) if columns_of else items)]
