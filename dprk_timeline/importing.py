"""Running an importer: replay the log, ask the importer for its plan, and append the planned changeset.

A changeset is written only after it passed the same checks as a contributor's file (schema and log
integrity on the whole log with it), so an importer never leaves a broken or half-written file.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import log
from .build import LAYERS, read_log
from .checks.schema import check_changeset
from .importers.common import Plan
from .jsonio import dumps_canonical
from .problems import CheckFailed
from .replay.engine import replay
from .replay.state import State


def current_state(root: Path) -> tuple[State, list[log.Changeset]]:
    """The replayed log at root, which must pass layers 1 and 2."""
    changesets, problems = read_log(root)
    if problems:
        raise CheckFailed(LAYERS[0], problems)
    state, problems = replay(changesets)
    if problems:
        raise CheckFailed(LAYERS[1], problems)
    return state, changesets


def recorded_now(changesets: list[log.Changeset]) -> str:
    """Now, in UTC to the second; after the newest changeset, so the new one goes at the end of the log."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if changesets:
        latest = dt.datetime.fromisoformat(changesets[-1].recorded_at.replace("Z", "+00:00"))
        now = max(now, latest + dt.timedelta(seconds=1))
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def append_changeset(root: Path, plan: Plan, author: str, changesets: list[log.Changeset]) -> Path:
    """Check the planned changeset against the whole log, then write it as events/<date>-<stem>[-n].json."""
    recorded_at = recorded_now(changesets)
    body = {"recorded_at": recorded_at, "author": author, "message": f"Import of {plan.what}: {plan.summary}.",
            "events": plan.events}
    events_dir = Path(root) / "events"
    stem = f"{recorded_at[:10]}-{plan.stem}"
    name, n = stem, 1
    while (events_dir / f"{name}.json").exists():
        n += 1
        name = f"{stem}-{n}"
    path = events_dir / f"{name}.json"
    changeset = log.Changeset(name, log.display_path(path, Path(root)), body)
    problems = check_changeset(changeset)
    if problems:
        raise CheckFailed(LAYERS[0], problems)
    log.attach_events(changeset)
    _, problems = replay(log.in_log_order(changesets + [changeset]))
    if problems:
        raise CheckFailed(LAYERS[1], problems)
    events_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(dumps_canonical(body), encoding="utf-8")
    temporary.replace(path)
    return path
