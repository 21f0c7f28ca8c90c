"""Command-line entry points (scripts/build.py and scripts/check.py call these)."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from .build import LAYERS, run
from .paths import ROOT

UPSTREAM = ROOT.parent / "shared" / "upstream"
DEFAULT_CNS = UPSTREAM / "cns-via-nagix"
DEFAULT_UN = UPSTREAM / "un-sc-consolidated" / "consolidated_2026-02-27.xml"
DEFAULT_OFAC = UPSTREAM / "ofac-sdn-dprk"
from .problems import CheckFailed


def _instant(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time like 2026-11-22T03:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2022-01-31") from None


def parser(command: str) -> argparse.ArgumentParser:
    if command == "build":
        p = argparse.ArgumentParser(prog="scripts/build.py", description=(
            "Rebuild data/ and datapackage.json from events/ and run every check (the main job). "
            "With --as-of or --reported-by, write a past state of the package to --out instead."))
        p.add_argument("--as-of", type=_instant, metavar="TIME",
                       help="only changesets recorded by this UTC time (what the dataset held then)")
        p.add_argument("--reported-by", type=_date, metavar="DATE",
                       help="only what sources published by this date said (what was publicly claimed then)")
        p.add_argument("--out", type=Path, metavar="DIR", help="write the package here (required with --as-of/--reported-by)")
    elif command == "import-cns":
        p = argparse.ArgumentParser(prog="scripts/import_cns.py", description=(
            "Append a changeset with what a snapshot of the CNS North Korea Missile Test Database (as derived by "
            "nagix/nk-missile-tests) adds or changes. Importing the same snapshot again appends nothing."))
        p.add_argument("folder", nargs="?", type=Path, default=DEFAULT_CNS,
                       help="folder with test.en.json, missile.en.json and facility.en.json (default: %(default)s)")
        p.add_argument("--commit", required=True, help="upstream commit of the snapshot (40 hex digits)")
        p.add_argument("--published", required=True, type=_date, help="date of that commit (YYYY-MM-DD)")
        p.add_argument("--author", default="dprk-timeline CNS importer", help="author of the changeset")
    elif command == "import-un":
        p = argparse.ArgumentParser(prog="scripts/import_un.py", description=(
            "Append a changeset with the DPRK (1718) entries of a UN Security Council Consolidated List XML file "
            "that the log does not hold yet. Importing the same file again appends nothing."))
        p.add_argument("file", nargs="?", type=Path, default=DEFAULT_UN, help="the XML file (default: %(default)s)")
        p.add_argument("--author", default="dprk-timeline UN list importer", help="author of the changeset")
    elif command == "import-ofac":
        p = argparse.ArgumentParser(prog="scripts/import_ofac.py", description=(
            "Append a changeset with what the OFAC SDN snapshots in a folder (sdn_YYYY-MM-DDTHHMMZ.csv, North Korea "
            "related rows) add, change or remove, snapshot by snapshot. Snapshots already imported are skipped."))
        p.add_argument("folder", nargs="?", type=Path, default=DEFAULT_OFAC, help="the folder (default: %(default)s)")
        p.add_argument("--author", default="dprk-timeline OFAC importer", help="author of the changeset")
    elif command == "release":
        p = argparse.ArgumentParser(prog="scripts/release.py", description=(
            "Cut release VERSION: check that the bump matches the changes since the last release (Data Package "
            "versioning), write its CHANGELOG section, set the version in datapackage.json, CITATION.cff and "
            ".zenodo.json, rebuild, and build dist/ (zip, SQLite, JSON, SHA256SUMS). Run again, it rebuilds the same dist/."))
        p.add_argument("version", help="MAJOR.MINOR.PATCH")
        p.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the release files (default: %(default)s)")
    elif command == "export":
        p = argparse.ArgumentParser(prog="scripts/export.py", description=(
            "Write the package as a SQLite database (keys, indexes, views) and as one JSON file."))
        p.add_argument("--out", type=Path, default=ROOT / "dist", help="folder to write to (default: %(default)s)")
    else:
        p = argparse.ArgumentParser(prog="scripts/check.py", description=(
            "Check events/ and the committed data/ without writing them (what CI runs on a pull request); "
            "only the snapshot cache in .cache/snapshots/ is written."))
        p.add_argument("--base", metavar="REV",
                       help="git revision whose changesets must be unchanged (append-only), e.g. origin/main")
    if command in ("build", "check"):
        p.add_argument("--full", action="store_true", help=(
            "read and replay the whole log even when a verified snapshot of its first changesets is saved in "
            ".cache/snapshots/ (the result is the same; a passing full run saves a fresh snapshot)"))
    p.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    return p


def summary(result) -> str:
    rows = result.rows
    return (f"{len(rows)} tables, {sum(rows.values())} rows: {rows['launches']} launches, "
            f"{rows['firings']} missiles, {rows['claims']} claims, {rows['statements']} statements, "
            f"{rows['sanctions']} sanctions actions, {rows['parties']} parties, {rows['sources']} sources")


def import_cns(args) -> int:
    import re

    from .importers import append_changeset, current_state, recorded_now
    from .importers.cns import ATTRIBUTION, SnapshotError, plan_import, read_snapshot

    if not re.fullmatch(r"[0-9a-f]{40}", args.commit):
        print(f"error: --commit {args.commit!r} is not a 40-digit hexadecimal commit", file=sys.stderr)
        return 2
    try:
        snapshot = read_snapshot(args.folder)
    except SnapshotError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for line in snapshot.report:
        print(f"warning: {line}")
    state, changesets = current_state(args.root)
    source = {
        "source_id": f"cns-missile-tests-{args.commit[:7]}", "kind": "research_dataset",
        "publisher": "James Martin Center for Nonproliferation Studies (CNS), for the Nuclear Threat Initiative; "
                     "derived by the nagix/nk-missile-tests repository",
        "title": "CNS North Korea Missile Test Database (nagix/nk-missile-tests data files)",
        "published": args.published, "url": "https://github.com/nagix/nk-missile-tests", "version": f"commit {args.commit}",
        "terms": "Facts from CNS/NTI, cited with the attribution; the repository is Apache-2.0; "
                 "CNS's description prose is not copied.",
        "attribution": ATTRIBUTION,
    }
    plan = plan_import(snapshot, state, source)
    for note in plan.notes:
        print(f"note: {note}")
    if not plan.events:
        print(f"nothing to import: the log already holds everything in {args.folder}")
        return 0
    body = {"recorded_at": recorded_now(changesets), "author": args.author,
            "message": (f"Import of the CNS North Korea Missile Test Database, snapshot {args.commit[:7]}: "
                        f"{plan.new_launches} new launches, {plan.new_claims} claims, {plan.corrections} corrections "
                        f"(revised upstream), {plan.retractions} retractions (removed upstream)."),
            "events": plan.events}
    path = append_changeset(args.root, f"{body['recorded_at'][:10]}-import-cns-{args.commit[:7]}", body, changesets)
    print(f"wrote {log_path(path, args.root)}: {len(plan.events)} events; {body['message'].split(': ', 1)[1]}")
    print("next: run scripts/build.py to rebuild data/, then commit both")
    return 0


def import_list(args, command: str) -> int:
    """The UN and OFAC list importers: read, plan, write one changeset."""
    from .importers import append_changeset, current_state, recorded_now

    state, changesets = current_state(args.root)
    if command == "import-un":
        from .importers.un import ListError, plan_import, read_list
        try:
            generated, entries, report = read_list(args.file)
        except ListError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        day = generated[:10]
        source = {"source_id": f"un-consolidated-list-{day}", "kind": "official_list_snapshot",
                  "publisher": "United Nations Security Council",
                  "title": "Security Council Consolidated List (XML)", "published": _instant(generated),
                  "version": f"generated {generated}", "terms": "Official public list of the United Nations.",
                  "attribution": "United Nations Security Council Consolidated List"}
        events, notes = plan_import(entries, state, source)
        what, stem = f"{len(entries)} DPRK entries of the UN list generated {generated}", f"import-un-{day}"
    else:
        from .importers.ofac import SnapshotError, plan_import
        try:
            events, report, notes = plan_import(args.folder, state)
        except SnapshotError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        what, stem = f"OFAC SDN snapshots in {args.folder.name}", "import-ofac"
    for line in report:
        print(f"warning: {line}")
    for note in notes:
        print(f"note: {note}")
    if not events:
        print(f"nothing to import: the log already holds the {what}")
        return 0
    counts = {}
    for event in events:
        key = event["type"] if event["type"] != "sanction" else event["action"]
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    body = {"recorded_at": recorded_now(changesets), "author": args.author,
            "message": f"Import of the {what}: {summary}.", "events": events}
    path = append_changeset(args.root, f"{body['recorded_at'][:10]}-{stem}", body, changesets)
    print(f"wrote {log_path(path, args.root)}: {summary}")
    print("next: run scripts/build.py to rebuild data/, then commit both")
    return 0


def release(args) -> int:
    from . import release as releases

    run(args.root)  # the committed package must pass every check before anything is written
    try:
        plan = releases.plan(args.root, args.version)
    except releases.ReleaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not plan["again"]:
        releases.write_metadata(args.root, plan)
        run(args.root, write=True)
    files = releases.build_dist(args.root, plan["version"], args.out)
    what = "rebuilt the files of" if plan["again"] else "released"
    print(f"{what} {plan['version']} ({plan['date']}):")
    for path in files:
        print(f"  {log_path(path, args.root)}")
    if not plan["again"]:
        print("next: review the CHANGELOG section, then commit CHANGELOG.md, CITATION.cff, .zenodo.json, "
              "schemas/, datapackage.json and CODEBOOK.md")
    return 0


def log_path(path: Path, root: Path) -> str:
    from .log import display_path
    return display_path(path, root)


def job_summary(failed: CheckFailed) -> None:
    """On GitHub Actions, list the problems in the job summary as a table a contributor can read."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [f"### dprk-timeline check failed at layer {LAYERS.index(failed.layer) + 1}: {failed.layer}", "",
             "| file | event | field | reason |", "|---|---|---|---|"]
    lines += [f"| {cell(p.file)} | {cell(p.event)} | {cell(p.pointer)} | {cell(p.reason)} |" for p in failed.problems]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    command, args = argv[0], parser(argv[0]).parse_args(argv[1:])
    travel = command == "build" and (args.as_of or args.reported_by)
    if travel and not args.out:
        print("error: --as-of and --reported-by write a past state to --out DIR, never over data/", file=sys.stderr)
        return 2
    try:
        if command == "import-cns":
            return import_cns(args)
        if command in ("import-un", "import-ofac"):
            return import_list(args, command)
        if command == "release":
            return release(args)
        if command == "export":
            from .export import to_json, to_sqlite
            args.out.mkdir(parents=True, exist_ok=True)
            to_sqlite(args.root, args.out / "dprk-timeline.sqlite")
            to_json(args.root, args.out / "dprk-timeline.json")
            print(f"wrote {args.out / 'dprk-timeline.sqlite'} and {args.out / 'dprk-timeline.json'}")
            return 0
        cache = Path(args.root) / ".cache" / "snapshots"
        if command == "build":
            result = run(args.root, write=not args.out, out=args.out, as_of=args.as_of, reported_by=args.reported_by,
                         cache=cache, full=args.full)
        else:
            result = run(args.root, base=args.base, cache=cache, full=args.full)
    except CheckFailed as failed:
        job_summary(failed)
        done = LAYERS.index(failed.layer)
        for n, layer in enumerate(LAYERS[:done], start=1):
            print(f"{n}. {layer:<14} ok", flush=True)
        print(f"{done + 1}. {failed.layer:<14} FAILED: {len(failed.problems)} problem(s)", flush=True)
        for problem in failed.problems:
            print(str(problem), file=sys.stderr)
        print("nothing was written" if command == "build" else "checks failed", file=sys.stderr)
        return 1
    except Exception as err:  # an unexpected failure still gets one line, not a traceback
        if os.environ.get("DPRK_DEBUG"):
            raise
        print(f"error: {type(err).__name__}: {err} (set DPRK_DEBUG=1 for the traceback)", file=sys.stderr)
        return 2
    for n, (layer, status, what) in enumerate(result.layers, start=1):
        print(f"{n}. {layer:<14} {status:<7} {what}")
    where = args.out if command == "build" and args.out else "data/, charts/, datapackage.json and CODEBOOK.md"
    print(f"{'wrote' if command == 'build' else 'checked'} {where}: {summary(result)}")
    return 0
