"""The build: read the log, check it, replay it, render the package, check it, in this order:

1. event files   JSON parses; JSON Schema (with formats) per changeset and per event
2. log integrity references resolve, IDs are unique, corrections target what exists, dates are possible,
                 merged changesets are unchanged (with --base REV)
3. tables        frictionless validates the rendered package (types, constraints, keys, foreign keys)
4. expectations  Great Expectations suites (checks/expectations.py)
5. drift         data/, charts/, datapackage.json, CODEBOOK.md and the README's "data through" lines
                 equal a fresh rebuild

The package is rendered into a staging folder beside the target and moved into place only when layers 1
to 4 passed (outputs.py: all at once, even if the build is killed), so a failed build leaves data/ exactly
as it was. Every run takes this one path.
"""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import log
from .checks.append_only import append_only
from .checks.drift import drift
from .checks.schema import check_changeset
from .checks.tables import validate_package
from .outputs import OutputError, committed, recover, staging_folder, swap_in, write_files
from .problems import CheckFailed, Problem
from .render.package import render_package
from .render.tables import row_count
from .replay.engine import replay
from .replay.state import State

LAYERS = ["event files", "log integrity", "tables", "expectations", "drift"]
CLOCK_SKEW = dt.timedelta(minutes=10)


@dataclass
class Result:
    layers: list[tuple[str, str, str]] = field(default_factory=list)   # (layer, ok or skipped, what was checked)
    notes: list[str] = field(default_factory=list)                     # what was done to an earlier build's leftovers
    rows: dict[str, int] = field(default_factory=dict)                 # table -> rows
    changesets: int = 0
    events: int = 0


def utc_now() -> str:
    return (dt.datetime.now(dt.timezone.utc) + CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_log(root: Path) -> tuple[list[log.Changeset], list[Problem]]:
    """Layer 1: every changeset of root/events, parsed strictly and schema-checked, in log order (only the
    valid ones), and the problems of the others."""
    paths, problems = log.changeset_paths(root)
    changesets = []
    for path in paths:
        changeset, found = log.read_changeset(path, root)
        problems += found
        if changeset is None:
            continue
        found = check_changeset(changeset)
        problems += found
        if not found:
            log.attach_events(changeset)
            changesets.append(changeset)
    return log.in_log_order(changesets), problems


def replayed(root: Path, as_of: str | None = None, reported_by: str | None = None,
             base: str | None = None) -> tuple[State, Result]:
    """Layers 1 and 2: the state the log (recorded by as_of, as reported by reported_by) replays into.
    Raises CheckFailed at the first layer with problems."""
    result = Result()
    changesets, problems = read_log(root)
    if problems:
        raise CheckFailed(LAYERS[0], problems)
    if not changesets:
        raise CheckFailed(LAYERS[0], [Problem("json", "events/", "the log is empty: no changeset to build from")])
    if as_of:
        first = changesets[0].recorded_at
        changesets = [c for c in changesets if c.recorded_at <= as_of]
        if not changesets:
            raise CheckFailed(LAYERS[0], [Problem("json", "events/", f"no changeset was recorded by --as-of {as_of} "
                                                                     f"(the first was recorded at {first})")])
    result.changesets, result.events = len(changesets), sum(len(c.events) for c in changesets)
    result.layers.append((LAYERS[0], "ok", f"{result.changesets} changesets, {result.events} events"))
    state, problems = replay(changesets, reported_by=reported_by, now=utc_now())
    if base:
        problems += append_only(root, base, changesets)
    if problems:
        raise CheckFailed(LAYERS[1], problems)
    result.layers.append((LAYERS[1], "ok", "references, IDs, corrections, dates"
                                           + (f", append-only since {base}" if base else "")))
    return state, result


def check_package(folder: Path, result: Result, today: dt.date | None = None) -> None:
    """Layers 3 and 4 on the package written in folder."""
    from .checks.expectations import run_on_package  # (imports Great Expectations: about 3 s)

    rows, problems = validate_package(folder)
    if problems:
        raise CheckFailed(LAYERS[2], problems)
    result.layers.append((LAYERS[2], "ok", f"{len(result.rows)} tables, {rows} rows"))
    count, problems = run_on_package(folder, today)
    if problems:
        raise CheckFailed(LAYERS[3], problems)
    result.layers.append((LAYERS[3], "ok", f"{count} expectations"))


def run(root: Path, *, write: bool = False, out: Path | None = None, base: str | None = None,
        as_of: str | None = None, reported_by: str | None = None, today: dt.date | None = None) -> Result:
    """Every layer, in order; raises CheckFailed at the first layer with problems.

    write: replace the package's files in root (the main job).
    out: write the package to this folder instead (time travel with as_of / reported_by); no drift check.
    Neither: check only, comparing the files in root with a fresh rebuild (drift).
    """
    root = Path(root)
    target = Path(out) if out else root
    notes = recover(target) if target.is_dir() else []  # an earlier build killed while it wrote
    state, result = replayed(root, as_of, reported_by, base)
    result.notes = notes
    readme = root / "README.md"
    files = render_package(state, readme.read_text(encoding="utf-8") if readme.is_file() else None)
    result.rows = {Path(path).stem: row_count(content) for path, content in files.items() if path.startswith("data/")}
    staging = staging_folder(target)
    try:
        write_files(staging, files)
        check_package(staging, result, today)
        if write or out:
            try:
                swap_in(staging, target)
            except OSError as err:
                raise OutputError(f"cannot write the outputs into {target}: {err.strerror or err}; "
                                  "nothing was changed") from None
    finally:
        if not committed(staging):  # (a committed one that could not be moved is finished by the next run)
            shutil.rmtree(staging, ignore_errors=True)
    if out:
        result.layers.append((LAYERS[4], "skipped", "a time-travel build is not compared with data/"))
        return result
    problems = drift(root, files)
    if problems:
        raise CheckFailed(LAYERS[4], problems)
    result.layers.append((LAYERS[4], "ok", "data/, charts/, datapackage.json, CODEBOOK.md, README equal a rebuild"))
    return result
