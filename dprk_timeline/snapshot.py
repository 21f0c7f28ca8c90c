"""Verified snapshots: a check of new changesets need not read the whole log, nor render and check every row.

A snapshot is saved by a run that read the whole log and passed layers 1 to 4. It holds, in one SQLite file:
- the replay engine after that log, every mapping of it a table of pickled values looked up by key, so that
  a later run loads only the records its new events touch (LazyMap), not the whole state;
- the package that passed layers 3 and 4 (every output file), and for each table the sort key, owner and
  place in the file of every row (incremental.py renders and checks only the rows of touched records);
- the records of other kinds that show more of a lookup than its ID (dependents), and the lookups that the
  state names anywhere (stored_names: retracting one named nowhere needs no scan of the stored state).
Its file name is its key, <code version>-<prefix hash>:
- code version: a hash of the package's Python files, schemas/ and requirements.txt, so any change to the
  code, a schema or a pinned library makes older snapshots unusable;
- prefix hash: a hash chain over the changesets it covers, in log order (name, SHA-256 of the file, recorded_at).
A run uses the snapshot covering the most changesets whose every file is still byte-identical, reads and
validates in full only the changesets after it, and replays them on top of it (build.py, incremental.py).
When a new changeset sorts before the end of the prefix, or no snapshot fits, the run takes the full path.
The SQLite file's SHA-256, written in its header, is checked on a second thread while the run goes on
(Snapshot.intact).

Snapshots are a local cache (pickle inside): keep the folder private to the checkout or to CI runs of main.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import sqlite3
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .log import Changeset
from .paths import ROOT
from .tables import lookup_dependents

KEEP = 3  # snapshots kept per folder, newest first
FORMAT = 2


@lru_cache(maxsize=None)
def code_version(root: Path = ROOT) -> str:
    """A hash of the code and schemas, taken once: the code that runs, even if files change meanwhile."""
    digest = hashlib.sha256()
    paths = sorted((root / "dprk_timeline").rglob("*.py")) + sorted((root / "schemas").rglob("*.json"))
    for path in paths + [root / "requirements.txt"]:
        if path.exists():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prefix_hash(covered: list[tuple[str, str, str]]) -> str:
    """Hash chain over (name, file hash, recorded_at) in log order."""
    chain = ""
    for name, digest, recorded_at in covered:
        chain = hashlib.sha256(f"{chain}|{name}|{digest}|{recorded_at}".encode()).hexdigest()
    return chain[:32]


# -- values: pickled one by one; an event's changeset is written as its name ---------------------------
class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.name if type(obj) is Changeset else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, changesets: dict[str, Changeset]):
        super().__init__(file)
        self.changesets = changesets

    def persistent_load(self, name):
        return self.changesets[name]


class _Dumper:
    def __init__(self):
        self.buffer = io.BytesIO()
        self.pickler = _Pickler(self.buffer, protocol=pickle.HIGHEST_PROTOCOL)

    def __call__(self, value) -> bytes:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.pickler.clear_memo()  # each value stands alone
        self.pickler.dump(value)
        return self.buffer.getvalue()


# The engine's mappings kept as tables: name -> (where it lives, how its keys are written as text)
def _link_key(key: tuple[str, str]) -> str:
    return f"{key[0]}\0{key[1]}"


def _link_of(text: str) -> tuple[str, str]:
    name, _, value = text.partition("\0")
    return name, value


STATE_MAPS = ["sources", "actors", "sites", "missile_types", "launches", "claims", "statements", "sanctions",
              "parties", "context", "retired"]
ENGINE_MAPS = {"claims_of": (str, str), "linked_from": (_link_key, _link_of)}
# claims_of holds each launch's claims, stored as their IDs (the claims are in state_claims) and read back
# from the state's claims, so that a claim read either way is one object
CLAIM_LISTS = "claims_of"


class LazyMap(MutableMapping):
    """A dict of the snapshot's engine, read from its table key by key. What a run sets or deletes stays in
    memory; every key read, set or deleted is noted in `touched`. Iterating reads the whole table."""

    def __init__(self, db: sqlite3.Connection, table: str, loads, encode=str, decode=str):
        self._db, self._table, self._loads, self._encode, self._decode = db, table, loads, encode, decode
        self._values: dict = {}     # read, set or changed in this run
        self._gone: set = set()     # deleted in this run
        self._new: dict = {}        # keys added in this run that the table does not hold (insertion order)
        self.touched: set = set()

    def _stored(self, key) -> bytes | None:
        row = self._db.execute(f"SELECT v FROM {self._table} WHERE k = ?", (self._encode(key),)).fetchone()
        return None if row is None else row[0]

    def __getitem__(self, key):
        self.touched.add(key)
        try:
            return self._values[key]
        except KeyError:
            pass
        if key in self._gone or key in self._new:
            raise KeyError(key)
        raw = self._stored(key)
        if raw is None:
            raise KeyError(key)
        value = self._values[key] = self._loads(raw)
        return value

    def __contains__(self, key) -> bool:
        if key in self._values:
            return True
        if key in self._gone or key in self._new:
            return False
        return self._db.execute(f"SELECT 1 FROM {self._table} WHERE k = ?", (self._encode(key),)).fetchone() is not None

    def __setitem__(self, key, value) -> None:
        if key not in self:
            self._new[key] = None  # a dict puts a new (or deleted and added again) key last
        self._values[key] = value
        self._gone.discard(key)
        self.touched.add(key)

    def __delitem__(self, key) -> None:
        if key not in self:
            raise KeyError(key)
        self._values.pop(key, None)
        self._new.pop(key, None)
        self._gone.add(key)
        self.touched.add(key)

    def __iter__(self):
        for (text,) in self._db.execute(f"SELECT k FROM {self._table} ORDER BY seq"):
            key = self._decode(text)
            if key not in self._gone and key not in self._new:
                yield key
        yield from list(self._new)

    def items(self):
        """Every (key, value) in the dict's order, read in one pass (a pass is not a touch: the values read
        are kept, and a later self[key] notes it)."""
        for text, raw in self._db.execute(f"SELECT k, v FROM {self._table} ORDER BY seq"):
            key = self._decode(text)
            if key in self._gone or key in self._new:
                continue
            if key not in self._values:
                self._values[key] = self._loads(raw)
            yield key, self._values[key]
        for key in list(self._new):
            yield key, self._values[key]

    def values(self):
        return (value for _, value in self.items())

    def loaded_items(self) -> list:
        """(key, value) of what this run read, set or changed and did not delete: all that may differ from the
        table (a value is changed in place only once read)."""
        return list(self._values.items())

    def __len__(self) -> int:
        return sum(1 for _ in self)


class LazyList:
    """The append-only list of changes: those of the snapshot in its table, the new ones in `new`."""

    def __init__(self, db: sqlite3.Connection, table: str, loads):
        self._db, self._table, self._loads = db, table, loads
        self.new: list = []

    def append(self, item) -> None:
        self.new.append(item)

    def __iter__(self):
        for (raw,) in self._db.execute(f"SELECT v FROM {self._table} ORDER BY seq"):
            yield self._loads(raw)
        yield from self.new

    def __len__(self) -> int:
        return self._db.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()[0] + len(self.new)


# -- the snapshot ------------------------------------------------------------------------------------
@dataclass
class Snapshot:
    covered: list[tuple[str, str, str]]   # (changeset name, SHA-256 of its file, recorded_at), in log order
    path: Path                             # the SQLite file
    events: int
    payload_sha256: str
    db: sqlite3.Connection | None = None
    engine: object = None                  # replay.Replay over LazyMaps, after the covered changesets
    _hashed: dict = field(default_factory=dict)   # the payload's hash, from a second thread
    _read: dict = field(default_factory=dict)     # what was read of the payload, read once

    @property
    def names(self) -> set[str]:
        return {name for name, _, _ in self.covered}

    @property
    def last(self) -> tuple[str, str]:
        """Log-order key of the last covered changeset: new changesets must sort after it."""
        name, _, recorded_at = self.covered[-1]
        return recorded_at, name

    def intact(self) -> bool:
        """Is the SQLite file the one that was verified? (waits for the hash begun when it was opened)"""
        self._hashed["thread"].join()
        return self._hashed.get("digest") == self.payload_sha256

    def file(self, relative: str) -> bytes:
        """An output file of the verified package."""
        if relative not in self._read:
            self._read[relative] = self.db.execute("SELECT content FROM files WHERE path = ?", (relative,)).fetchone()[0]
        return self._read[relative]

    def let_go_of_tables(self) -> None:
        """Forget the tables read: once the new ones are made and checked, the old ones of those that changed
        are needed no more (hundreds of MB at 10^6 events)."""
        for relative in [relative for relative in self._read if relative.startswith("data/")]:
            del self._read[relative]

    def facts(self):
        """expectations.Facts of the verified package's tables."""
        if "facts" not in self._read:
            self._read["facts"] = pickle.loads(self.db.execute("SELECT value FROM meta WHERE key = 'facts'").fetchone()[0])
        return self._read["facts"]

    def summaries(self) -> dict:
        """The codebook's summary of each table: rows, and each column's example with the sort key of its row."""
        return pickle.loads(self.db.execute("SELECT value FROM meta WHERE key = 'summaries'").fetchone()[0])

    def rows(self, table: str) -> int:
        """Rows of a table of the verified package."""
        return self.db.execute("SELECT rows FROM counts WHERE name = ?", (table,)).fetchone()[0]


def _hash_in_background(path: Path, into: dict) -> None:
    def work():
        try:
            with path.open("rb") as file:  # hashlib lets go of the GIL on large chunks: this runs on another core
                into["digest"] = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError:
            into["digest"] = None
    into["thread"] = threading.Thread(target=work, daemon=True)
    into["thread"].start()


def find(folder: Path | None, events_dir: Path) -> Snapshot | None:
    """The usable snapshot covering the most changesets (not opened yet: open_snapshot), or None."""
    if folder is None or not folder.is_dir():
        return None
    version = code_version()
    on_disk = {p.stem: p for p in events_dir.glob("*.json")} if events_dir.is_dir() else {}
    hashes: dict[str, str] = {}
    best = None
    for header_path in folder.glob(f"{version}-*.json"):
        try:
            header = json.loads(header_path.read_text(encoding="utf-8"))
            covered = [tuple(entry) for entry in header["covered"]]
            if header["format"] != FORMAT:
                continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if header_path.stem != f"{version}-{prefix_hash(covered)}" or (best and len(covered) <= len(best[0])):
            continue
        for name, digest, _ in covered:
            if name not in on_disk:
                break
            if name not in hashes:
                hashes[name] = file_hash(on_disk[name])
            if hashes[name] != digest:
                break
        else:
            best = (covered, header_path, header)
    if best is None:
        return None
    covered, header_path, header = best
    path = header_path.with_suffix(".sqlite")
    try:
        if path.stat().st_size != header["payload_bytes"]:
            return None  # truncated or replaced: not the snapshot that was verified
    except OSError:
        return None
    return Snapshot(covered, path, header["events"], header["payload_sha256"])


def open_snapshot(snap: Snapshot) -> Snapshot | None:
    """Open a snapshot that find() chose: its engine, read lazily; its file hashed on a second thread."""
    try:
        _hash_in_background(snap.path, snap._hashed)
        snap.db = sqlite3.connect(f"{snap.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        snap.engine = engine_of(snap)
    except (OSError, sqlite3.DatabaseError, KeyError, pickle.UnpicklingError, EOFError, TypeError):
        return None
    return snap


def engine_of(snap: Snapshot):
    """The replay engine of an open snapshot, as saved: its mappings read lazily from the tables."""
    from .replay import Replay, State

    db = snap.db
    changesets = {name: pickle.loads(raw) for name, raw in db.execute("SELECT name, value FROM changesets")}

    def loads(raw: bytes):
        return _Unpickler(io.BytesIO(raw), changesets).load()

    meta = {key: pickle.loads(raw) for key, raw in db.execute(
        "SELECT key, value FROM meta WHERE key IN ('order', 'hidden', 'last_recorded_at')")}
    engine = Replay()
    engine.order, engine.hidden = meta["order"], meta["hidden"]
    engine.state = State(**{name: LazyMap(db, f"state_{name}", loads) for name in STATE_MAPS},
                         changes=LazyList(db, "state_changes", loads), last_recorded_at=meta["last_recorded_at"])

    def claims_of(raw: bytes) -> list:
        return [engine.state.claims[claim_id] for claim_id in loads(raw)]
    for name, (encode, decode) in ENGINE_MAPS.items():
        setattr(engine, name, LazyMap(db, f"engine_{name}", claims_of if name == CLAIM_LISTS else loads, encode, decode))
    engine.stored_names = _StoredNames(db)
    return engine


class _StoredNames:
    """The lookups that the snapshot's state names ("kind:ID"), looked up one at a time."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __contains__(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM stored_names WHERE name = ?", (name,)).fetchone() is not None


def save(folder: Path, events_dir: Path, changesets: list, engine, events: int, files: Mapping[str, bytes],
         tables: dict, facts, summaries: dict) -> Path:
    """Write the snapshot of the engine that replayed these changesets (the whole log, in log order) and of
    the package rendered from it (files; tables: tables.Table objects with the keys, owners and lengths of
    every row; facts: expectations.Facts of the whole tables; summaries: codebook.summarise of each table),
    then prune old snapshots."""
    return begin(folder, events_dir, changesets, engine, events, files, tables, summaries).commit(facts)


@dataclass
class Pending:
    """A snapshot written but for the facts of layer 4, in a temporary file that no run uses: commit makes it
    a snapshot once layers 3 and 4 passed; discard removes it."""
    folder: Path
    key: str
    temporary: Path
    covered: list
    events: int

    def commit(self, facts) -> Path:
        db = _writing(self.temporary)
        with db:
            db.execute("INSERT INTO meta VALUES (?, ?)", ("facts", pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL)))
        db.close()
        with self.temporary.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256")
        size = self.temporary.stat().st_size
        folder, key = self.folder, self.key
        os.replace(self.temporary, folder / f"{key}.sqlite")
        header = {"format": FORMAT, "covered": self.covered, "events": self.events,
                  "payload_sha256": digest.hexdigest(), "payload_bytes": size}
        temporary = folder / f".{key}.json.{os.getpid()}"
        temporary.write_text(json.dumps(header), encoding="utf-8")
        os.replace(temporary, folder / f"{key}.json")  # the header last: a snapshot is whole or absent
        headers = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in headers[KEEP:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".sqlite").unlink(missing_ok=True)
            old.with_suffix(".pickle").unlink(missing_ok=True)  # the format before this one
        return folder / f"{key}.json"

    def discard(self) -> None:
        self.temporary.unlink(missing_ok=True)


def begin(folder: Path, events_dir: Path, changesets: list, engine, events: int, files: Mapping[str, bytes],
          tables: dict, summaries: dict) -> Pending:
    """save but for the facts, which layer 4 finds: the main job writes the rest while it holds the replayed
    state, and lets go of the state before layers 3 and 4 run."""
    covered = [(c.name, file_hash(events_dir / f"{c.name}.json"), c.recorded_at) for c in changesets]
    key = f"{code_version()}-{prefix_hash(covered)}"
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{key}.sqlite.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    db = _writing(temporary)
    with db:
        _write_engine(db, engine, changesets)
        _write_dependents(db, engine.state)
        db.execute("CREATE TABLE stored_names (name TEXT PRIMARY KEY) WITHOUT ROWID")
        db.executemany("INSERT OR IGNORE INTO stored_names VALUES (?)", ((name,) for name, _ in engine.mentions()))
        _write_package(db, files, tables)
        # each example of the codebook with the sort key of its row, for a later run to tell whether new rows
        # come before it
        keyed = {name: (count, {column: (value, tables[name].keys[row])
                                for column, (value, row) in examples.items()})
                 for name, (count, examples) in summaries.items()}
        db.execute("INSERT INTO meta VALUES (?, ?)", ("summaries", pickle.dumps(keyed)))
    db.close()
    return Pending(folder, key, temporary, covered, events)


def _writing(path: Path) -> sqlite3.Connection:
    """The snapshot file being written, without a journal: a file that is not whole is never used (no header)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    return db


def _write_engine(db: sqlite3.Connection, engine, changesets: list) -> None:
    dumps = _Dumper()
    db.execute("CREATE TABLE changesets (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
    db.executemany("INSERT INTO changesets VALUES (?, ?)", (
        (c.name, pickle.dumps(Changeset(c.name, c.file, {k: v for k, v in c.body.items() if k != "events"}),
                              protocol=pickle.HIGHEST_PROTOCOL)) for c in changesets))
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
    meta = {"order": engine.order, "hidden": engine.hidden, "last_recorded_at": engine.state.last_recorded_at}
    db.executemany("INSERT INTO meta VALUES (?, ?)", ((k, pickle.dumps(v)) for k, v in meta.items()))
    maps = {f"engine_{name}": (getattr(engine, name), encode) for name, (encode, _) in ENGINE_MAPS.items()}
    maps.update({f"state_{name}": (getattr(engine.state, name), str) for name in STATE_MAPS})
    for table, (mapping, encode) in maps.items():
        # seq keeps the dict's order (iteration, and so messages, follow it)
        db.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, v BLOB NOT NULL)")
        value = (lambda claims: dumps([claim.id for claim in claims])) if table == f"engine_{CLAIM_LISTS}" else dumps
        db.executemany(f"INSERT INTO {table} (k, v) VALUES (?, ?)", ((encode(k), value(v)) for k, v in mapping.items()))
    db.execute("CREATE TABLE state_changes (seq INTEGER PRIMARY KEY, v BLOB NOT NULL)")
    db.executemany("INSERT INTO state_changes (v) VALUES (?)", ((dumps(c),) for c in engine.state.changes))


def _write_dependents(db: sqlite3.Connection, state) -> None:
    db.execute("CREATE TABLE dependents (lookup TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL, "
               "PRIMARY KEY (lookup, kind, owner)) WITHOUT ROWID")
    db.executemany("INSERT OR IGNORE INTO dependents VALUES (?, ?, ?)", lookup_dependents(state))


def _write_package(db: sqlite3.Connection, files: Mapping[str, bytes], tables: dict) -> None:
    db.execute("CREATE TABLE files (path TEXT PRIMARY KEY, content BLOB NOT NULL)")
    db.executemany("INSERT INTO files VALUES (?, ?)", ((path, files[path]) for path in sorted(files)))  # one at a time
    db.execute("CREATE TABLE counts (name TEXT PRIMARY KEY, rows INTEGER NOT NULL)")
    db.executemany("INSERT INTO counts VALUES (?, ?)", ((name, table.rows) for name, table in tables.items()))
    for name, table in tables.items():
        # a row's place: its first byte in the file and its length in bytes
        db.execute(f"CREATE TABLE rows_{name} (k BLOB PRIMARY KEY, owner TEXT NOT NULL, start INTEGER NOT NULL, "
                   "length INTEGER NOT NULL) WITHOUT ROWID")
        db.executemany(f"INSERT INTO rows_{name} VALUES (?, ?, ?, ?)", table.places())
        db.execute(f"CREATE INDEX rows_{name}_owner ON rows_{name} (owner)")
