"""The build: read the log, check it, replay it, write the tables, check them, in this order:

1. event files   JSON parses; JSON Schema (with formats) per changeset and per event
2. log integrity references resolve, IDs are unique, corrections target what exists, dates are possible,
                 merged changesets are unchanged (with --base REV)
3. tables        frictionless validates the rendered package (types, constraints, keys, foreign keys)
4. expectations  Great Expectations suites (expectations.py)
5. drift         committed data/ and datapackage.json equal a fresh rebuild

The outputs are rendered into a temporary folder beside the target and swapped in only when every
check passed, so a failed build leaves data/ exactly as it was.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import pickle
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import event_schema, incremental, log, snapshot
from .charts import CHART_TABLES, render_charts, render_charts_from, warm_up
from .codebook import render_codebook, summarise
from .helper import Helper, Job
from .incremental import Fallback
from .package import render_descriptor
from .problems import CheckFailed, Problem
from .replay import State
from .tables import TABLES, Table, give_back_memory, rendered_tables

LAYERS = ["event files", "log integrity", "tables", "expectations", "drift"]
CLOCK_SKEW = dt.timedelta(minutes=10)


@dataclass
class Result:
    layers: list[tuple[str, str, str]] = field(default_factory=list)   # (layer, ok or skipped, what was checked)
    rows: dict[str, int] = field(default_factory=dict)             # table -> rows
    changesets: int = 0
    events: int = 0


@dataclass
class Covered:
    """A changeset covered by a snapshot: what append_only needs of it."""
    name: str
    file: str
    recorded_at: str


def utc_now() -> str:
    return (dt.datetime.now(dt.timezone.utc) + CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- 1. event files --------------------------------------------------------------------------
def read_log(root: Path, skip: set[str] = frozenset()) -> tuple[list[log.Changeset], list[Problem]]:
    """Every changeset of root/events, schema-checked, in log order; but not those named in skip
    (covered by a verified snapshot, which checked that their files are unchanged)."""
    problems, changesets = [], []
    for path in changeset_paths(root, problems, skip):
        changeset = read_one(path, root, problems)
        if changeset is not None:
            changesets.append(changeset)
    return log.in_log_order(changesets), problems


def changeset_paths(root: Path, problems: list[Problem], skip: set[str] = frozenset()) -> list[Path]:
    """The changeset files of root/events, in name order, but those in skip; a problem for anything else there."""
    paths = []
    for path in log.changeset_files(root / "events"):
        if path.is_dir() or path.suffix != ".json":
            if path.name != "README.md":
                problems.append(Problem("json", log.display_path(path, root),
                                        "only changeset .json files belong in events/", "changeset"))
        elif path.stem not in skip:
            paths.append(path)
    return paths


def read_one(path: Path, root: Path, problems: list[Problem], raw: bytes | None = None) -> log.Changeset | None:
    """One changeset, parsed and schema-checked, its events given their IDs (None, and its problems added,
    when it is not valid); raw: the file's bytes, when already read."""
    changeset = check_one(path, root, problems, raw)
    if changeset is not None:
        log.attach_events(changeset)
    return changeset


def check_one(path: Path, root: Path, problems: list[Problem], raw: bytes | None = None) -> log.Changeset | None:
    """read_one but for the events' IDs."""
    changeset, found = log.read_changeset(path, root, raw)
    problems += found
    if changeset is None:
        return None
    schema_problems = event_schema.check_changeset(changeset)
    problems += schema_problems
    if schema_problems:
        return None
    return changeset


RECORDED_AT = re.compile(rb'"recorded_at"\s*:\s*"([^"\\]*)"')


def read_and_fold(root: Path, skip: set[str], fold, after: tuple[str, str] = ("", "")) -> tuple[list, list, bool]:
    """Layer 1 as read_log, but each valid changeset is passed to fold (the replay) as soon as it is read, in
    log order, so that the parsed log need not be held whole: the files are read in the order of the
    recorded_at a quick scan finds in each. Folding stops at the first problem, at a changeset whose parsed
    recorded_at is not the one scanned (its place in the log was guessed wrong), or at one that sorts at or
    before `after`. Returns the changesets read (in log order), the problems (in file-name order, as
    read_log gives them) and whether every changeset was folded."""
    problems = []
    paths = changeset_paths(root, problems, skip)
    scanned = {}
    for path in paths:
        with path.open("rb") as file:
            found = RECORDED_AT.search(file.read(4096)) or RECORDED_AT.search(path.read_bytes())
        scanned[path] = found.group(1).decode("utf-8", "replace") if found else "\uffff"  # unknown: last
    changesets, folding = [], not problems
    order = sorted(paths, key=lambda p: (scanned[p], p.stem))
    checker = SchemaWorker(order, root) if sum(p.stat().st_size for p in paths) > WORKER_BYTES else None
    try:
        for path in order:
            count = len(problems)
            changeset = read_one(path, root, problems) if checker is None else checker.read(path, problems)
            if changeset is None:
                folding = False
                continue
            changesets.append(changeset)
            if changeset.recorded_at != scanned[path] or (changeset.recorded_at, changeset.name) <= after:
                folding = False
            if folding and len(problems) == count:
                fold(changeset)
    finally:
        if checker is not None:
            checker.close()
    rank = {log.display_path(path, root): n for n, path in enumerate(sorted(paths))}
    problems.sort(key=lambda p: rank.get(p.file, -1))  # stable: a file's problems keep their order
    return log.in_log_order(changesets), problems, folding


# Above this size of log, the schemas are checked in a second process while this one parses and replays.
WORKER_BYTES = 16 * 2**20


def log_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in log.changeset_files(root / "events") if path.is_file())


class SchemaWorker:
    """Reads and checks the changeset files (check_one: strict JSON, schemas, words kept once) in a forked
    process, in the order given, ahead of this process, which receives each valid changeset as the worker read
    it (pickle: it loads parsed JSON twice as fast as marshal, which also keeps interned words interned; the
    replay interns the words it keeps)."""

    def __init__(self, paths: list[Path], root: Path):
        import multiprocessing

        self.root, self.process = root, None
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self.connection, child = context.Pipe(duplex=False)
            self.process = context.Process(target=self._serve, args=(paths, root, child), daemon=True)
            self.process.start()
            child.close()

    @staticmethod
    def _serve(paths: list[Path], root: Path, connection) -> None:
        try:
            for path in paths:
                problems = []
                changeset = check_one(path, root, problems)
                body = None if changeset is None else pickle.dumps(changeset.body, pickle.HIGHEST_PROTOCOL)
                connection.send((problems, body))
        finally:
            os._exit(0)  # nothing to flush; no teardown of what the fork copied

    def read(self, path: Path, problems: list[Problem]) -> log.Changeset | None:
        """The next file's changeset, parsed here, if the worker found it valid (its problems added if not)."""
        if self.process is None:
            return read_one(path, self.root, problems)
        found, body = self.connection.recv()
        problems += found
        if body is None:
            return None
        changeset = log.Changeset(path.stem, log.display_path(path, self.root), pickle.loads(body))
        log.attach_events(changeset)
        return changeset

    def close(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()


# -- 2. log integrity ---------------------------------------------------------------------------
def git(root: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True)
    if done.returncode:
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip().splitlines()[-1] if done.stderr else "git failed")
    return done.stdout


def append_only(root: Path, base: str, changesets: list) -> list[Problem]:
    """Changesets present at the base revision are unchanged; new ones are recorded after all of them.
    changesets: every changeset of the log (objects with name, file and recorded_at)."""
    try:
        listed = git(root, "ls-tree", "-r", "--name-only", base, "--", "events/").decode("utf-8").splitlines()
        changed = git(root, "diff", "--no-renames", "--name-status", base, "--", "events/").decode("utf-8").splitlines()
    except (RuntimeError, OSError) as err:
        return [Problem("integrity", ".", f"cannot read base revision {base!r}: {err}")]
    status = {line.split("\t", 1)[1]: line.split("\t", 1)[0] for line in changed if "\t" in line}
    recorded = {c.name: c.recorded_at for c in changesets}
    problems, base_latest, base_names = [], "", set()
    for name in listed:
        if not name.endswith(".json"):
            continue
        stem = Path(name).stem
        base_names.add(stem)
        if status.get(name) == "D" or not (root / name).exists():
            problems.append(Problem("integrity", name, f"changeset was deleted; it is in {base} and the log is "
                                                       "append-only (retract or correct with a new changeset)", "changeset"))
        elif status.get(name):
            problems.append(Problem("integrity", name, f"changeset was edited since {base}; the log is append-only "
                                                       "(write a correction in a new changeset)", "changeset"))
        if stem in recorded and not status.get(name):
            base_latest = max(base_latest, recorded[stem])
            continue
        try:
            base_latest = max(base_latest, json.loads(git(root, "show", f"{base}:{name}"))["recorded_at"])
        except (ValueError, KeyError, TypeError):
            pass
    for changeset in changesets:
        if changeset.name not in base_names and changeset.recorded_at <= base_latest:
            problems.append(Problem("integrity", changeset.file, f"recorded_at {changeset.recorded_at} is not after "
                                    f"the newest changeset already merged ({base_latest}); new changesets go at the end "
                                    "of the log", "changeset", "/recorded_at"))
    return problems


# -- 3. tables ---------------------------------------------------------------------------------
# frictionless checks one row at a time (under 20,000 rows a second here), and refuses to run a package
# with foreign keys in parallel; each resource can be validated on its own all the same (it reads the
# resources its foreign keys point to from the package), so large packages are split by resource across
# processes. Below this size starting a process costs more than it saves.
PARALLEL_BYTES = 10 * 2**20


def validate_package(directory: Path, processes: int | None = None) -> tuple[int, list[Problem]]:
    """frictionless on the rendered package in directory, as `frictionless validate` would: the descriptor,
    then every resource with its types, constraints, keys and foreign keys. Resources are validated in
    `processes` processes (default: one per core when the data is large). Returns (rows checked, problems)."""
    from frictionless import FrictionlessException, Package, system

    descriptor = directory / "datapackage.json"
    with system.use_context(trusted=False):
        package = Package(str(descriptor))
        try:
            package.to_descriptor(validate=True)
        except FrictionlessException as exception:
            return 0, [Problem("table", "datapackage.json", f"{error.type}: {error.message}")
                       for error in exception.to_errors()]
        sizes = {resource.name: _size(directory, resource.path) for resource in package.resources}
        names = sorted(sizes, key=sizes.get, reverse=True)  # largest first, so the processes finish together
        if processes is None:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            processes = min(cores, len(names)) if sum(sizes.values()) > PARALLEL_BYTES else 1
        if processes > 1:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            # spawn, not fork: a forked worker would share (and count) the parent's replayed state
            with ProcessPoolExecutor(processes, mp_context=get_context("spawn"), initializer=_open_package,
                                     initargs=(str(descriptor),)) as pool:
                results = list(pool.map(_validate_resource, names))
        else:
            results = [_resource_problems(package.get_resource(name).validate(), directory) for name in names]
    checked = dict(zip(names, results))
    rows, problems = 0, []
    for name in sizes:  # in the package's order, as frictionless reports them
        count, found = checked[name]
        rows += count
        problems += found
    return rows, problems


def _size(directory: Path, path) -> int:
    return (directory / path).stat().st_size if isinstance(path, str) and (directory / path).is_file() else 0


_worker_package = None


def _open_package(descriptor: str) -> None:
    """In a worker process: open the package once, for all the resources it will validate."""
    global _worker_package
    from frictionless import Package, system

    system.trusted = False
    _worker_package = Package(descriptor)


def _validate_resource(name: str) -> tuple[int, list[Problem]]:
    """In a worker process: one resource, as Package.validate validates each."""
    report = _worker_package.get_resource(name).validate()
    return _resource_problems(report, Path(_worker_package.basepath))


def _resource_problems(report, directory: Path) -> tuple[int, list[Problem]]:
    """Rows checked and problems found by frictionless on one resource."""
    problems = [Problem("table", "datapackage.json", f"{error.type}: {error.message}") for error in report.errors]
    task = report.tasks[0] if report.tasks else None
    if task is None:
        return 0, problems
    shown = Path(task.place).relative_to(directory).as_posix() if Path(task.place).is_absolute() else task.place
    for error in task.errors:
        where = []
        if getattr(error, "row_number", None):
            where.append(f"row {error.row_number}")
        if getattr(error, "field_name", None):
            where.append(f"field {error.field_name}")
        problems.append(Problem("table", shown, f"{error.type}: {error.note or error.message}", ", ".join(where)))
    return task.stats.get("rows", 0) or 0, problems


# -- the whole build -----------------------------------------------------------------------------
def render_package(state: State, helper: Helper | None = None, folder: Path | None = None,
                   keys: Path | None = None, claims_of=None) -> tuple[Mapping[str, bytes], dict[str, Table], dict]:
    """Every output file, by path relative to the package root, the rendered tables and their summaries
    (codebook.summarise). helper: a process (helper.py) that writes the largest tables and draws the charts
    meanwhile. folder: write the files there as they are made, rather than hold them (the mapping returned then
    reads each file when asked: Written); keys: a folder for the tables' sort keys, which only a snapshot reads.
    claims_of: the replay's index of claims by launch (Replay.claims_of; made again from the claims if not given)."""
    tables, charts = {}, None
    from_files = helper is not None and folder is not None  # the helper draws them from the files it writes

    def draw():  # in the helper, as soon as it has written (or been sent) what they need
        nonlocal charts
        charts = helper.submit(render_charts_from, folder / "data")
    for name, table in rendered_tables(state, folder, helper, keys, (CHART_TABLES, draw) if from_files else None,
                                       claims_of):
        tables[name] = table
        if charts is None and CHART_TABLES <= tables.keys() and not from_files:
            csvs = {name: _content(tables[name], folder) for name in CHART_TABLES}
            charts = helper.submit(render_charts, csvs) if helper else render_charts(csvs)
            del csvs
    tables = {name: tables[name] for name in TABLES}
    summaries = {name: table.summary for name, table in tables.items()}
    csvs = {name: table.content for name, table in tables.items()}
    files, summaries = finish_package(state, csvs, charts if helper is None else charts.result(), summaries)
    if folder is None:
        return files, tables, summaries
    write_files(folder, {relative: content for relative, content in files.items() if content is not None})
    return Written(folder, files), tables, summaries


def _content(table: Table, folder: Path | None) -> bytes:
    return table.content if table.content is not None else (folder / "data" / f"{table.name}.csv").read_bytes()


class Written(Mapping):
    """Output files written into a folder, by path relative to it, each read from disk when asked (the tables
    of a large package are not held in memory)."""

    def __init__(self, folder: Path, relatives):
        self.folder, self.relatives = folder, list(relatives)

    def __getitem__(self, relative: str) -> bytes:
        if relative not in self.relatives:
            raise KeyError(relative)
        return (self.folder / relative).read_bytes()

    def __iter__(self):
        return iter(self.relatives)

    def __len__(self) -> int:
        return len(self.relatives)


def finish_package(state: State, csvs: dict[str, bytes], charts: dict[str, bytes | Job] | None = None,
                   summaries: dict | None = None, descriptor: bytes | None = None) -> tuple[dict[str, bytes], dict]:
    """The output files made from the tables: the tables themselves, the descriptor (made, unless given),
    codebook and charts (drawn, unless given; a chart given as a helper's job is asked for last, while it is
    drawn), and the tables' summaries for the codebook (made, unless given)."""
    summaries = {name: (summaries or {}).get(name) or summarise(content) for name, content in csvs.items()}
    files = {f"data/{name}.csv": content for name, content in csvs.items()}
    files["datapackage.json"] = render_descriptor(state) if descriptor is None else descriptor
    files["CODEBOOK.md"] = render_codebook(csvs, summaries)
    files.update({path: chart.result() if isinstance(chart, Job) else chart
                  for path, chart in (charts or render_charts(csvs)).items()})
    return files, summaries


def render_all(state: State) -> dict[str, bytes]:
    """Every output file, by path relative to the package root."""
    return render_package(state)[0]


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def committed_drift(root: Path, files: Mapping[str, bytes]) -> list[Problem]:
    """Differences between the committed outputs and a fresh rebuild (read one file at a time)."""
    problems = []
    on_disk = {f"{folder}/{p.name}" for folder in ("data", "charts") if (root / folder).is_dir()
               for p in (root / folder).glob("*")}
    for relative in sorted(files):
        content = files[relative]
        path = root / relative
        if not path.exists():
            problems.append(Problem("drift", relative, "missing: run the build and commit its output"))
        elif not same_bytes(path, content):
            problems.append(Problem("drift", relative, "differs from a fresh rebuild of events/: run the build "
                                                       "and commit its output (never edit data/ by hand)"))
    for extra in sorted(on_disk - set(files)):
        problems.append(Problem("drift", extra, "is not produced by the build: remove it"))
    return problems


def same_bytes(path: Path, content: bytes, piece: int = 1 << 24) -> bool:
    """Does the file hold exactly these bytes? (read a piece at a time: a table can be hundreds of MB)"""
    if path.stat().st_size != len(content):
        return False
    view = memoryview(content)
    with path.open("rb") as file:
        return all(file.read(piece) == view[start:start + piece] for start in range(0, len(content), piece))


@contextlib.contextmanager
def without_gc():
    """Reading, replaying and rendering make millions of objects that all live on: the cyclic collector
    would scan them again and again for nothing (a third of the time at 10^5 events). It runs again after,
    with what exists by then moved out of its way (gc.freeze, undone when run() returns)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def read_and_replay(root: Path, result: Result, resumed: snapshot.Snapshot | None, as_of: str | None,
                    reported_by: str | None):
    """Layers 1 and 2, on top of the snapshot `resumed` when given (Fallback if a new changeset sorts inside
    it). Each changeset is replayed as it is read when the files can be read in log order (read_and_fold),
    else the log is read whole, then replayed. Returns the changesets read (only the new ones on a
    snapshot), the replay engine and the integrity problems."""
    from .replay import Replay

    engine = resumed.engine if resumed else Replay(reported_by=reported_by)
    engine.now = utc_now()

    def fold(changeset):
        if not as_of or changeset.recorded_at <= as_of:
            engine.run([changeset], consume=True)
    changesets, problems, folded = read_and_fold(root, resumed.names if resumed else set(), fold,
                                                 resumed.last if resumed else ("", ""))
    if resumed and changesets and (changesets[0].recorded_at, changesets[0].name) <= resumed.last:
        raise Fallback("a new changeset sorts inside the snapshot's part of the log")
    if problems:
        raise CheckFailed(LAYERS[0], problems)
    if as_of:
        changesets = [c for c in changesets if c.recorded_at <= as_of]
    new_events = sum(len(c.events) for c in changesets)
    result.changesets = len(changesets) + (len(resumed.covered) if resumed else 0)
    result.events = new_events + (resumed.events if resumed else 0)
    what = f"{result.changesets} changesets, {result.events} events"
    if resumed:
        what += f" ({len(changesets)} changesets, {new_events} events read; the rest from a verified snapshot)"
    result.layers.append((LAYERS[0], "ok", what))
    if not folded:
        # some were folded, and let go of, before the order turned out other than scanned: start again
        if resumed:
            resumed.engine = engine = snapshot.engine_of(resumed)
        else:
            engine = Replay(reported_by=reported_by)
            if any(c.events and c.events[0].body is None for c in changesets):
                changesets, _ = read_log(root)
                changesets = [c for c in changesets if not as_of or c.recorded_at <= as_of]
        engine.now = utc_now()
        engine.run(changesets, consume=True)
    return changesets, engine, engine.problems


def run(root: Path, **options) -> Result:
    """The build and the checks: see _run for the options."""
    try:
        return _run(root, **options)
    finally:
        gc.unfreeze()  # a long-lived caller (the tests) gets its memory back once the result is dropped


def _run(root: Path, *, write: bool = False, out: Path | None = None, base: str | None = None,
         as_of: str | None = None, reported_by: str | None = None, today: dt.date | None = None,
         cache: Path | None = None, full: bool = False) -> Result:
    """Run the layers in order; raise CheckFailed at the first layer with problems.

    write: replace root/data and root/datapackage.json (the main job).
    out: write the package to this folder instead (time travel with as_of / reported_by).
    Neither: check only, comparing the committed outputs with a fresh rebuild (drift).
    cache: folder of verified snapshots (snapshot.py): used when one fits (unless full), and written when
    the whole log was read and passed layers 1 to 4.
    """
    root = Path(root)
    options = dict(write=write, out=out, base=base, today=today)
    resumed = None
    if cache and not full and not (as_of or reported_by):
        resumed = snapshot.find(cache, root / "events")
    why = None
    if resumed:
        from .expectations import Worker
        worker = Worker()  # forked first: no thread or open snapshot to carry into it
        helper = Helper()  # draws a chart that changed; imports matplotlib meanwhile
        helper.submit(warm_up)
        try:
            if snapshot.open_snapshot(resumed) is None:
                raise Fallback("the snapshot file cannot be read")
            return _run_on_snapshot(root, resumed, worker, helper, **options)
        except Fallback as fallback:
            why = str(fallback)  # the full path decides, and words the problems as it always does
        except Exception:  # a problem found, or a failure reading the snapshot: trusted only if its file is intact
            if resumed.intact():
                raise
            why = "the snapshot file is not the one that was verified"
        finally:
            worker.close()
            helper.close()
    return _run_in_full(root, cache=cache, as_of=as_of, reported_by=reported_by, why=why, **options)


def _layer_2(root: Path, result: Result, base: str | None, changesets: list, resumed, problems: list) -> None:
    if base:
        covered = [Covered(name, f"events/{name}.json", recorded_at) for name, _, recorded_at in resumed.covered] if resumed else []
        problems += append_only(root, base, covered + changesets)
    if problems:
        raise CheckFailed(LAYERS[1], problems)
    result.layers.append((LAYERS[1], "ok", "references, IDs, corrections, dates" + (f", append-only since {base}" if base else "")))


def _run_in_full(root: Path, *, write: bool, out: Path | None, base: str | None, as_of: str | None,
                 reported_by: str | None, today: dt.date | None, cache: Path | None, why: str | None = None) -> Result:
    """Every layer on the whole log and package. why: the reason a snapshot that fits could not be used."""
    result = Result()
    target = Path(out) if out else root
    target.mkdir(parents=True, exist_ok=True)
    # Layer 4 runs in a process forked now, which imports Great Expectations (about 3 s) while this one reads,
    # replays, renders and checks the tables, and then loads the tables itself.
    from .expectations import Worker
    worker = Worker()
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target))
    keys = Path(tempfile.mkdtemp(prefix=".keys-", dir=target))
    try:
        helper = Helper()  # forked before the log is read, while this process holds no replayed state
        try:
            with without_gc():
                changesets, engine, problems = read_and_replay(root, result, None, as_of, reported_by)
            state = engine.state
            if why:
                layer, status, what = result.layers[0]
                result.layers[0] = (layer, status, f"{what} (read in full: {why})")
            _layer_2(root, result, base, changesets, None, problems)
            with without_gc():
                files, tables, summaries = render_package(state, helper, staging, keys, engine.claims_of)
        finally:
            helper.close()
        result.rows = {name: table.rows for name, table in tables.items()}
        # The snapshot is written now, while the replayed state is at hand, and becomes one only once the package
        # passed layers 3 and 4 (the state depends on layers 1 and 2, which the whole log has passed): a later
        # check of new changesets starts from there. The state goes before those layers' processes start.
        pending = None
        if cache and not (as_of or reported_by):
            pending = snapshot.begin(cache, root / "events", changesets, engine, result.events, files, tables, summaries)
        del tables, engine, state, changesets
        large = log_bytes(root) > WORKER_BYTES
        if large:
            _give_back_all()
        try:
            rows, problems = validate_package(staging)
            if problems:
                raise CheckFailed(LAYERS[2], problems)
            result.layers.append((LAYERS[2], "ok", f"{len(TABLES)} tables, {rows} rows"))

            # facts: what the whole-table suites need of the tables, which a snapshot keeps
            count, problems, facts = worker.run_on_package(staging, today)
            if problems:
                raise CheckFailed(LAYERS[3], problems)
            result.layers.append((LAYERS[3], "ok", f"{count} expectations"))
        except BaseException:
            if pending:
                pending.discard()
            raise
        if pending:
            pending.commit(facts)

        def again(folder: Path):  # determinism: a second, independent replay must give the same bytes as were written
            if not large:
                return rebuild_into(root, folder)
            # A large log is rebuilt in a fresh process (this one gave back what it could before layer 3): this
            # one's memory, freed or not, is not added to it.
            import multiprocessing

            process = multiprocessing.get_context("spawn").Process(target=rebuild_into, args=(root, folder))
            process.start()
            process.join()
            if process.exitcode:
                raise RuntimeError(f"the second rebuild (layer 5) failed with exit code {process.exitcode}")
            # what the second rebuild wrote, whatever it is: a file it did not write shows as drift
            paths = [path for path in folder.rglob("*") if path.is_file()]
            return Written(folder, sorted(path.relative_to(folder).as_posix() for path in paths))
        return _finish(root, result, staging, files, write, out, again)
    finally:
        worker.close()
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(keys, ignore_errors=True)


def _give_back_all() -> None:
    """Collect what this process let go of (the replayed state is held in cycles, and frozen: without_gc) and
    hand the memory back to the system, before other processes start that need as much."""
    gc.unfreeze()
    gc.collect()
    give_back_memory()


def rebuild_into(root: Path, folder: Path) -> Mapping[str, bytes]:
    """Layers 1 and 2 and the render again, into folder, as the first rebuild ran them: layer 5 compares the two."""
    helper = Helper()
    try:
        with without_gc():
            _, engine, _ = read_and_replay(root, Result(), None, None, None)
            return render_package(engine.state, helper, folder, claims_of=engine.claims_of)[0]
    finally:
        helper.close()


def _run_on_snapshot(root: Path, resumed: snapshot.Snapshot, worker, helper: Helper, *, write: bool, out: Path | None,
                     base: str | None, today: dt.date | None) -> Result:
    """Layers 1 and 2 on the new changesets, on top of the snapshot's engine; layers 3 to 5 on the rows of the
    records they touched (incremental.py). Raises Fallback where only the full path can decide."""
    result = Result()
    with without_gc():
        changesets, engine, problems = read_and_replay(root, result, resumed, None, None)
    state = engine.state
    _layer_2(root, result, base, changesets, resumed, problems)
    deltas = incremental.render_delta(resumed, engine)
    incremental.check_keys(resumed, deltas)
    csvs, result.rows = {}, {}
    for name in TABLES:
        old = resumed.file(f"data/{name}.csv")
        delta = deltas.get(name)
        csvs[name] = incremental.splice(old, resumed, delta) if delta else old
        result.rows[name] = resumed.rows(name) + (len(delta.added) - len(delta.old) if delta else 0)
    changes = incremental.Changes(resumed, deltas)
    files, _ = finish_package(state, csvs, incremental.charts(changes, csvs, helper),
                              incremental.summaries(changes, result.rows), incremental.descriptor(resumed, state))
    incremental.validate_rows(deltas, files["datapackage.json"], state)
    result.layers.append((LAYERS[2], "ok", f"{len(TABLES)} tables, {sum(result.rows.values())} rows "
                                           f"({sum(len(d.rows) for d in deltas.values())} new or changed checked; "
                                           "the rest verified with the snapshot)"))
    count = incremental.check_expectations(changes, today, worker)
    result.layers.append((LAYERS[3], "ok", f"{count} expectations (on the new and changed rows, and on whole-table "
                                           "counts updated with them)"))
    del changes, csvs
    resumed.let_go_of_tables()  # (files holds the new tables; layer 5 reads the committed ones)
    if not resumed.intact():
        raise Fallback("the snapshot file is not the one that was verified")
    if not (write or out):
        return _finish(root, result, None, files, write, out, None)
    target = Path(out) if out else root
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target))
    try:
        write_files(staging, files)
        return _finish(root, result, staging, files, write, out, None)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _finish(root: Path, result: Result, staging: Path | None, files: dict[str, bytes], write: bool,
            out: Path | None, again) -> Result:
    """Swap the checked package in (when writing), then layer 5. again: a second rebuild to compare the
    written files with (None: none on a snapshot)."""
    target = Path(out) if out else root
    if write or out:
        swap_in(staging, target)
    if out:
        result.layers.append((LAYERS[4], "skipped", "a time-travel build is not compared with data/"))
        return result
    if write and again is None:
        result.layers.append((LAYERS[4], "skipped", "written on top of a verified snapshot (--full compares the "
                                                    "written files with a second, independent rebuild)"))
        return result
    if write:
        with tempfile.TemporaryDirectory(prefix=".again-", dir=target) as folder:
            problems = committed_drift(root, again(Path(folder)))
    else:
        problems = committed_drift(root, files)
    if problems:
        raise CheckFailed(LAYERS[4], problems)
    result.layers.append((LAYERS[4], "ok", "data/, charts/, datapackage.json and CODEBOOK.md equal a fresh rebuild"))
    return result


def swap_in(staging: Path, target: Path) -> None:
    """Replace target's generated folders (data/, charts/) and files with the staged ones, as atomically as a
    filesystem allows: each folder is renamed into place, each file replaced."""
    retired = []
    for path in sorted(staging.iterdir()):
        destination = target / path.name
        if path.is_dir():
            if destination.exists():
                old = target / f".old-{path.name}-{os.getpid()}"
                destination.rename(old)
                retired.append(old)
            path.rename(destination)
        else:
            os.replace(path, destination)
    for old in retired:
        shutil.rmtree(old, ignore_errors=True)
