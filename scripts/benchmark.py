#!/usr/bin/env python3
"""Benchmark: synthetic logs with the real mix of event types, timed through every stage.

    .venv/bin/python scripts/benchmark.py                 # 10^3, 10^4 and 10^5 events
    .venv/bin/python scripts/benchmark.py --sizes 1000000 # or any sizes

Each size runs in its own process, so that its peak memory is its own. For each stage it prints the
time and the peak resident memory of the process so far, and, as baselines in the same run, the same
events through plain jsonschema and the same tables through plain frictionless validate. Synthetic
logs pass every check, as a real log does, so that the contributor check starts from a verified state;
only the expectations' bounds per year are widened for them (synthetic_bounds): they hold thousands of
launches a year.
"""
from __future__ import annotations

import argparse
import calendar
import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The mix of event types (per 1,000 events), after the real log's (where parties from the sanctions lists are
# half the events and launches a seventh), with more of the events that change the past: claims added to a
# launch, corrections, retractions of statements, launches and sanctions, merges of launches, sanctions and
# parties (the real log has one merge).
MIX = {"launch": 140, "claims": 20, "statement": 100, "party": 439, "sanction": 60, "correction": 60, "source": 70,
       "site": 40, "missile_type": 25, "actor": 15, "retraction": 18, "merge": 3, "context": 10}
# A launch event carries its claims the way the research dataset's do (the real log's have 14 on average):
# the launch's date, missile count and site, and for each of its two missiles the time, type, apogee, range
# and outcome, each with the words it was read from and the record it came from.
MISSILES = 2
EVENTS_PER_CHANGESET = 1000
REBUILD, CHECKED = "full rebuild (1, 2, render)", "full rebuild and check (1-5)"
PEAK = "peak MiB: "
BASELINE_EVENTS = 100_000  # plain jsonschema takes about 10 minutes for 10^6 events: time the first 10^5


# The synthetic history: launches, statements and sanctions are dated along the log, from the first known
# test to shortly before the contributor's launch (new_changeset), with up to JITTER days of spread.
FIRST_DAY, LAST_DAY = dt.date(1984, 1, 1), dt.date(2025, 10, 31)
JITTER = 30
# A count of launches is only given for a month that ended LAG days before the log's current date: no
# launch recorded later falls in it, so the count stays true (retractions and merges only lower it).
LAG = 365
SAME_DAY = 0.1  # share of launches on the day of the launch before (real ones have -1, -2 IDs); merges join these


@contextlib.contextmanager
def synthetic_bounds(size: int):
    """Widen the per-year bounds of the expectations for a synthetic log of `size` events, and restore them.

    The real record has at most 39 launch events a year; a synthetic log of 10^5 or 10^6 events spreads
    thousands of launches a year over the same years. The expectations run the same work either way, only
    the thresholds differ: here twice the yearly rate the generator gives `size` events (so a duplicated
    log would still cross them), and never below the dataset's own bounds."""
    years = (LAST_DAY - FIRST_DAY).days / 365.25
    launches = 2 * size * MIX["launch"] / sum(MIX.values()) / years
    sanctions = 2 * size * MIX["sanction"] / sum(MIX.values()) / years
    from dprk_timeline import expectations as gx  # derived_frames reads these module constants when it runs

    saved = gx.LAUNCH_EVENTS_PER_YEAR, gx.MISSILES_PER_YEAR_MAX, gx.SANCTIONS_PER_YEAR_MAX
    gx.LAUNCH_EVENTS_PER_YEAR = (saved[0][0], max(saved[0][1], math.ceil(launches)))
    gx.MISSILES_PER_YEAR_MAX = max(saved[1], math.ceil(MISSILES * launches))
    gx.SANCTIONS_PER_YEAR_MAX = max(saved[2], math.ceil(sanctions))
    try:
        yield
    finally:
        gx.LAUNCH_EVENTS_PER_YEAR, gx.MISSILES_PER_YEAR_MAX, gx.SANCTIONS_PER_YEAR_MAX = saved


def generate(root: Path, size: int, seed: int = 1, per_changeset: int = EVENTS_PER_CHANGESET) -> None:
    """Write a synthetic log of `size` events into root/events, every reference resolving and every check
    (layers 1 to 4, with synthetic_bounds) passing."""
    rng = random.Random(seed)
    events_dir = root / "events"
    events_dir.mkdir(parents=True)
    sources, actors, sites, missile_types, launches, statements, sanctions, parties = [], [], [], [], [], [], [], []
    gone: set[str] = set()  # retracted or merged IDs, dropped from the lists above when met
    twins: list[tuple[str, str]] = []  # launches on one day, for merges
    per_day: dict[str, int] = {}
    per_month: dict[str, int] = {}  # launches registered per month, for the counts of context events
    last_launch, last_day = "", ""
    merges = 0
    kinds = [k for k, n in MIX.items() for _ in range(n)]
    changeset, number = [], 0
    first, span = FIRST_DAY.toordinal(), (LAST_DAY - FIRST_DAY).days

    def flush():
        nonlocal changeset, number
        if not changeset:
            return
        number += 1
        recorded = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=number)
        body = {"recorded_at": recorded.strftime("%Y-%m-%dT%H:%M:%SZ"), "author": "benchmark", "message": "synthetic",
                "events": changeset}
        (events_dir / f"2026-01-01-synthetic-{number:06d}.json").write_text(json.dumps(body), encoding="utf-8")
        changeset = []

    def add(event):
        changeset.append(event)
        if len(changeset) >= per_changeset:
            flush()

    def live(pool):
        """A random ID of the pool that is not retired (retired ones are dropped as they are met)."""
        while pool:
            i = rng.randrange(len(pool))
            if pool[i] not in gone:
                return pool[i]
            pool[i] = pool[-1]
            pool.pop()
        return None

    def launched_at(korea_date: str) -> str:
        """A time on the Korea date, 05:00 to 17:59 Korea time, given in UTC (9 h earlier)."""
        korea_time = dt.datetime.fromisoformat(korea_date) + dt.timedelta(minutes=rng.randint(5 * 60, 18 * 60 - 1))
        return (korea_time - dt.timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:00Z")

    def day(ordinal: int) -> str:
        return dt.date.fromordinal(min(ordinal, LAST_DAY.toordinal() + JITTER)).isoformat()

    for n in range(size):
        today = first + span * n // size  # the log's current date
        kind = ("source" if not sources else "actor" if len(actors) < 3 else "site" if not sites
                else "missile_type" if not missile_types else rng.choice(kinds))
        target = live(launches) if kind in ("claims", "statement", "context") else None
        if kind == "source":
            sid = f"src-{len(sources)}"
            sources.append(sid)
            add({"type": "source", "source_id": sid, "kind": "news_article", "publisher": "Synthetic News",
                 "title": f"Report {sid}", "published": "2024-05-01", "url": f"https://example.org/{sid}"})
        elif kind == "actor":
            aid = f"actor-{len(actors)}"
            actors.append(aid)
            add({"type": "actor", "actor_id": aid, "name": f"Actor {aid}", "kind": rng.choice(["military", "government", "state_media"]),
                 "country": rng.choice(["KR", "JP", "US", "KP"])})
        elif kind == "site":
            sid = f"site-{len(sites)}"
            sites.append(sid)
            add({"type": "site", "site_id": sid, "name": f"Site {len(sites)}", "country": "KP",
                 "latitude": round(rng.uniform(37.7, 42.9), 6), "longitude": round(rng.uniform(124.3, 130.6), 6),
                 "source": rng.choice(sources)})
        elif kind == "missile_type":
            mid = f"type-{len(missile_types)}"
            missile_types.append(mid)
            add({"type": "missile_type", "missile_type_id": mid, "name": f"Type {len(missile_types)}",
                 "class": rng.choice(["SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "CM"]), "source": rng.choice(sources)})
        elif kind == "launch" or (kind == "claims" and target is None):
            twin = last_day and last_day >= day(today - LAG) and rng.random() < SAME_DAY
            korea_date = last_day if twin else day(today + rng.randint(0, JITTER))
            per_day[korea_date] = per_day.get(korea_date, 0) + 1
            if per_day[korea_date] > 999:
                continue
            lid = f"{korea_date}-{per_day[korea_date]}"
            if twin:
                twins.append((last_launch, lid))
            launches.append(lid)
            last_launch, last_day = lid, korea_date
            per_month[korea_date[:7]] = per_month.get(korea_date[:7], 0) + 1
            record = f"synthetic.json#{lid}"
            site = rng.choice(sites)
            claims = [{"attribute": "korea_date", "value": korea_date, "precision": "day",
                       "original": {"text": korea_date}},
                      {"attribute": "missile_count", "original": {"text": f"{MISSILES} missiles", "value": MISSILES,
                                                                  "unit": "missiles"}},
                      {"attribute": "site", "value": site, "original": {"text": f"Site {site[5:]}"}}]
            for missile in range(1, MISSILES + 1):
                apogee, reach = rng.randint(20, 6000), rng.randint(50, 13000)
                missile_type, time = rng.choice(missile_types), launched_at(korea_date)
                claims += [
                    {"attribute": "launched_at", "value": time, "precision": "minute",
                     "original": {"text": f"{time[:10]} {time[11:16]} (UTC)"}, "missile": missile},
                    {"attribute": "missile_type", "value": missile_type, "original": {"text": f"Type {missile_type[5:]}"},
                     "missile": missile},
                    {"attribute": "apogee_km", "original": {"text": f"{apogee} km", "value": apogee, "unit": "km"},
                     "missile": missile},
                    {"attribute": "range_km", "original": {"text": f"{reach} km", "value": reach, "unit": "km"},
                     "missile": missile},
                    {"attribute": "outcome", "value": rng.choice(["success", "success", "success", "failure", "unknown"]),
                     "original": {"text": "as reported"}, "missile": missile}]
            for claim in claims:
                claim["source_record"] = record
            add({"type": "launch", "launch_id": lid, "source": rng.choice(sources), "claimant": rng.choice(actors),
                 "claims": claims})
        elif kind == "claims":
            add({"type": "claims", "launch_id": target, "source": rng.choice(sources), "claimant": rng.choice(actors),
                 "claims": [{"attribute": "range_km", "original": {"text": "300 mi", "value": rng.randint(50, 900), "unit": "mi"}},
                            {"attribute": "launched_at", "value": launched_at(target[:10])}]})
        elif kind == "statement":
            sid = f"st-{n}"
            statements.append(sid)
            # on the day of the launch it answers or up to two days later
            said = day(dt.date.fromisoformat(target[:10]).toordinal() + rng.randint(0, 2)) if target else day(today)
            event = {"type": "statement", "statement_id": sid, "source": rng.choice(sources), "actor": rng.choice(actors),
                     "date": said, "stance": rng.choice(["condemnation", "concern", "threat"]),
                     "quote": "a short quote", "summary": "A synthetic statement."}
            if target:
                event["launches"] = [target]
            add(event)
        elif kind == "party":
            pid = f"party-{n}"  # IDs from n: merges and retractions shorten the lists
            parties.append(pid)
            add({"type": "party", "party_id": pid, "name": f"PARTY {n}", "kind": "entity", "source": rng.choice(sources)})
        elif kind == "sanction" and parties:
            aid = f"action-{n}"
            sanctions.append(aid)
            named = []
            for _ in range(3):
                party = live(parties)
                if party not in named:
                    named.append(party)
            add({"type": "sanction", "action_id": aid, "action": "designation", "authority": rng.choice(actors),
                 "date": day(today), "parties": named, "source": rng.choice(sources), "summary": "A synthetic designation."})
        elif kind == "correction" and statements:
            add({"type": "correction", "target": f"statement:{live(statements)}", "set": {"stance": "concern"},
                 "reason": "Synthetic correction.", "source": rng.choice(sources)})
        elif kind in ("retraction", "merge") and min(len(statements), len(launches), len(sanctions), len(parties)) > 10:
            pools = {"statement": statements, "launch": launches, "sanction": sanctions, "party": parties}
            if kind == "retraction":
                record_type = rng.choice(["statement", "statement", "launch", "sanction"])
                retired = live(pools[record_type])
                gone.add(retired)
                add({"type": "retraction", "target": f"{record_type}:{retired}", "reason": "Synthetic retraction."})
                continue
            # in turn, parties twice as often: the largest pool, and the only one no retraction retires
            merges += 1
            record_type = ["party", "launch", "party", "sanction"][merges % 4]
            if record_type == "launch":
                # two launches on one day: the merged launch keeps its date, and its time, statements and the
                # counts of its month stay true
                retired = None
                while twins and retired is None:
                    i = rng.randrange(len(twins))
                    (into, retired), twins[i] = twins[i], twins[-1]
                    twins.pop()
                    if into in gone or retired in gone:
                        retired = None
                if retired is None:
                    record_type = "party"
            if record_type != "launch":
                retired = live(pools[record_type])
                gone.add(retired)
                into = live(pools[record_type])
            gone.add(retired)
            add({"type": "merge", "record_type": record_type, "from": retired, "into": into, "reason": "Synthetic duplicate."})
        elif kind == "context" and target:
            # the month of a launch, once no later launch can fall in it, and the launches registered in it
            year, month = int(target[:4]), int(target[5:7])
            end = f"{target[:7]}-{calendar.monthrange(year, month)[1]:02d}"
            if end >= day(today - LAG):
                continue
            add({"type": "context", "context_id": f"ctx-{n}", "topic": "launch_count", "period_start": f"{target[:7]}-01",
                 "period_end": end, "value": per_month[target[:7]], "unit": "launches", "claimant": rng.choice(actors),
                 "source": rng.choice(sources), "summary": "A synthetic count."})
    flush()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class WorkersPeak:
    """The largest resident memory of this process's children together (layer 3's worker processes),
    sampled five times a second: getrusage would count a spawned child's moment as a copy of this one."""

    def __enter__(self):
        self.peak, self.running = 0.0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    def sample(self):
        while self.running:
            total = 0
            for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
                for child in children.read_text().split():
                    try:
                        status = Path(f"/proc/{child}/status").read_text()
                        total += int(status.split("VmRSS:")[1].split()[0]) / 1024
                    except (OSError, IndexError, ValueError):
                        pass
            self.peak = max(self.peak, total)
            time.sleep(0.2)


class AllPeak:
    """The largest memory of this process and all its descendants together (the rebuild's helper and its layer-1
    worker; a check's expectations and chart processes), sampled four times a second as their proportional set
    size: pages they share (the libraries this process had loaded when it forked them) are counted once, not
    once per process."""

    def start(self) -> "AllPeak":
        self.peak, self.running = 0.0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.total())
        return self.peak

    def total(self) -> float:
        total, pids = 0.0, [os.getpid()]
        while pids:
            pid = pids.pop()
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                total += int(rollup.split("\nPss:")[1].split()[0]) / 1024
                for children in Path(f"/proc/{pid}/task").glob("*/children"):
                    pids += children.read_text().split()
            except (OSError, IndexError, ValueError):
                pass
        return total

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.total())
            time.sleep(0.25)


def worked(workers: "WorkersPeak", what: str) -> str:
    """A note on the memory of the processes a stage started, if it started any."""
    return f"; {what}, which peaked at {workers.peak:.0f} MiB (resident, shared pages counted again)" if workers.peak else ""


def new_changeset(root: Path, size: int) -> None:
    """A contributor's changeset on top of the synthetic log: a source, a launch with claims, a statement."""
    # dated after every synthetic launch (LAST_DAY + JITTER), so it passes the checks too: no statement
    # answers a later launch, no month counted by a context event gains a launch
    events = [{"type": "source", "source_id": "contributed", "kind": "news_article", "publisher": "Synthetic News",
               "title": "A contributed report", "published": "2025-12-15", "url": "https://example.org/contributed"},
              {"type": "launch", "launch_id": "2025-12-15-1", "source": "contributed", "claimant": "actor-0",
               "claims": [{"attribute": "korea_date", "value": "2025-12-15"},
                          {"attribute": "apogee_km", "original": {"text": "60 km", "value": 60, "unit": "km"}}]},
              {"type": "statement", "statement_id": "contributed-statement", "source": "contributed", "actor": "actor-1",
               "date": "2025-12-15", "stance": "condemnation", "summary": "A contributed statement.",
               "launches": ["2025-12-15-1"]}]
    body = {"recorded_at": "2026-06-01T00:00:00Z", "author": "contributor", "message": "one new changeset",
            "events": events}
    (root / "events" / "2026-06-01-contribution.json").write_text(json.dumps(body, indent=2), encoding="utf-8")


def removing_changeset(root: Path) -> None:
    """A second contributor's changeset, on top of the first: a launch retracted, a sanctions action and a
    party merged into others (rows that other tables point to go), all from the synthetic log: the launch is its
    last (no month counted by a context event loses it), the others the first that are still there."""
    events = [e for path in sorted((root / "events").glob("*-synthetic-*.json")) for e in json.loads(path.read_text())["events"]]
    gone = {e["target"].split(":", 1)[1] for e in events if e["type"] == "retraction"}
    gone |= {e[side] for e in events if e["type"] == "merge" for side in ("from", "into")}

    def live(kind, field):
        return [e[field] for e in events if e["type"] == kind and e[field] not in gone]
    launches, sanctions, parties = live("launch", "launch_id"), live("sanction", "action_id"), live("party", "party_id")
    body = {"recorded_at": "2026-06-02T00:00:00Z", "author": "contributor", "message": "a retraction and merges", "events": [
        {"type": "retraction", "target": f"launch:{launches[-1]}", "reason": "Not a launch."},
        {"type": "merge", "record_type": "sanction", "from": sanctions[0], "into": sanctions[1], "reason": "The same action."},
        {"type": "merge", "record_type": "party", "from": parties[0], "into": parties[1], "reason": "The same party."}]}
    (root / "events" / "2026-06-02-contribution.json").write_text(json.dumps(body, indent=2), encoding="utf-8")


def child(size: int, command: str, root: Path) -> tuple[float, float, str]:
    """Run scripts/<command>.py on root in a process of its own (with the synthetic bounds): its time from
    start to exit, its peak memory (MiB) and what it printed."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--run", command, str(size), str(root)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    code = process.wait()
    seconds = time.perf_counter() - start
    if code:
        raise RuntimeError(f"{command} failed: {output}")
    return seconds, float(output.rsplit(PEAK, 1)[1]), output


def measure(size: int) -> list[tuple[str, float, float, str]]:
    """Run in a child process: every stage on a fresh synthetic log of `size` events."""
    from dprk_timeline import build, event_schema, snapshot
    from dprk_timeline.expectations import run_on_package
    from dprk_timeline.helper import Helper
    from dprk_timeline.replay import Replay

    rows = []

    def stage(name, function):
        start = time.perf_counter()
        result, note = function()
        rows.append((name, time.perf_counter() - start, peak_mib(), note))
        return result

    with tempfile.TemporaryDirectory() as folder, synthetic_bounds(size):
        root = Path(folder)
        staging = root / "staging"
        stage("generate the log (not a check)", lambda: (generate(root, size), f"{size} events"))
        staging.mkdir()
        keys = root / "keys"  # the tables' sort keys, which only the snapshot reads
        keys.mkdir()
        everything = AllPeak().start()  # the rebuild's processes together, until its tables are written
        total = time.perf_counter()

        # as build.run does: a helper forked first (it draws the charts), then layers 1 and 2 in one pass, each
        # changeset replayed as soon as it is checked, then the tables written into the staging folder
        helper = Helper()
        engine, folding = Replay(), [0.0]

        def fold(changeset):
            start = time.perf_counter()
            engine.run([changeset], consume=True)
            folding[0] += time.perf_counter() - start
        with build.without_gc(), WorkersPeak() as workers:
            changesets, problems, folded = build.read_and_fold(root, set(), fold)
        assert folded, "the log was not read in one pass"
        seconds = time.perf_counter() - total
        rows.append(("1. event files", seconds - folding[0], peak_mib(), f"{len(problems)} problems; read in one "
                     "pass with layer 2, which replays each changeset once it is checked (peak: of the pass)"
                     + worked(workers, "schemas checked by a forked process")))
        rows.append(("2. log integrity (replay)", folding[0], peak_mib(), f"{len(engine.problems)} problems"))
        state = engine.state

        def render():
            with build.without_gc():
                files, tables, summaries = build.render_package(state, helper, staging, keys, engine.claims_of)
            helper.close()
            return (files, tables, summaries), f"{sum(table.rows for table in tables.values())} rows"
        files, tables, summaries = stage("render tables and charts", render)
        seconds = time.perf_counter() - total
        rows.append((REBUILD, seconds, everything.stop(), f"the tables written, before layers 3 to 5 check them; memory: "
                     f"all its processes together (this one alone peaked at {peak_mib():.0f} MiB)"))

        def check_tables():
            with WorkersPeak() as workers:
                count, problems = build.validate_package(staging)
            return None, f"{count} rows, {len(problems)} problems" + worked(workers, "two processes")
        stage("3. tables (frictionless)", check_tables)

        def gx():  # as the main job's worker process runs it (here, to time it alone)
            count, problems, facts = run_on_package(staging)
            return facts, f"{count} expectations, {len(problems)} failed (bounds per year widened for " \
                          "synthetic data)" + (f"; first: {problems[0]}" if problems else "")
        facts = stage("4. expectations (GX)", gx)
        stage("5. drift (compare)", lambda: (None, f"{len(build.committed_drift(staging, files))} problems"))
        rows.append((CHECKED, time.perf_counter() - total, peak_mib(), ""))
        cache = root / ".cache" / "snapshots"
        stage("save the verified snapshot", lambda: (
            snapshot.save(cache, root / "events", changesets, engine, size, files, tables, facts, summaries),
            f"{sum(p.stat().st_size for p in cache.iterdir()) / 2**20:.0f} MiB"))
        build.write_files(root, files)  # what a contributor's checkout holds: the committed outputs
        del engine, state, changesets, files, tables, facts, summaries

        # The contributor adds a changeset, rebuilds (scripts/build.py) and commits; CI checks (scripts/check.py).
        # Each runs as its own process, as it would, its time from start to exit.
        # Then another, which takes records out (a retraction, merges).
        new_changeset(root, size)
        for add, what in ((None, ""), (removing_changeset, ", retract and merge")):
            if add:
                add(root)
            for command, name in (("build", "contributor build (1-4, writes)"), ("check", "contributor check (1-5)")):
                seconds, peak, output = child(size, command, root)
                if "from a verified snapshot" not in output:
                    raise RuntimeError(f"{command} did not use the snapshot: {output}")
                rows.append((name + what, seconds, peak, "a new changeset, on the verified snapshot; a process of its own"))

        def plain_jsonschema():
            validator = event_schema.validators()[1]
            count = 0
            for path in sorted((root / "events").glob("*.json")):
                for event in json.loads(path.read_text())["events"]:
                    validator.is_valid(event)
                    count += 1
                if count >= BASELINE_EVENTS:
                    return None, f"{count} events (the first; it grows linearly, about {size / count:.0f}x for all)"
            return None, f"{count} events"
        stage("baseline: plain jsonschema", plain_jsonschema)

        def plain_frictionless():
            from frictionless import validate
            report = validate(str(staging / "datapackage.json"))
            return None, "valid" if report.valid else f"{len(report.flatten(['type']))} errors"
        stage("baseline: frictionless validate", plain_frictionless)
    return rows


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({model}), {memory:.0f} GiB, Python {platform.python_version()}"


def calibration() -> float:
    """Seconds for a fixed single-thread loop (3 million dictionary writes): this machine's speed changes from
    hour to hour, and a run's figures are read against it."""
    start = time.perf_counter()
    written = {}
    for i in range(3_000_000):
        written[i & 1023] = str(i)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run", nargs=3, metavar=("COMMAND", "SIZE", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    if args.run:
        from dprk_timeline.cli import main as command
        name, size, root = args.run
        everything = AllPeak().start()  # with the processes it forks (expectations, charts)
        with synthetic_bounds(int(size)):
            code = command([name, "--root", root])
        # and never less than this program's own peak (from /proc: getrusage would count the moment before exec,
        # a copy of the benchmark), which sampling may miss
        hwm = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0])
        print(f"{PEAK}{max(everything.stop(), hwm / 1024):.1f}")
        return code
    print(f"machine: {machine()}")
    print(f"{'events':>9}  {'stage':<50} {'seconds':>8} {'peak MiB':>9}  note")
    totals = {}
    for size in args.sizes:
        print(f"{size:>9}  {'calibration loop (the machine speed: not a check)':<50} {calibration():>8.2f}", flush=True)
        done = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True)
        if done.returncode:
            print(f"{size:>9}  failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
            continue
        for name, seconds, peak, note in json.loads(done.stdout.strip().splitlines()[-1]):
            print(f"{size:>9}  {name:<50} {seconds:>8.2f} {peak:>9.0f}  {note}")
            totals[size, name] = (seconds, peak)
    print()
    for size in args.sizes:
        if (size, CHECKED) not in totals:
            continue
        line = f"{size:>9} events:"
        for name in (REBUILD, CHECKED):
            seconds, peak = totals[size, name]
            line += f" {name} {seconds:.1f} s, peak {peak / 1024:.2f} GiB"
            if (size // 10, name) in totals:
                line += f" ({seconds / totals[size // 10, name][0]:.1f}x the time of 10x fewer events)"
            line += ";"
        contributor = [totals.get((size, f"contributor check (1-5){what}")) for what in ("", ", retract and merge")]
        if all(contributor):
            line += f" contributor check {contributor[0][0]:.1f} s ({contributor[1][0]:.1f} s retracting and merging)"
        print(line)
    print(f"calibration loop at the end: {calibration():.2f} s")
    print("targets: 10^6 events rebuilt in <= 30 s and <= 2 GiB; 10x the events in <= 12x the time; "
          "contributor check on 10^6 events in <= 10 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
