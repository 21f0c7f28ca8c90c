"""Bringing the log up to the upstreams: download each one's current files from the addresses in
upstreams.toml (or read them from a folder), check that they are what they claim to be, keep them with
their retrieval time, address and hash in a local cache (never in the repository), run the upstream's
importer, and append a changeset only when something changed.

Every upstream is fetched and checked before anything is written: an unreachable, empty, truncated,
shrunken or reformatted upstream stops the run with one line and leaves events/ as it was. The cache
holds one folder per retrieval (<cache>/<upstream>/<UTC time>/) with retrieval.json beside the files.
"""
from __future__ import annotations

import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import time
import tomllib
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path

from .importers import IMPORTERS
from .importers.ofac import COLUMNS, listed_in_log
from .paths import ROOT

CONFIG = ROOT / "upstreams.toml"
USER_AGENT = "dprk-timeline-updater/1 (open dataset; scheduled check of public lists)"
TIMEOUT, RETRIES, PAUSE = 60, 3, 5.0   # seconds per try, tries, seconds between tries
SHRINK = 0.8                           # fewer rows than this share of what the log holds: refused
NORTH_KOREA = re.compile(r"DPRK|Korea, North|North Korea", re.I)  # the OFAC rows kept (as the upstream snapshots)


class UpdateError(RuntimeError):
    """An upstream cannot be brought in: one line, naming the upstream and the reason."""


@dataclass
class Retrieval:
    name: str
    folder: Path                 # the cache folder of this retrieval
    files: dict[str, bytes]
    retrieved_at: str            # UTC, to the second
    rows: int = 0
    options: dict = field(default_factory=dict)   # what the importer needs beside the files (CNS: commit, date)


def default_cache() -> Path:
    base = os.environ.get("DPRK_TIMELINE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dprk-timeline"
    return Path(base) / "upstream"


def load_config(path: Path = CONFIG) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise UpdateError(f"{path}: cannot read the upstream addresses ({err})") from None


def download(name: str, url: str, types: list[str]) -> bytes:
    """The body at url, after up to RETRIES tries; its content type must be one of types."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    problem = ""
    for attempt in range(RETRIES):
        if attempt:
            time.sleep(PAUSE)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                kind = response.headers.get_content_type()
                if types and kind not in types:
                    raise UpdateError(f"{name}: {url} sent {kind}, not one of {', '.join(types)}; nothing was written")
                return response.read()
        except urllib.error.HTTPError as err:
            problem = f"HTTP {err.code}"
            if err.code < 500:
                break  # a missing or refused file does not come back on a retry
        except (urllib.error.URLError, OSError) as err:
            problem = str(getattr(err, "reason", err))
    raise UpdateError(f"{name}: cannot download {url}: {problem} (after {attempt + 1} tries); nothing was written")


def count_rows(name: str, importer: str, files: dict[str, bytes]) -> int:
    """The North Korea rows of an upstream's files, which must parse whole."""
    try:
        if importer == "un":
            root = ET.fromstring(files["consolidated.xml"])
            if root.tag != "CONSOLIDATED_LIST":
                raise ValueError(f"expected a CONSOLIDATED_LIST document, found {root.tag}")
            return sum((e.findtext("UN_LIST_TYPE") or "").strip() == "DPRK" for e in root.iter()
                       if e.tag in ("INDIVIDUAL", "ENTITY"))
        if importer == "ofac":
            text = files["sdn.csv"].decode("utf-8")
            rows = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r and r != ["\x1a"]]
            bad = next((n for n, r in enumerate(rows, 1) if len(r) != len(COLUMNS) or not r[0].strip().isdigit()), None)
            if bad:
                raise ValueError(f"line {bad} is not {len(COLUMNS)} columns starting with an entry number")
            return sum(bool(NORTH_KOREA.search(",".join(r))) for r in rows)
        for file_name, content in files.items():
            json.loads(content)
        return sum(len(b.get("data", [])) for b in json.loads(files["test.en.json"])["timeBins"])
    except (ValueError, KeyError, TypeError, ET.ParseError, csv.Error) as err:
        raise UpdateError(f"{name}: the download is not a whole {importer} file ({err}); nothing was written") from None


def held_rows(importer: str, state) -> int:
    """How many rows of this upstream the log holds, to tell a shrunken download."""
    if importer == "un":
        return sum(bool(p.get("un_reference")) for p in state.of("party").values())
    if importer == "ofac":
        return len(listed_in_log(state))
    return len({c.source_record for c in state.claims.values() if c.claimant == "cns" and c.source_record})


def fetch(name: str, spec: dict, source: Path | None) -> tuple[dict[str, bytes], dict]:
    """An upstream's files (downloaded, or read from the folder source) and its importer's options."""
    def get(file_name: str, url: str) -> bytes:
        if source is None:
            return download(name, url, spec.get("types", []) if file_name in spec["files"] else ["application/json"])
        try:
            return (source / file_name).read_bytes()
        except OSError as err:
            raise UpdateError(f"{name}: cannot read {source / file_name} ({err.strerror}); nothing was written") from None

    options = {}
    if "commit" in spec:  # the upstream is a repository: its newest data commit picks the files
        try:
            newest = json.loads(get("commits.json", spec["commit"]))[0]
            options = {"commit": newest["sha"], "published": newest["commit"]["committer"]["date"][:10]}
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise UpdateError(f"{name}: the commit list is not GitHub's ({err}); nothing was written") from None
    files = {file_name: get(file_name, url.format(commit=options.get("commit", ""))) for file_name, url in spec["files"].items()}
    return files, options


def keep(cache: Path, retrieval: Retrieval, spec: dict) -> None:
    """Store the files with their retrieval time, addresses and hashes; OFAC's North Korea rows also as the
    importer reads them (sdn_<copy time>.csv)."""
    folder = retrieval.folder
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, content in retrieval.files.items():
        (folder / file_name).write_bytes(content)
    if spec["importer"] == "ofac":
        lines = [line for line in retrieval.files["sdn.csv"].decode("utf-8").splitlines(keepends=True)
                 if NORTH_KOREA.search(line)]
        stamp = dt.datetime.strptime(retrieval.retrieved_at, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%dT%H%MZ")
        (folder / "dprk").mkdir(exist_ok=True)
        (folder / "dprk" / f"sdn_{stamp}.csv").write_text("".join(lines), encoding="utf-8")
    about = {"upstream": retrieval.name, "retrieved_at": retrieval.retrieved_at, "rows": retrieval.rows,
             "options": retrieval.options,
             "files": {n: {"address": spec["files"].get(n, ""), "sha256": hashlib.sha256(c).hexdigest(), "bytes": len(c)}
                       for n, c in retrieval.files.items()}}
    (folder / "retrieval.json").write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")


def importer_input(retrieval: Retrieval, importer: str) -> tuple[Path, Namespace]:
    """The path and options the upstream's importer takes (OFAC's copy time is its file's name)."""
    if importer == "un":
        return retrieval.folder / "consolidated.xml", Namespace(retrieved_at=retrieval.retrieved_at)
    if importer == "ofac":
        return retrieval.folder / "dprk", Namespace()
    return retrieval.folder, Namespace(retrieved_at=retrieval.retrieved_at, **retrieval.options)


def format_changes(report: list[str]) -> list[str]:
    """Report lines that say the upstream holds something its importer does not know (a changed format), as
    against fields it leaves out on purpose ("not imported")."""
    return [line for line in report if "not imported" not in line or "not handled" in line]


def lock(cache: Path):
    """Hold the cache's lock for this run (released when the process ends, even killed); a second run at once
    is refused."""
    cache.mkdir(parents=True, exist_ok=True)
    handle = open(cache / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UpdateError(f"another update is running (it holds {cache / '.lock'}); nothing was written") from None
    return handle


def retrieve_all(specs: dict, names: list[str], state, source: Path | None, cache: Path, retrieved_at: str,
                 accept_shrink: bool) -> list[Retrieval]:
    """Every upstream fetched and checked, before anything is written."""
    stamp = retrieved_at.replace(":", "").replace("-", "")[:13] + "Z"
    retrievals = []
    for name in names:
        spec = specs[name]
        files, options = fetch(name, spec, source / name if source else None)
        rows = count_rows(name, spec["importer"], files)
        if rows < spec.get("min_rows", 1):
            raise UpdateError(f"{name}: the download holds {rows} North Korea rows, fewer than the {spec['min_rows']} of "
                              "a whole list: refused as truncated or wrong; nothing was written")
        held = held_rows(spec["importer"], state)
        if held and rows < SHRINK * held and not accept_shrink:
            raise UpdateError(f"{name}: the download holds {rows} rows where the log holds {held}: refused as much "
                              "smaller (give --accept-shrink if the upstream really shrank); nothing was written")
        retrievals.append(Retrieval(name, cache / name / stamp, files, retrieved_at, rows, options))
    return retrievals


def update(root: Path, names: list[str] | None = None, source: Path | None = None, cache: Path | None = None,
           config: Path = CONFIG, retrieved_at: str | None = None, accept_shrink: bool = False,
           author: str = "dprk-timeline updater") -> list[str]:
    """Bring the log at root up to the upstreams; one summary line per upstream. Raises UpdateError (or the
    importers' and checks' errors) with events/ as it was."""
    from .importers.common import UpstreamError
    from .importing import append_changeset, current_state
    from .log import display_path

    specs = load_config(config)
    names = names or list(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise UpdateError(f"{config.name}: no upstream {unknown[0]!r} (known: {', '.join(specs)})")
    cache = Path(cache or default_cache())
    retrieved_at = retrieved_at or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    held_lock = lock(cache)
    written, lines = [], []
    try:
        state, changesets = current_state(root)
        for retrieval in retrieve_all(specs, names, state, source, cache, retrieved_at, accept_shrink):
            spec = specs[retrieval.name]
            keep(cache, retrieval, spec)
            path, options = importer_input(retrieval, spec["importer"])
            try:
                plan = IMPORTERS[spec["importer"]].plan(path, state, options)
            except UpstreamError as err:
                raise UpdateError(f"{retrieval.name}: {err}; nothing was written") from None
            changed = format_changes(plan.report)
            if changed:
                raise UpdateError(f"{retrieval.name}: the upstream's format changed ({changed[0]}"
                                  + (f"; and {len(changed) - 1} more" if len(changed) > 1 else "")
                                  + "): update its importer first; nothing was written")
            if not plan.events:
                lines.append(f"{retrieval.name}: nothing new ({retrieval.rows} North Korea rows, retrieved {retrieved_at})")
                continue
            written.append(append_changeset(root, plan, author, changesets))
            state, changesets = current_state(root)
            lines.append(f"{retrieval.name}: {plan.summary} -> {display_path(written[-1], Path(root))}")
    except BaseException:
        for path in written:  # all or nothing
            path.unlink(missing_ok=True)
        raise
    finally:
        held_lock.close()
    return lines
