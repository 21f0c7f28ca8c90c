"""Command-line entry points: scripts/build.py, check.py, import.py, release.py and export.py call main()."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from .build import LAYERS, run
from .dates import day_option
from .outputs import OutputError
from .paths import ROOT
from .problems import CheckFailed
from .render.markdown import code_span, plain


def _instant(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time like 2026-11-22T03:00:00Z") from None
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} is beyond the years a UTC time can hold") from None


def parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"scripts/{command}.py", description=DESCRIPTIONS[command])
    if command == "build":
        p.add_argument("--as-of", type=_instant, metavar="TIME",
                       help="only changesets recorded by this UTC time (what the dataset held then)")
        p.add_argument("--reported-by", type=day_option, metavar="DATE",
                       help="only what sources published by this date said (what was publicly claimed then)")
        p.add_argument("--out", type=Path, metavar="DIR", help="write the package here (required with --as-of/--reported-by)")
    elif command == "check":
        p.add_argument("--base", metavar="REV",
                       help="git revision whose changesets must be unchanged (append-only), e.g. origin/main")
    elif command == "import":
        from .importers import IMPORTERS

        upstreams = p.add_subparsers(dest="importer", required=True, metavar="UPSTREAM")
        for name, importer in IMPORTERS.items():
            sub = upstreams.add_parser(name, help=(importer.__doc__ or "").split("\n")[0])
            sub.add_argument("path", nargs="?", type=Path, default=importer.DEFAULT,
                             help="the upstream file or folder (default: %(default)s)")
            sub.add_argument("--author", default=f"dprk-timeline {name} importer", help="author of the changeset")
            sub.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
            importer.arguments(sub)
    elif command == "update":
        p.add_argument("upstreams", nargs="*", metavar="UPSTREAM", help="which upstreams (default: all in the config)")
        p.add_argument("--from", dest="source", type=Path, metavar="DIR",
                       help="read each upstream's files from DIR/<upstream>/ instead of downloading them")
        p.add_argument("--retrieved-at", type=_instant, metavar="TIME", help="with --from: when the files were "
                       "retrieved, UTC (default: now); it dates OFAC's changes")
        p.add_argument("--accept-shrink", action="store_true", help="accept a download much smaller than what the "
                       "log holds (the upstream really shrank)")
        p.add_argument("--cache", type=Path, metavar="DIR", help="the upstream cache (default: ~/.cache/dprk-timeline"
                       "/upstream, or $DPRK_TIMELINE_CACHE/upstream)")
        p.add_argument("--config", type=Path, default=ROOT / "upstreams.toml", help="the upstream addresses "
                       "(default: %(default)s)")
    elif command == "release":
        p.add_argument("version", help="MAJOR.MINOR.PATCH")
        p.add_argument("--date", type=day_option, metavar="DATE",
                       help="the release's date (default: today, UTC); a version released before keeps its date")
        p.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the release files (default: %(default)s)")
    elif command == "export":
        p.add_argument("--out", type=Path, default=ROOT / "dist", help="folder to write to (default: %(default)s)")
    if command != "import":  # (an importer's parser has its own)
        p.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    return p


DESCRIPTIONS = {
    "build": "Rebuild data/, charts/, datapackage.json and CODEBOOK.md from events/ and run every check (the main "
             "job). With --as-of or --reported-by, write a past state of the package to --out instead.",
    "check": "Check events/ and the committed data/ without writing them (what CI runs on a pull request).",
    "import": "Append a changeset with what an upstream snapshot adds, changes or removes. Importing the same "
              "snapshot again appends nothing.",
    "release": "Cut release VERSION: check that the bump matches the changes since the last release (Data Package "
               "versioning), write its CHANGELOG section, set the version and date in datapackage.json, CITATION.cff "
               "and .zenodo.json, rebuild, and build dist/ (zip, workbook, SQLite, JSON, SHA256SUMS). Run again, it "
               "rebuilds the same dist/.",
    "update": "Fetch each upstream from its official address (upstreams.toml), check and cache the files, and "
              "append a changeset for each upstream that changed; prints what changed, and exits 0 with nothing to "
              "do when nothing did.",
    "export": "Write the package as a SQLite database (keys, indexes, views) with Datasette's metadata, and as one "
              "JSON file.",
}


def summary(result) -> str:
    rows = result.rows
    return (f"{len(rows)} tables, {sum(rows.values())} rows: {rows['launches']} launches, "
            f"{rows['firings']} missiles, {rows['claims']} claims, {rows['nuclear_tests']} nuclear tests, "
            f"{rows['statements']} statements, "
            f"{rows['sanctions']} sanctions actions, {rows['parties']} parties, {rows['sources']} sources")


def import_upstream(args) -> int:
    """Run one importer and append the changeset it plans."""
    from .importers import IMPORTERS
    from .importers.common import UpstreamError
    from .importing import append_changeset, current_state

    state, changesets = current_state(args.root)
    try:
        plan = IMPORTERS[args.importer].plan(args.path, state, args)
    except UpstreamError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for line in plan.report:
        print(f"warning: {line}")
    for note in plan.notes:
        print(f"note: {note}")
    if not plan.events:
        print(f"nothing to import: the log already holds {plan.what}")
        return 0
    path = append_changeset(args.root, plan, args.author, changesets)
    print(f"wrote {shown(path, args.root)}: {len(plan.events)} events; {plan.summary}")
    print("next: run scripts/build.py to rebuild data/, then commit both")
    return 0


def release(args) -> int:
    from . import release as releases

    try:
        plan = releases.plan(args.root, args.version, args.date)
    except releases.ReleaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    run(args.root)  # the committed package must pass every check before anything is written
    if not plan["again"]:
        releases.write_metadata(args.root, plan)
        run(args.root, write=True)
    files = releases.build_dist(args.root, plan, args.out)
    what = "rebuilt the files of" if plan["again"] else "released"
    print(f"{what} {plan['version']} ({plan['date']}):")
    for path in files:
        print(f"  {shown(path, args.root)}")
    if not plan["again"]:
        print("next: review the CHANGELOG section, then commit CHANGELOG.md, CITATION.cff, .zenodo.json, "
              "schemas/, datapackage.json and CODEBOOK.md")
    return 0


def export(args) -> int:
    from .export import to_datasette_metadata, to_json, to_sqlite

    args.out.mkdir(parents=True, exist_ok=True)
    to_sqlite(args.root, args.out / "dprk-timeline.sqlite")
    to_json(args.root, args.out / "dprk-timeline.json")
    metadata = args.out / "dprk-timeline.datasette.json"
    to_datasette_metadata(args.root, metadata)
    print(f"wrote {args.out / 'dprk-timeline.sqlite'}, {args.out / 'dprk-timeline.json'} and {metadata}")
    return 0


def shown(path: Path, root: Path) -> str:
    from .log import display_path
    return display_path(path, root)


def job_summary(failed: CheckFailed) -> None:
    """On GitHub Actions, list the problems in the job summary as a table a contributor can read."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    lines = [f"### dprk-timeline check failed at layer {LAYERS.index(failed.layer) + 1}: {failed.layer}", "",
             "| file | event | field | reason |", "|---|---|---|---|"]
    lines += [f"| {code_span(p.file)} | {code_span(p.event)} | {code_span(p.pointer)} | {plain(p.reason)} |"
              for p in failed.problems]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def report_failure(failed: CheckFailed, command: str) -> None:
    job_summary(failed)
    done = LAYERS.index(failed.layer)
    for n, layer in enumerate(LAYERS[:done], start=1):
        print(f"{n}. {layer:<14} ok", flush=True)
    print(f"{done + 1}. {failed.layer:<14} FAILED: {len(failed.problems)} problem(s)", flush=True)
    for problem in failed.problems:
        print(str(problem), file=sys.stderr)
    print("nothing was written" if command in ("build", "import") else "checks failed", file=sys.stderr)


def build_or_check(command: str, args) -> int:
    if command == "build":
        if (args.as_of or args.reported_by) and not args.out:
            print("error: --as-of and --reported-by write a past state to --out DIR, never over data/", file=sys.stderr)
            return 2
        if args.out and Path(args.out).resolve() == Path(args.root).resolve():
            print(f"error: --out {args.out} is the checkout's own package; give another folder", file=sys.stderr)
            return 2
        result = run(args.root, write=not args.out, out=args.out, as_of=args.as_of, reported_by=args.reported_by)
    else:
        result = run(args.root, base=args.base)
    for note in result.notes:
        print(f"note: {note}")
    for n, (layer, status, what) in enumerate(result.layers, start=1):
        print(f"{n}. {layer:<14} {status:<7} {what}")
    where = args.out if command == "build" and args.out else "data/, charts/, datapackage.json, CODEBOOK.md and README"
    print(f"{'wrote' if command == 'build' else 'checked'} {where}: {summary(result)}")
    return 0


def update_upstreams(args) -> int:
    from .update import UpdateError, update

    try:
        lines = update(args.root, args.upstreams, args.source, args.cache, args.config,
                       args.retrieved_at, args.accept_shrink)
    except UpdateError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    if any("->" in line for line in lines):
        print("next: run scripts/build.py to rebuild data/, then commit both")
    return 0


COMMANDS = {"import": import_upstream, "update": update_upstreams, "release": release, "export": export}


def main(argv: list[str]) -> int:
    command, args = argv[0], parser(argv[0]).parse_args(argv[1:])
    try:
        if command in COMMANDS:
            return COMMANDS[command](args)
        return build_or_check(command, args)
    except CheckFailed as failed:
        report_failure(failed, command)
        return 1
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # an unexpected failure still gets one line, not a traceback
        if os.environ.get("DPRK_DEBUG"):
            raise
        print(f"error: {type(err).__name__}: {err} (set DPRK_DEBUG=1 for the traceback)", file=sys.stderr)
        return 2
