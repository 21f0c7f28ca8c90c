"""Importers: read an upstream snapshot, compare it with the log, append one changeset of what changed.

A changeset is written only after it passed the same checks as a contributor's file (schema and log
integrity on the whole log with it), so an importer never leaves a broken or half-written file.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from .. import event_schema, log
from ..build import read_log
from ..jsonio import dumps_canonical
from ..problems import CheckFailed
from ..replay import State, replay


def current_state(root: Path) -> tuple[State, list[log.Changeset]]:
    changesets, problems = read_log(root)
    if problems:
        raise CheckFailed("event files", problems)
    state, problems = replay(changesets)
    if problems:
        raise CheckFailed("log integrity", problems)
    return state, changesets


def recorded_now(changesets: list[log.Changeset]) -> str:
    """Now, in UTC to the second; after the newest changeset, so the new one goes at the end of the log."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if changesets:
        latest = dt.datetime.fromisoformat(changesets[-1].recorded_at.replace("Z", "+00:00"))
        now = max(now, latest + dt.timedelta(seconds=1))
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def append_changeset(root: Path, stem: str, body: dict, changesets: list[log.Changeset]) -> Path:
    """Check the new changeset against the whole log, then write events/<stem>[-n].json."""
    events_dir = Path(root) / "events"
    name, n = stem, 1
    while (events_dir / f"{name}.json").exists():
        n += 1
        name = f"{stem}-{n}"
    path = events_dir / f"{name}.json"
    raw = dumps_canonical(body).encode("utf-8")
    changeset = log.Changeset(name, log.display_path(path, Path(root)), body)
    problems = event_schema.check_changeset(changeset)
    if problems:
        raise CheckFailed("event files", problems)
    log.attach_events(changeset)
    _, problems = replay(log.in_log_order(changesets + [changeset]))
    if problems:
        raise CheckFailed("log integrity", problems)
    events_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_bytes(raw)
    temporary.replace(path)
    return path
