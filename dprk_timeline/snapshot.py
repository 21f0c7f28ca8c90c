"""Verified snapshots of the replayed state: a check of new changesets need not re-read the whole log.

A snapshot is the replay engine after a prefix of the log, saved by a run that read that whole prefix and
found no problem in layers 1 (event files) and 2 (log integrity), the only layers the replayed state
depends on.
Its file name is its key, <code version>-<prefix hash>:
- code version: a hash of the package's Python files, schemas/ and requirements.txt, so any change to the
  code, a schema or a pinned library makes older snapshots unusable;
- prefix hash: a hash chain over the changesets it covers, in log order (name and SHA-256 of the bytes).
A run uses the snapshot covering the most changesets whose every file is still byte-identical, reads and
validates in full only the changesets after it, and replays them on top of it. Layers 3 to 5 always run
on the whole resulting package. When a new changeset sorts before the end of the prefix, or no snapshot
fits, the run takes the full path.

Snapshots are a local cache (pickle): keep the folder private to the checkout or to CI runs of main.
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from .paths import ROOT

KEEP = 3  # snapshots kept per folder, newest first


def code_version(root: Path = ROOT) -> str:
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


@dataclass
class Snapshot:
    covered: list[tuple[str, str, str]]   # (changeset name, SHA-256 of its file, recorded_at), in log order
    engine: object                         # replay.Replay after the covered changesets
    events: int

    @property
    def names(self) -> set[str]:
        return {name for name, _, _ in self.covered}

    @property
    def last(self) -> tuple[str, str]:
        """Log-order key of the last covered changeset: new changesets must sort after it."""
        name, _, recorded_at = self.covered[-1]
        return recorded_at, name


def find(folder: Path | None, events_dir: Path) -> Snapshot | None:
    """The usable snapshot covering the most changesets, or None."""
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
    payload_path = header_path.with_suffix(".pickle")
    try:
        payload = payload_path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        return None  # truncated or replaced: not the snapshot that was verified
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none garbage: collecting while loading triples the time
    try:
        engine = pickle.loads(payload)
    finally:
        if collecting:
            gc.enable()
    return Snapshot(covered, engine, header["events"])


class _HashingWriter:
    def __init__(self, file):
        self.file, self.digest = file, hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.file.write(data)


def save(folder: Path, events_dir: Path, changesets: list, engine, events: int) -> Path:
    """Write the snapshot of the engine that replayed these changesets (the whole log, in log order), then
    prune old snapshots."""
    covered = [(c.name, file_hash(events_dir / f"{c.name}.json"), c.recorded_at) for c in changesets]
    key = f"{code_version()}-{prefix_hash(covered)}"
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{key}.pickle.{os.getpid()}"
    with temporary.open("wb") as file:
        out = _HashingWriter(file)  # streamed: the pickle of a large log is hundreds of MiB
        pickle.dump(engine, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, folder / f"{key}.pickle")
    header = {"covered": covered, "events": events, "payload_sha256": out.digest.hexdigest()}
    temporary = folder / f".{key}.json.{os.getpid()}"
    temporary.write_text(json.dumps(header), encoding="utf-8")
    os.replace(temporary, folder / f"{key}.json")  # the header last: a snapshot is whole or absent
    headers = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in headers[KEEP:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".pickle").unlink(missing_ok=True)
    return folder / f"{key}.json"
