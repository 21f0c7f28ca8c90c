#!/usr/bin/env python3
"""Benchmark: synthetic logs with the real mix of event types, timed through every stage.

    .venv/bin/python scripts/benchmark.py                 # 10^3, 10^4 and 10^5 events
    .venv/bin/python scripts/benchmark.py --sizes 1000000 # or any sizes

Each size runs in its own process, so that its peak memory is its own. For each stage it prints the
time and the peak resident memory of the process so far, and, as baselines in the same run, the same
events through plain jsonschema and the same tables through plain frictionless validate. Synthetic
logs break the dataset's expectations on purpose (thousands of launches a year): the expectation
layer's time is measured all the same, and its problem count is printed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
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

# The mix of event types (per 1,000 events), after the real log's but with more of the launch events that
# make the most rows: claims and launches for the launch history, parties for the sanctions lists,
# statements for the reactions, and every way of changing the past (corrections; retractions of
# statements, launches and sanctions; merges of launches, sanctions and parties: the real log has one).
MIX = {"launch": 220, "claims": 80, "statement": 140, "party": 300, "sanction": 70, "correction": 89, "source": 60,
       "retraction": 18, "merge": 3, "context": 10, "actor": 10}
EVENTS_PER_CHANGESET = 1000
REBUILD, CHECKED = "full rebuild (1, 2, render)", "full rebuild and check (1-5)"
BASELINE_EVENTS = 100_000  # plain jsonschema takes about 10 minutes for 10^6 events: time the first 10^5


def generate(root: Path, size: int, seed: int = 1, per_changeset: int = EVENTS_PER_CHANGESET) -> None:
    """Write a synthetic log of `size` events into root/events, every reference resolving."""
    rng = random.Random(seed)
    events_dir = root / "events"
    events_dir.mkdir(parents=True)
    sources, actors, launches, statements, sanctions, parties = [], [], [], [], [], []
    per_day: dict[str, int] = {}
    kinds = [k for k, n in MIX.items() for _ in range(n)]
    changeset, number = [], 0

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

    for n in range(size):
        kind = "source" if not sources else "actor" if len(actors) < 3 else rng.choice(kinds)
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
        elif kind == "launch" or (kind == "claims" and not launches):
            day = f"{rng.randint(1984, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            per_day[day] = per_day.get(day, 0) + 1
            if per_day[day] > 999:
                continue
            lid = f"{day}-{per_day[day]}"
            launches.append(lid)
            add({"type": "launch", "launch_id": lid, "source": rng.choice(sources), "claimant": rng.choice(actors),
                 "claims": [{"attribute": "korea_date", "value": day},
                            {"attribute": "apogee_km", "original": {"text": "100 km", "value": rng.randint(20, 6000), "unit": "km"}},
                            {"attribute": "missile_count", "original": {"text": "2 missiles", "value": 2, "unit": "missiles"}}]})
        elif kind == "claims":
            add({"type": "claims", "launch_id": rng.choice(launches), "source": rng.choice(sources), "claimant": rng.choice(actors),
                 "claims": [{"attribute": "range_km", "original": {"text": "300 mi", "value": rng.randint(50, 900), "unit": "mi"}},
                            {"attribute": "launched_at", "value": "2020-01-01T22:52:00Z"}]})
        elif kind == "statement":
            sid = f"st-{n}"
            statements.append(sid)
            event = {"type": "statement", "statement_id": sid, "source": rng.choice(sources), "actor": rng.choice(actors),
                     "date": "2024-05-01", "stance": rng.choice(["condemnation", "concern", "threat"]),
                     "quote": "a short quote", "summary": "A synthetic statement."}
            if launches:
                event["launches"] = [rng.choice(launches)]
            add(event)
        elif kind == "party":
            pid = f"party-{n}"  # IDs from n: merges and retractions shorten the lists
            parties.append(pid)
            add({"type": "party", "party_id": pid, "name": f"PARTY {n}", "kind": "entity", "source": rng.choice(sources)})
        elif kind == "sanction" and parties:
            aid = f"action-{n}"
            sanctions.append(aid)
            add({"type": "sanction", "action_id": aid, "action": "designation", "authority": rng.choice(actors),
                 "date": "2024-04-01", "parties": rng.sample(parties, min(3, len(parties))), "source": rng.choice(sources),
                 "summary": "A synthetic designation."})
        elif kind == "correction" and statements:
            add({"type": "correction", "target": f"statement:{rng.choice(statements)}", "set": {"stance": "concern"},
                 "reason": "Synthetic correction.", "source": rng.choice(sources)})
        elif kind in ("retraction", "merge") and min(len(statements), len(launches), len(sanctions), len(parties)) > 10:
            pools = {"statement": statements, "launch": launches, "sanction": sanctions, "party": parties}
            if kind == "retraction":
                record_type = rng.choice(["statement", "statement", "launch", "sanction"])
                retired = pools[record_type].pop(rng.randrange(len(pools[record_type])))
                add({"type": "retraction", "target": f"{record_type}:{retired}", "reason": "Synthetic retraction."})
            else:
                record_type = rng.choice(["launch", "sanction", "party"])
                retired = pools[record_type].pop(rng.randrange(len(pools[record_type])))
                add({"type": "merge", "record_type": record_type, "from": retired, "into": rng.choice(pools[record_type]),
                     "reason": "Synthetic duplicate."})
        elif kind == "context":
            add({"type": "context", "context_id": f"ctx-{n}", "topic": "launch_count", "period_start": "2024-01-01",
                 "period_end": "2024-01-31", "value": 3, "unit": "launches", "claimant": rng.choice(actors),
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


def new_changeset(root: Path, size: int) -> None:
    """A contributor's changeset on top of the synthetic log: a source, a launch with claims, a statement."""
    events = [{"type": "source", "source_id": "contributed", "kind": "news_article", "publisher": "Synthetic News",
               "title": "A contributed report", "published": "2024-06-01", "url": "https://example.org/contributed"},
              {"type": "launch", "launch_id": "2024-06-01-999", "source": "contributed", "claimant": "actor-0",
               "claims": [{"attribute": "korea_date", "value": "2024-06-01"},
                          {"attribute": "apogee_km", "original": {"text": "60 km", "value": 60, "unit": "km"}}]},
              {"type": "statement", "statement_id": "contributed-statement", "source": "contributed", "actor": "actor-1",
               "date": "2024-06-01", "stance": "condemnation", "summary": "A contributed statement.",
               "launches": ["2024-06-01-999"]}]
    body = {"recorded_at": "2026-06-01T00:00:00Z", "author": "contributor", "message": "one new changeset",
            "events": events}
    (root / "events" / "2026-06-01-contribution.json").write_text(json.dumps(body, indent=2), encoding="utf-8")


def measure(size: int) -> list[tuple[str, float, float, str]]:
    """Run in a child process: every stage on a fresh synthetic log of `size` events."""
    from dprk_timeline import build, event_schema, snapshot
    from dprk_timeline.expectations import run as expectations
    from dprk_timeline.load import load_all
    from dprk_timeline.replay import Replay, replay

    rows = []

    def stage(name, function):
        start = time.perf_counter()
        result, note = function()
        rows.append((name, time.perf_counter() - start, peak_mib(), note))
        return result

    def layers_3_to_5(state, staging, prefix, started):
        def render():
            with build.without_gc():
                files = build.render_all(state)
            build.write_files(staging, files)
            rows = sum(content.count(b"\n") - 1 for name, content in files.items() if name.startswith("data/"))
            return files, f"{rows} rows"
        files = stage(f"{prefix}render tables and charts", render)
        rows.append((f"{prefix}rebuild (1, 2, render)" if prefix else REBUILD, time.perf_counter() - started, peak_mib(),
                     "the tables written, before layers 3 to 5 check them"))

        def tables():
            with WorkersPeak() as workers:
                count, problems = build.validate_package(staging)
            return None, f"{count} rows, {len(problems)} problems" + (
                f"; its worker processes peaked at {workers.peak:.0f} MiB together" if workers.peak else "")
        stage(f"{prefix}3. tables (frictionless)", tables)

        def gx():
            count, problems = expectations(load_all(staging))
            return None, f"{count} expectations, {len(problems)} failed (synthetic data)"
        stage(f"{prefix}4. expectations (GX)", gx)
        stage(f"{prefix}5. drift (compare)", lambda: (None, f"{len(build.committed_drift(staging, files))} problems"))

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cache = root / "cache"
        stage("generate the log (not a check)", lambda: (generate(root, size), f"{size} events"))
        total = time.perf_counter()

        def read():
            with build.without_gc():  # as build.run does
                changesets, problems = build.read_log(root)
            return changesets, f"{len(problems)} problems"
        changesets = stage("1. event files", read)

        def integrity():
            engine = Replay()
            with build.without_gc():
                state, problems = replay(changesets, start=engine, consume=True)  # as build.run does
            return (engine, state), f"{len(problems)} problems"
        engine, state = stage("2. log integrity (replay)", integrity)
        layers_3_to_5(state, root / "staging", "", total)
        rows.append((CHECKED, time.perf_counter() - total, peak_mib(), ""))
        stage("save the verified snapshot", lambda: (snapshot.save(cache, root / "events", changesets, engine, size),
                                                     f"{sum(p.stat().st_size for p in cache.iterdir()) / 2**20:.0f} MiB"))
        del engine, state, changesets
        gc.unfreeze()
        gc.collect()  # the contributor check starts from a fresh process's memory, as far as one can here

        new_changeset(root, size)
        total = time.perf_counter()

        def contributed():
            with build.without_gc():
                read, resumed, _, state, problems = build.read_and_replay(root, build.Result(), cache, None, None)
            assert resumed is not None, "the snapshot was not used"
            return state, f"{len(read)} changeset read, {len(problems)} problems"
        state = stage("contributor: 1-2 on the snapshot", contributed)
        layers_3_to_5(state, root / "staging-contributor", "contributor: ", total)
        rows.append(("contributor check (1-5)", time.perf_counter() - total, peak_mib(), "one new changeset"))
        staging = root / "staging"

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    print(f"machine: {machine()}")
    print(f"{'events':>9}  {'stage':<42} {'seconds':>8} {'peak MiB':>9}  note")
    totals = {}
    for size in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True)
        if done.returncode:
            print(f"{size:>9}  failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
            continue
        for name, seconds, peak, note in json.loads(done.stdout.strip().splitlines()[-1]):
            print(f"{size:>9}  {name:<42} {seconds:>8.2f} {peak:>9.0f}  {note}")
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
        contributor = totals.get((size, "contributor check (1-5)"))
        if contributor:
            line += f" contributor check {contributor[0]:.1f} s"
        print(line)
    print("targets: 10^6 events rebuilt in <= 30 s and <= 2 GiB; 10x the events in <= 12x the time; "
          "contributor check on 10^6 events in <= 10 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
