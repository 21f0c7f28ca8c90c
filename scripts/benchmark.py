#!/usr/bin/env python3
"""Benchmark: synthetic logs with the real mix of event types, through the main job and the check, against
plain frictionless and plain jsonschema on the same data, in one run.

    .venv/bin/python scripts/benchmark.py                 # 10^3, 10^4 and 10^5 events, and the dataset
    .venv/bin/python scripts/benchmark.py --sizes 1000000 # or any sizes

Each command runs as a process of its own, timed from start to exit, with its own peak resident memory.
For each size: the main job (scripts/build.py: rebuild, layers 1 to 5, write), the check
(scripts/check.py: the same, writing nothing), `frictionless validate datapackage.json` of the package
the build wrote, and the log's events through plain jsonschema. Then the committed dataset's check
against frictionless (medians of three). docs/benchmark.md says what the figures mean. Synthetic logs
pass every check, as a real log does; only the expectations' bounds per year are widened for them
(synthetic_bounds): they hold thousands of launches a year.
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    from dprk_timeline.checks import expectations as gx  # derived_frames reads these module constants when it runs

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


def run_timed(command: list[str]) -> tuple[float, float]:
    """Seconds from start to exit of a command run as a process of its own, and its peak resident MiB (os.wait4
    gives that process's own, where getrusage would give the largest child of the benchmark so far)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return seconds, usage.ru_maxrss / 1024


PYTHON = sys.executable
FRICTIONLESS = str(Path(sys.executable).with_name("frictionless"))
HERE = Path(__file__).resolve()


def jsonschema_baseline(root: Path) -> None:
    """Every event of the log through plain jsonschema (its own validator, formats on): the baseline of layer 1."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {}
    for path in sorted((ROOT / "schemas" / "events").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schemas[schema["$id"]] = schema
    registry = Registry().with_resources((uri, Resource.from_contents(s)) for uri, s in schemas.items())
    validators = {uri: Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
                  for uri, schema in schemas.items()}
    for path in sorted((root / "events").glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        validators["urn:dprk-timeline:events:changeset"].validate(body)
        for event in body["events"]:
            validators[f"urn:dprk-timeline:events:{event['type']}"].validate(event)


def measure(size: int, folder: Path) -> dict[str, tuple[float, float]]:
    """The figures of one size of synthetic log (written into folder)."""
    generate(folder, size)
    run = [PYTHON, str(HERE), "--run"]
    return {"build": run_timed(run + ["build", str(size), str(folder)]),
            "check": run_timed(run + ["check", str(size), str(folder)]),
            "frictionless": run_timed([FRICTIONLESS, "validate", str(folder / "datapackage.json")]),
            "jsonschema": run_timed(run + ["jsonschema", str(size), str(folder)])}


def median_of(command: list[str], times: int = 3) -> tuple[float, float]:
    runs = sorted(run_timed(command) for _ in range(times))
    return runs[len(runs) // 2]


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
    parser.add_argument("--run", nargs=3, metavar=("COMMAND", "SIZE", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:  # one measured command, in a process of its own
        name, size, root = args.run
        if name == "jsonschema":
            jsonschema_baseline(Path(root))
            return 0
        from dprk_timeline.cli import main as command
        with synthetic_bounds(int(size)):
            return command([name, "--root", root])
    print(f"machine: {machine()}")
    print(f"calibration loop (3 million dictionary writes; lower is a faster moment): {calibration():.2f} s\n")
    print("| events | build and check (1-5) | check (1-5) | plain frictionless | check / frictionless "
          "| plain jsonschema |")
    print("|---|---|---|---|---|---|")
    figures = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="dprk-benchmark-") as folder:
            f = figures[size] = measure(size, Path(folder))
        print(f"| {size:,} | {f['build'][0]:.1f} s, {f['build'][1]:.0f} MiB | {f['check'][0]:.1f} s, "
              f"{f['check'][1]:.0f} MiB | {f['frictionless'][0]:.1f} s, {f['frictionless'][1]:.0f} MiB | "
              f"{f['check'][0] / f['frictionless'][0]:.2f} | {f['jsonschema'][0]:.1f} s |", flush=True)
    check, plain = median_of([PYTHON, str(ROOT / "scripts" / "check.py")]), \
        median_of([FRICTIONLESS, "validate", str(ROOT / "datapackage.json")])
    print(f"| the dataset ({events_in(ROOT):,}) | | {check[0]:.1f} s, {check[1]:.0f} MiB | {plain[0]:.1f} s, "
          f"{plain[1]:.0f} MiB | {check[0] / plain[0]:.2f} | |\n")
    for size in args.sizes:
        if size // 10 in figures:
            growth = {what: figures[size][what][0] / figures[size // 10][what][0] for what in ("build", "check")}
            print(f"from {size // 10:,} to {size:,} events: build and check {growth['build']:.1f}x, "
                  f"check {growth['check']:.1f}x the time")
    print(f"calibration loop at the end: {calibration():.2f} s")
    return 0


def events_in(root: Path) -> int:
    return sum(len(json.loads(path.read_text(encoding="utf-8"))["events"]) for path in (root / "events").glob("*.json"))


if __name__ == "__main__":
    sys.exit(main())
