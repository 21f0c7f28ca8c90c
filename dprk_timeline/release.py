"""Releases: check the version bump, write the CHANGELOG section, update the version everywhere, and
build dist/ byte for byte reproducibly.

The Data Package versioning recipe decides the bump, comparing the Table Schemas and the log with
what the last release held (schemas/released.json):
- MAJOR: a field or table removed, a field retyped, or a constraint tightened;
- MINOR: a new table or field, a loosened constraint, or new records;
- PATCH: only corrections, retractions and merges.
A release is dated the day it is cut (or --date); cutting the same version again keeps that date, so it
gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

from .build import read_log
from .jsonio import dumps_canonical
from .paths import PACKAGE_BASE, SCHEMAS
from .registry import EVENT_TYPES, TABLES, table_schema

RELEASED = SCHEMAS / "released.json"
# A release zip stands alone: the data and their descriptions, the log they are built from, and the code to
# load, rebuild or time-travel them (not the tests, not CI).
ZIP_FILES = ["datapackage.json", "README.md", "CHANGELOG.md", "CITATION.cff", "CODEBOOK.md", "CONTRIBUTING.md",
             "LICENSE", "LICENSE-DATA.md", "pyproject.toml", "requirements.txt"]
ZIP_FOLDERS = ["data", "charts", "events", "schemas", "docs", "scripts", "dprk_timeline"]
FIXES = {"correction", "retraction", "merge"}  # events that fix records rather than add them: a PATCH release
FIX_NOTES = {EVENT_TYPES[kind].notes for kind in FIXES}


class ReleaseError(ValueError):
    pass


def schema_fingerprint() -> dict:
    """What a release promises about its tables: fields with types and constraints, primary keys."""
    return {name: {"primaryKey": table_schema(name)["primaryKey"],
                   "fields": {f["name"]: {"type": f["type"], "constraints": f.get("constraints", {})}
                              for f in table_schema(name)["fields"]}} for name in TABLES}


def tightened(old: dict, new: dict) -> bool:
    """Does the new constraint set admit less than the old one?"""
    for key, value in new.items():
        if key not in old:
            return True
        before = old[key]
        if key == "enum" and not set(before) <= set(value):
            return True
        if key in ("minimum", "minLength") and value > before:
            return True
        if key in ("maximum", "maxLength") and value < before:
            return True
        if key in ("required", "unique", "pattern") and value != before:
            return True
    return False


def schema_changes(old: dict, new: dict) -> tuple[list[str], list[str]]:
    """(breaking changes, additions) between two fingerprints."""
    breaking, added = [], []
    for table, spec in old.items():
        if table not in new:
            breaking.append(f"table {table} removed")
            continue
        if spec["primaryKey"] != new[table]["primaryKey"]:
            breaking.append(f"{table}: primary key changed")
        for name, field in spec["fields"].items():
            now = new[table]["fields"].get(name)
            if now is None:
                breaking.append(f"{table}.{name} removed or renamed")
            elif now["type"] != field["type"]:
                breaking.append(f"{table}.{name} retyped from {field['type']} to {now['type']}")
            elif tightened(field["constraints"], now["constraints"]):
                breaking.append(f"{table}.{name}: constraints tightened")
            elif now["constraints"] != field["constraints"]:
                added.append(f"{table}.{name}: constraints loosened")
        added += [f"{table}.{name} added" for name in new[table]["fields"] if name not in spec["fields"]]
    added += [f"table {table} added" for table in new if table not in old]
    return breaking, added


def bump(version: str, part: str) -> str:
    major, minor, patch = (int(x) for x in version.split("."))
    return {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0", "patch": f"{major}.{minor}.{patch + 1}"}[part]


def changes_since(root: Path, through: str) -> tuple[Counter, list[str]]:
    """Counts of what the changesets recorded after `through` did, and their correction reasons."""
    changesets, problems = read_log(root)
    if problems:
        raise ReleaseError(f"the log has problems; run scripts/build.py first ({problems[0]})")
    counts, by_reason = Counter(), {}
    for changeset in changesets:
        if changeset.recorded_at <= through:
            continue
        for event in changeset.events:
            kind = event.type
            counts[EVENT_TYPES[kind].notes] += 1
            if kind in FIXES:
                target = event.body.get("target") or f"{event.body['record_type']}:{event.body['from']}"
                by_reason.setdefault((kind, event.body["reason"]), []).append(target)
    reasons = []
    for (kind, reason), targets in by_reason.items():
        shown = ", ".join(targets[:5]) + (f" and {len(targets) - 5} more" if len(targets) > 5 else "")
        reasons.append(f"{len(targets)} {kind}{'s' if len(targets) > 1 else ''}, {reason} ({shown})")
    return counts, reasons


def plan(root: Path, version: str, date: str | None = None) -> dict:
    """Decide whether `version` is the right next version, and what the release holds."""
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version):
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    changesets, _ = read_log(root)
    if not changesets:
        raise ReleaseError("the log is empty: nothing to release")
    through = changesets[-1].recorded_at
    released = json.loads(RELEASED.read_text()) if RELEASED.exists() else None
    fingerprint = schema_fingerprint()
    if released and released["version"] == version:
        if released["through"] != through or released["tables"] != fingerprint:
            raise ReleaseError(f"{version} is already released and the log or schemas changed since: use a new version")
        return {"version": version, "date": released["date"], "through": through, "again": True, "required": None,
                "counts": Counter(), "reasons": [], "breaking": [], "added": []}
    previous_through = released["through"] if released else ""
    counts, reasons = changes_since(root, previous_through)
    breaking, added = schema_changes(released["tables"], fingerprint) if released else ([], [])
    if released:
        part = "major" if breaking else "minor" if added or any(k not in FIX_NOTES for k in counts) else \
            "patch" if counts else None
        if part is None:
            raise ReleaseError(f"nothing changed since {released['version']}")
        required = bump(released["version"], part)
        if version != required:
            why = "; ".join(breaking or added or [f"{n} {k}" for k, n in sorted(counts.items())][:3])
            raise ReleaseError(f"version {version} does not match the changes since {released['version']}: "
                               f"a {part.upper()} release, {required}, is required ({why})")
    else:
        required = None
    date = date or dt.datetime.now(dt.timezone.utc).date().isoformat()
    if date < through[:10]:
        raise ReleaseError(f"--date {date} is before the newest changeset ({through[:10]})")
    return {"version": version, "date": date, "through": through, "again": False, "required": required,
            "counts": counts, "reasons": reasons, "breaking": breaking, "added": added}


def changelog_section(release: dict, unreleased: str) -> str:
    lines = [f"## [{release['version']}] - {release['date']}", ""]
    if unreleased.strip():
        lines += [unreleased.strip(), ""]
    lines += ["### Records", ""]
    lines += [f"- {kind}: {n}" for kind, n in sorted(release["counts"].items())] or ["- no record changed"]
    if release["reasons"]:
        lines += ["", "### Corrections, retractions and merges", ""] + [f"- {r}" for r in release["reasons"]]
    if release["breaking"]:
        lines += ["", "### Breaking changes", ""] + [f"- {b}" for b in release["breaking"]]
    return "\n".join(lines) + "\n"


def update_changelog(path: Path, release: dict) -> None:
    text = path.read_text(encoding="utf-8")
    head, marker, rest = text.partition("## [Unreleased]")
    if not marker:
        raise ReleaseError(f"{path.name} has no '## [Unreleased]' section")
    unreleased, separator, older = rest.partition("\n## [")
    body = unreleased.strip("\n")
    section = changelog_section(release, body)
    path.write_text(head + "## [Unreleased]\n\n" + section + ("\n## [" + older if separator else ""), encoding="utf-8")


def update_citation(path: Path, release: dict) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^version: .*$', f'version: "{release["version"]}"', text)
    text = re.sub(r'(?m)^date-released: .*$', f'date-released: "{release["date"]}"', text)
    path.write_text(text, encoding="utf-8")


def credits(package: dict) -> str:
    return "; ".join(f"{u['publisher']}, {u['title']} (copy published {u['published']})"
                     for u in package.get("upstreams", []))


def zenodo(package: dict, release: dict) -> dict:
    """.zenodo.json: what Zenodo shows for the release, written for the data's users."""
    related = [{"identifier": u["path"], "relation": "isDerivedFrom", "resource_type": "dataset", "scheme": "url"}
               for u in package.get("upstreams", []) if u.get("path")]
    if package.get("homepage"):
        related.insert(0, {"identifier": package["homepage"], "relation": "isSupplementTo", "scheme": "url"})
    description = (f"{package['description']} Version {release['version']}, released {release['date']}. It carries "
                   f"facts from these upstream sources, which remain theirs to credit: {credits(package)}. "
                   "Statements and other claims name their source and its address in the sources table.")
    return {"title": package["title"], "upload_type": "dataset", "version": release["version"],
            "publication_date": release["date"], "description": description,
            "creators": [{"name": c["title"]} for c in package.get("contributors", [])],
            "license": package["licenses"][0]["name"].lower(), "keywords": package.get("keywords", []),
            "related_identifiers": related, "access_right": "open"}


def write_metadata(root: Path, release: dict) -> None:
    """Version and date into schemas/package.json, CITATION.cff, CHANGELOG.md, .zenodo.json, the README's
    citation, and schemas/released.json."""
    base = json.loads(PACKAGE_BASE.read_text(encoding="utf-8"))
    base["version"] = release["version"]
    PACKAGE_BASE.write_text(dumps_canonical(base), encoding="utf-8")
    update_changelog(root / "CHANGELOG.md", release)
    update_citation(root / "CITATION.cff", release)
    readme = root / "README.md"
    readme.write_text(re.sub(r"\(version [0-9]+\.[0-9]+\.[0-9]+\)", f"(version {release['version']})",
                             readme.read_text(encoding="utf-8")), encoding="utf-8")
    built = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))  # (its upstreams: generated)
    (root / ".zenodo.json").write_text(dumps_canonical(zenodo(base | {"upstreams": built.get("upstreams", [])}, release)),
                                       encoding="utf-8")
    RELEASED.write_text(dumps_canonical({"version": release["version"], "date": release["date"],
                                         "through": release["through"], "tables": schema_fingerprint()}),
                        encoding="utf-8")


def workbook_readme(package: dict, release: dict) -> list[str]:
    """The workbook's first sheet: what it is, through when, whose facts, the licence, and its sheets."""
    licence = package["licenses"][0]
    lines = [package["title"], f"Version {release['version']}, released {release['date']}.", "", package["description"],
             "", "Data through (first and last date of each table):"]
    lines += [f"  {r['name']}: {r['temporalCoverage'].replace('/', ' to ')}" for r in package["resources"]
              if r.get("temporalCoverage")]
    lines += ["", f"Upstream sources, to be credited: {credits(package)}.", "",
              f"Licence: {licence['title']} ({licence['path']}). How to cite: CITATION.cff and the README.", "",
              "Sheets, one per table (dates are dates; times are UTC; datapackage.json and CODEBOOK.md describe "
              "every column):"]
    return lines + [f"  {r['name']}: {r['title']}" for r in package["resources"]]


def sha256sums(files: dict[str, bytes]) -> bytes:
    """A SHA256SUMS file (as sha256sum writes it) of these contents by name."""
    return "".join(f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content in sorted(files.items())).encode()


def build_dist(root: Path, release: dict, out: Path) -> list[Path]:
    """dist/: the zip (which stands alone), the workbook, the SQLite and JSON exports, Datasette's metadata,
    and SHA256SUMS; the same bytes every time."""
    from .export import to_datasette_metadata, to_json, to_sqlite, to_xlsx, write_zip

    out.mkdir(parents=True, exist_ok=True)
    stem = f"dprk-timeline-{release['version']}"
    package = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    workbook = out / f"{stem}.xlsx"
    to_xlsx(root, workbook, workbook_readme(package, release), dt.datetime.fromisoformat(release["date"]))
    paths = [root / name for name in ZIP_FILES]
    for folder in ZIP_FOLDERS:
        paths += [p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    members = {p.relative_to(root).as_posix(): p.read_bytes() for p in paths} | {workbook.name: workbook.read_bytes()}
    members["SHA256SUMS"] = sha256sums(members)
    archive = out / f"{stem}.zip"
    write_zip(archive, [(f"{stem}/{name}", members[name]) for name in sorted(members)])
    to_sqlite(root, out / f"{stem}.sqlite")
    to_json(root, out / f"{stem}.json")
    to_datasette_metadata(root, out / f"{stem}.datasette.json")
    files = [archive, workbook, out / f"{stem}.sqlite", out / f"{stem}.json", out / f"{stem}.datasette.json"]
    (out / "SHA256SUMS").write_bytes(sha256sums({p.name: p.read_bytes() for p in files}))
    return files + [out / "SHA256SUMS"]
