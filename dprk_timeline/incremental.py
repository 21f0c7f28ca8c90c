"""Layers 3 to 5 on top of a verified snapshot: only the rows of the records that new events touched are
rendered again and checked; every other row is the verified snapshot's, byte for byte.

The snapshot's package passed layers 3 and 4. The new package differs from it only in the rows of touched
records (their old rows are dropped, their new rows put in their place by sort key) and in the files made
from whole tables (the descriptor, the codebook, the charts). So the new package passes a check when the
new rows pass it and nothing that reached beyond them changed:
- layer 3: frictionless checks the new rows against the Table Schemas (types, formats, constraints); their
  primary keys must be new or replace rows of the same records; their foreign keys must resolve in the new
  tables; no row left as it was points to a row that is removed (a retraction or merge);
- layer 4: the expectation suites run on the new rows (and the rows they join with), and on the facts of
  whole tables (counts per year, shares, periods, unique URLs: expectations.Facts) kept with the snapshot,
  the new rows' facts put in place of the old;
- layer 5: the committed files are compared with the new ones, as on the full path.
Whenever the fast path cannot decide a case exactly (a row left as it was that points to a removed row; a
cell of a table holding a line break; any problem found), it raises Fallback and the run takes the full
path, which words every problem as it always does.
"""
from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .jsonio import dumps_canonical
from .replay import LOOKUP_KINDS
from .tables import (KEY_SEPARATOR, KINDS, OWNED, TABLES, Projection, csv_lines, field_names, header, key_of, table_schema,
                     value_key)

if TYPE_CHECKING:
    import pandas as pd

# table -> (table, column) of each foreign key that points to it (every table pointed to has a one-field key)
REFERRERS: dict[str, list[tuple[str, str]]] = {}
for _name in TABLES:
    for _key in table_schema(_name).get("foreignKeys", []):
        REFERRERS.setdefault(_key["reference"]["resource"], []).append((_name, _key["fields"][0]))


class Fallback(Exception):
    """The fast path cannot decide exactly: take the full path (the message says why)."""


@dataclass
class TableDelta:
    """What changes in one table: new rows by sort key (a row of cells, or None for a row that goes)."""
    name: str
    rows: dict[bytes, tuple | None] = field(default_factory=dict)
    owners: dict[bytes, str] = field(default_factory=dict)
    old: dict[bytes, tuple[int, int]] = field(default_factory=dict)   # key -> (first byte, length) in the old file
    added: list[tuple[bytes, tuple]] = field(default_factory=list)    # (key, row) of the new rows, by key
    lines: dict[bytes, bytes] = field(default_factory=dict)           # key -> the new row as a CSV line

    @property
    def removed(self) -> list[bytes]:
        return [k for k, row in self.rows.items() if row is None]

    def settle(self, old_file: bytes) -> None:
        """Write the new rows as CSV lines, and forget those that equal the rows they replace (a record the
        replay only read renders its rows again, unchanged)."""
        added = sorted((k, row) for k, row in self.rows.items() if row is not None)
        self.lines = dict(zip((k for k, _ in added), (line.encode("utf-8") for line in csv_lines(self.name, (row for _, row in added)))))
        for k in [k for k in self.lines if k in self.old]:
            start, length = self.old[k]
            if old_file[start:start + length] == self.lines[k]:
                del self.rows[k], self.owners[k], self.old[k], self.lines[k]
        self.added = [(k, row) for k, row in added if k in self.lines]


def touched_records(snap, engine) -> dict[str, set[str]]:
    """The records whose rows may have changed since the snapshot: every record the replay read, set or
    deleted (a read one renders the same rows again), the launches of the claims it touched, and the records
    of the snapshot whose rows show a source, actor or missile type that was corrected (tables.lookup_dependents;
    new records that show it are touched already)."""
    state = engine.state
    corrected = set()
    for change in state.changes.new:
        if change.record_type in LOOKUP_KINDS and change.change != "created":
            if change.change not in ("corrected", "retracted"):
                raise Fallback(f"{change.record_type.replace('_', ' ')} {change.record_id!r} was {change.change}: "
                               "rows of other records depend on it")
            # (a retracted one is used by nothing: the replay made sure, and check_keys makes sure of the rows)
            corrected.add(f"{change.record_type}:{change.record_id}")
    owners = {kind: set(getattr(state, attribute).touched) for kind, attribute in KINDS.items()}
    owners["launch"] |= engine.claims_of.touched
    for claim_id in state.claims.touched:
        if claim_id in state.claims:
            owners["launch"].add(state.claims[claim_id].launch_id)
    for lookup in sorted(corrected):
        for kind, owner in snap.db.execute("SELECT kind, owner FROM dependents WHERE lookup = ?", (lookup,)):
            owners[kind].add(owner)
    return owners


def render_delta(snap, engine) -> dict[str, TableDelta]:
    """The new rows of every touched record, and the old rows they replace or drop."""
    owners = touched_records(snap, engine)
    projection = Projection(engine.state, claims_of=engine.claims_of)
    deltas = {name: TableDelta(name) for name in TABLES}
    # first the old rows of every touched record (a merge moves rows from one record to another), then the new
    for kind, ids in owners.items():
        for name in OWNED[kind]:
            delta = deltas[name]
            for record_id in ids:
                for k, start, length in snap.db.execute(f"SELECT k, start, length FROM rows_{name} WHERE owner = ?",
                                                        (record_id,)):
                    delta.rows[k], delta.owners[k], delta.old[k] = None, record_id, (start, length)
    for kind, ids in owners.items():
        make = getattr(projection, kind)
        for record_id in sorted(ids):
            for name, rows in make(record_id).items():
                add_rows(snap, deltas[name], record_id, rows)
    add_rows(snap, deltas["changes"], "", [projection.change(c) for c in engine.state.changes.new])
    for delta in deltas.values():
        if delta.rows:
            delta.settle(snap.file(f"data/{delta.name}.csv"))
    return {name: delta for name, delta in deltas.items() if delta.rows}


def add_rows(snap, delta: TableDelta, owner: str, rows) -> None:
    key = key_of(delta.name)
    for row in rows:
        k = key(row).encode("utf-8")
        if delta.rows.get(k) is not None:
            raise Fallback(f"two new rows of {delta.name} have one primary key")
        if k not in delta.old:
            place = snap.db.execute(f"SELECT start, length FROM rows_{delta.name} WHERE k = ?", (k,)).fetchone()
            if place is not None:
                raise Fallback(f"a new row of {delta.name} has the primary key of a row of another record")
        delta.rows[k], delta.owners[k] = row, owner


def check_keys(snap, deltas: dict[str, TableDelta]) -> None:
    """Primary keys were checked as rows were added; here: no row that stays as it was points to a row that
    goes, and the foreign keys of the new rows resolve in the new tables."""
    for name, delta in deltas.items():
        if delta.removed and name in REFERRERS:
            gone = removed_ids(snap, delta)
            for table, column in REFERRERS[name]:
                if rows_naming(snap, deltas.get(table), table, column, gone):
                    raise Fallback(f"a row of {table} left as it was names a removed row of {name} in {column}")
    for name, delta in deltas.items():
        added = delta.added
        if not added:
            continue
        fields = [f["name"] for f in table_schema(name)["fields"]]
        for foreign in table_schema(name).get("foreignKeys", []):
            position = fields.index(foreign["fields"][0])
            target = foreign["reference"]["resource"]
            for _, row in added:
                value = row[position]
                if value is None or value == "":
                    continue
                if not exists(snap, deltas.get(target), target, value_key(value).encode("utf-8")):
                    raise Fallback(f"{name}.{foreign['fields'][0]} {value!r} is not in {target}")


def removed_ids(snap, delta: TableDelta) -> list[str]:
    """The primary key values of the rows that go, read from the snapshot's file."""
    (column,) = table_schema(delta.name)["primaryKey"]
    position, content = field_names(delta.name).index(column), snap.file(f"data/{delta.name}.csv")
    lines = [content[start:start + length].decode("utf-8") for start, length in (delta.old[k] for k in delta.removed)]
    return sorted(cells[position] for cells in csv.reader(lines))


def rows_naming(snap, delta: TableDelta | None, table: str, column: str, ids) -> list[bytes]:
    """The rows (CSV lines) of the snapshot's table that hold one of ids in column, but for those of touched
    records (dropped, or rendered again: in the delta). The file is searched for each ID as a whole cell, and
    the rows found are parsed: exact, as every line of the file is one row (checked)."""
    content = snap.file(f"data/{table}.csv")
    if content.count(b"\n") != snap.rows(table) + 1:
        raise Fallback(f"a cell of {table} holds a line break")
    position, redone = field_names(table).index(column), {start for start, _ in (delta.old.values() if delta else ())}
    found = []
    for value in ids:
        if any(c in value for c in ',"\r\n'):
            raise Fallback(f"{value!r} would be quoted in a CSV cell")
        needle = value.encode("utf-8")
        at = content.find(needle, len(header(table)))
        while at >= 0:
            end = at + len(needle)
            if content[at - 1] in b",\n" and content[end] in b",\n":  # a whole cell (every line ends with LF)
                start = content.rfind(b"\n", 0, at) + 1
                line = content[start:content.index(b"\n", at) + 1]
                if start not in redone and next(csv.reader([line.decode("utf-8")]))[position] == value:
                    found.append(line)
                    redone.add(start)  # once, if it holds the ID twice
            at = content.find(needle, end)
    return found


def exists(snap, delta: TableDelta | None, table: str, k: bytes) -> bool:
    if delta is not None and k in delta.rows:
        return delta.rows[k] is not None
    return snap.db.execute(f"SELECT 1 FROM rows_{table} WHERE k = ?", (k,)).fetchone() is not None


def splice(old: bytes, snap, delta: TableDelta) -> bytes:
    """The new table: the old file with the rows of the delta dropped, replaced or put in by sort key."""
    lines = delta.lines
    view, pieces, at = memoryview(old), [], 0  # the first piece holds the header
    for k in sorted(delta.rows):
        if k in delta.old:
            start, length = delta.old[k]
            after = start + length
        else:
            found = snap.db.execute(f"SELECT start FROM rows_{delta.name} WHERE k > ? ORDER BY k LIMIT 1", (k,)).fetchone()
            start = after = len(old) if found is None else found[0]
        pieces.append(view[at:start])
        at = after
        if k in lines:
            pieces.append(lines[k])
    pieces.append(view[at:])
    return b"".join(pieces)


def validate_rows(deltas: dict[str, TableDelta], descriptor: bytes, state) -> None:
    """frictionless on the new rows of each table and on the new descriptor: a package of only those rows,
    with the Table Schemas without their keys (checked by check_keys against the whole tables), and of
    only the descriptor's new or changed sources (the Data Package profile checks each on its own)."""
    from .build import validate_package
    from .package import source_entry

    package = json.loads(descriptor)
    sources = deltas["sources"] if "sources" in deltas else TableDelta("sources")
    package["sources"] = [source_entry(state.sources[sources.owners[k]]) for k, _ in sources.added]
    resources = []
    for resource in package["resources"]:
        delta = deltas.get(resource["name"])
        if delta is not None and delta.added:
            resource["schema"] = {k: v for k, v in resource["schema"].items() if k not in ("primaryKey", "foreignKeys")}
            resources.append(resource)
    package["resources"] = resources
    with tempfile.TemporaryDirectory(prefix="dprk-rows-") as folder:
        root = Path(folder)
        (root / "data").mkdir()
        (root / "datapackage.json").write_text(dumps_canonical(package), encoding="utf-8")
        for resource in resources:
            delta = deltas[resource["name"]]
            (root / resource["path"]).write_bytes(header(delta.name) + b"".join(delta.lines[k] for k, _ in delta.added))
        _, problems = validate_package(root, processes=1)
    if problems:
        raise Fallback(f"new rows break the Table Schemas ({problems[0]})")


# -- what changed, as frames ---------------------------------------------------------------------------
class Changes:
    """The deltas as typed frames: the new rows of each table, and the snapshot's rows that they replace or
    drop (the old rows of touched records), each read once."""

    def __init__(self, snap, deltas: dict[str, TableDelta]):
        self.snap, self.deltas = snap, deltas
        self._new, self._old, self._facts = {}, {}, None

    def new(self, name: str) -> "pd.DataFrame":
        if name not in self._new:
            delta = self.deltas.get(name)
            self._new[name] = self.frame(name, [delta.lines[k] for k, _ in delta.added] if delta else [])
        return self._new[name]

    def old(self, name: str) -> "pd.DataFrame":
        if name not in self._old:
            delta = self.deltas.get(name)
            self._old[name] = self.rows(name, list(delta.old) if delta else [])
        return self._old[name]

    def owners_of_old(self, name: str) -> set[str]:
        delta = self.deltas.get(name)
        return {delta.owners[k] for k in delta.old} if delta else set()

    def rows(self, name: str, keys: list[bytes]) -> "pd.DataFrame":
        """Rows of a table of the snapshot's package, by sort key, typed (rows absent there are left out)."""
        content, lines = self.snap.file(f"data/{name}.csv"), []
        for k in keys:
            place = self.snap.db.execute(f"SELECT start, length FROM rows_{name} WHERE k = ?", (k,)).fetchone()
            if place:
                lines.append(content[place[0]:place[0] + place[1]])
        return self.frame(name, lines)

    @staticmethod
    def frame(name: str, lines: list[bytes]) -> "pd.DataFrame":
        """CSV lines of a table as a frame typed like load.frame types the table."""
        import io

        from .load import frame
        return frame(io.BytesIO(header(name) + b"".join(lines)), table_schema(name))

    def owned(self, name: str, owners) -> "pd.DataFrame":
        """Every row of a table that these records make in the new package: their new rows, and those of their
        old rows that did not change (settle left them out of the delta)."""
        import pandas as pd

        delta = self.deltas.get(name) or TableDelta(name)
        owners = set(owners)
        keys = [k for owner in sorted(owners) for (k,) in self.snap.db.execute(
            f"SELECT k FROM rows_{name} WHERE owner = ?", (owner,)) if k not in delta.rows]
        new = self.new(name)
        mine = [delta.owners[k] in owners for k, _ in delta.added]
        return pd.concat([new[pd.Series(mine, dtype=bool).values] if len(new) else new, self.rows(name, keys)],
                         ignore_index=True)

    def rows_of(self, name: str, ids) -> "pd.DataFrame":
        """Rows of a table of the snapshot's package by their (one-field) primary key values."""
        return self.rows(name, [value_key(v).encode("utf-8") for v in sorted(set(ids))])


def changed(before: "pd.DataFrame", after: "pd.DataFrame", key: str, column: str) -> set:
    """Keys of the rows in both frames whose value in column differs (two missing values are equal)."""
    both = before[[key, column]].merge(after[[key, column]], on=key, suffixes=("_before", "_after"))
    a, b = both[f"{column}_before"], both[f"{column}_after"]
    return set(both.loc[(a.isna() != b.isna()) | (a.notna() & b.notna() & (a != b)), key])


# -- layer 4 ----------------------------------------------------------------------------------------
def check_expectations(changes: Changes, today, worker) -> int:
    """The expectation suites on the new rows, their link rows joined with what they link, and the
    whole-table facts with the new rows' facts in place of the old (expectations.Facts), run by the worker
    (expectations.Worker)."""
    import pandas as pd

    snap, deltas, new = changes.snap, changes.deltas, changes.new
    if "changes" in deltas and deltas["changes"].removed:
        raise Fallback("rows of changes are removed")
    # The link rows to check: the new ones; the unchanged ones of statements whose date changed; and the unchanged
    # ones answering launches whose Korea date changed (found by key: a link's key starts with its launch's).
    redated = changed(changes.old("statements"), new("statements"), "statement_id", "date_latest")
    links = [new("launch_statements"), changes.owned("launch_statements", redated)]
    checked = deltas.get("launch_statements") or TableDelta("launch_statements")
    for launch_id in sorted(changed(changes.old("launches"), new("launches"), "launch_id", "korea_date")):
        prefix = (value_key(launch_id) + KEY_SEPARATOR).encode("utf-8")
        links.append(changes.rows("launch_statements", [k for (k,) in snap.db.execute(
            "SELECT k FROM rows_launch_statements WHERE k >= ? AND k < ?", (prefix, prefix[:-1] + b"\x02"))
            if k not in checked.rows]))
    # and those of statements answering sanctions actions whose date changed (found in the file: not by key)
    moved = changed(changes.old("sanctions"), new("sanctions"), "action_id", "date")
    answers = [new("statement_sanctions"), changes.owned("statement_sanctions", redated),
               changes.frame("statement_sanctions", rows_naming(snap, deltas.get("statement_sanctions"),
                                                                "statement_sanctions", "action_id", sorted(moved)))]
    new_t = {name: new(name) for name in TABLES}
    new_t["launch_statements"] = pd.concat(links, ignore_index=True).drop_duplicates(["launch_id", "statement_id"])
    new_t["statement_sanctions"] = pd.concat(answers, ignore_index=True).drop_duplicates(["statement_id", "action_id"])
    # what the link rows join with: the new rows, and the unchanged ones from the snapshot
    joined = {}
    for name, column, tables in (("statements", "statement_id", ("launch_statements", "statement_sanctions")),
                                 ("launches", "launch_id", ("launch_statements",)),
                                 ("sanctions", "action_id", ("statement_sanctions",))):
        pointed = set().union(*(set(new_t[table][column]) for table in tables)) - set(new(name)[column])
        joined[name] = pd.concat([new(name), changes.rows_of(name, pointed)], ignore_index=True)
    # a launch's firings rows are counted against it: all of them, changed or not
    new_t["firings"] = changes.owned("firings", new("launches")["launch_id"])

    count, problems = worker.run(new_t, today=today, facts=new_facts(changes), joined=joined)
    if problems:
        raise Fallback(f"an expectation fails ({problems[0]})")
    return count


def new_facts(changes: Changes):
    """The snapshot's facts, less those of touched records, plus the new rows' facts."""
    if changes._facts is None:
        changes._facts = _new_facts(changes)
    return changes._facts


def _new_facts(changes: Changes):
    import pandas as pd

    from .expectations import facts_of

    new = {name: changes.new(name) for name in TABLES}
    launches = new["launches"]["launch_id"]  # their facts come from all their rows, changed or not
    new["firings"], new["claims"] = changes.owned("firings", launches), changes.owned("claims", launches)
    claimants = set(new["claims"]["claimant_id"]) - set(new["actors"]["actor_id"])
    new["actors"] = pd.concat([new["actors"], changes.rows_of("actors", claimants)])
    existed = changes.owners_of_old("launches")
    added, old = facts_of(new, existed=existed), changes.snap.facts()

    def merged(name, key, record):
        kept = getattr(old, name)
        return pd.concat([kept[~kept[key].isin(changes.owners_of_old(record))], getattr(added, name)], ignore_index=True)
    return type(old)(merged("launches", "launch_id", "launches"), merged("sanctions", "action_id", "sanctions"),
                     merged("sources", "source_id", "sources"), merged("counts", "context_id", "context"))


# -- the descriptor ---------------------------------------------------------------------------------
def descriptor(snap, state) -> bytes:
    """datapackage.json of the new state: each source this run did not read, set or delete keeps its entry's
    text from the snapshot's descriptor (the entries are in the order of the sources' IDs)."""
    from .package import render_descriptor, source_text, source_texts

    sources = state.sources
    kept = source_texts(snap.file("datapackage.json").decode("utf-8"))
    stored = sorted(k for (k,) in snap.db.execute("SELECT k FROM state_sources"))
    if kept is None or len(kept) != len(stored):
        return render_descriptor(state)
    kept = dict(zip(stored, kept))
    touched = set(sources.touched)
    return render_descriptor(state, [kept[i] if i in kept and i not in touched else source_text(sources[i])
                                     for i in sorted(sources)])


# -- charts -----------------------------------------------------------------------------------------
def charts(changes: Changes, csvs: dict[str, bytes], helper=None) -> dict:
    """The snapshot's charts, each drawn again only when what it shows changed: the launches per year from the
    launches' facts (expectations.Facts), by the helper when given (its value then a helper.Job), the year
    2022 from the new tables."""
    from collections import Counter

    from .charts import draw_per_year, timeline_2022

    new, old = changes.new, changes.old

    def per_year(facts):
        dated = facts.dropna(subset=["korea_date"])
        return Counter(zip(dated["korea_date"].dt.year, dated["missile_class"].astype("string").fillna("Unknown"),
                           dated["missiles"]))

    def in_2022(launches, links, sanctions):
        year = launches[launches["korea_date"].dt.year == 2022]
        shown = Counter(zip(year["launch_id"], year["korea_date"], year["missile_class"].astype("string").fillna("")))
        shown.update(("link", x) for x in links["launch_id"])
        acted = sanctions[sanctions["date"].dt.year == 2022]
        shown.update(zip(acted["date"], acted["action"].astype("string"), acted["authority_id"]))
        return shown

    facts = new_facts(changes).launches
    drawn = {}
    path = "charts/launches-per-year.svg"
    if per_year(facts) == per_year(changes.snap.facts().launches):
        drawn[path] = changes.snap.file(path)
    else:
        drawn[path] = helper.submit(draw_per_year, facts) if helper else draw_per_year(facts)
    # a link row is shown only when its launch is of 2022: count the links of any launch of 2022, old or new
    path = "charts/timeline-2022.svg"
    if in_2022(old("launches"), links_of_2022(changes, old), old("sanctions")) \
            != in_2022(new("launches"), links_of_2022(changes, new), new("sanctions")):
        drawn[path] = timeline_2022(csvs)
    else:
        drawn[path] = changes.snap.file(path)
    return drawn


def summaries(changes: Changes, rows: dict[str, int]) -> dict:
    """The codebook's summary of each table: the snapshot's, with the new rows' values as examples where they
    come first; a table whose example row itself changed is summarised again from its new bytes (None)."""
    import csv

    stored, out = changes.snap.summaries(), {}
    for name in TABLES:
        count, examples = stored[name]
        delta = changes.deltas.get(name)
        if delta is None:
            out[name] = stored[name]
            continue
        if any(key in delta.rows for _, key in examples.values()):
            out[name] = None
            continue
        added = delta.added
        cells = list(csv.reader(delta.lines[k].decode("utf-8") for k, _ in added))
        updated = {}
        for i, column in enumerate(table_schema(name)["fields"]):
            first = next(((k, line[i]) for (k, _), line in zip(added, cells) if line[i]), None)
            given = examples.get(column["name"])
            if first and (given is None or first[0] < given[1]):
                updated[column["name"]] = (first[1], first[0])
            elif given:
                updated[column["name"]] = given
        out[name] = (rows[name], updated)
    return out


def links_of_2022(changes: Changes, rows) -> "pd.DataFrame":
    """The link rows (old or new) whose launch is dated 2022 in the new tables or in the snapshot's."""
    facts = changes.snap.facts().launches
    years = set(facts.loc[facts["korea_date"].dt.year == 2022, "launch_id"])
    for frame in (changes.new("launches"), changes.old("launches")):
        years |= set(frame.loc[frame["korea_date"].dt.year == 2022, "launch_id"])
    links = rows("launch_statements")
    return links[links["launch_id"].isin(years)]
