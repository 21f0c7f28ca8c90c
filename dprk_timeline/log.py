"""The event log: changeset files in events/, read strictly and put in log order.

The log's order is (recorded_at, file name, position in the file). An event's ID is
<changeset>/<position> (from 1) or <changeset>/<id> when the event gives an explicit id.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .jsonio import JSONInputError, loads_strict
from .problems import Problem

NAME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class Changeset:
    name: str
    file: str                 # path as shown in messages, relative to the checkout
    body: dict
    events: list[Event] = field(default_factory=list)

    @property
    def recorded_at(self) -> str:
        return self.body["recorded_at"]


@dataclass
class Event:
    changeset: Changeset
    position: int             # 1-based position in the changeset
    body: dict

    @property
    def type(self) -> str:
        return self.body["type"]

    @property
    def id(self) -> str:
        return f"{self.changeset.name}/{self.body.get('id', self.position)}"

    @property
    def label(self) -> str:
        return f"event {self.position}"


def display_path(path: Path, root: Path) -> str:
    """The path relative to the checkout, as given (a link is named, not what it points to)."""
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return path.as_posix()


def read_changeset(path: Path, root: Path) -> tuple[Changeset | None, list[Problem]]:
    """Read one file. Returns the changeset (None if unreadable) and JSON-level problems."""
    shown = display_path(path, root)
    problems = []
    if not NAME.match(path.stem):
        problems.append(Problem("json", shown, "file name must be YYYY-MM-DD-words.json "
                                "(lower-case letters, digits and single hyphens)", "changeset"))
    try:
        body = loads_strict(path.read_bytes())
    except JSONInputError as err:
        return None, problems + [Problem("json", shown, str(err), "changeset")]
    except OSError as err:
        return None, problems + [Problem("json", shown, f"cannot read file: {err.strerror}", "changeset")]
    if not isinstance(body, dict):
        return None, problems + [Problem("json", shown, "a changeset is a JSON object", "changeset")]
    return Changeset(path.stem, shown, body), problems


def attach_events(changeset: Changeset) -> None:
    """Make the events of a (schema-valid) changeset."""
    changeset.events = [Event(changeset, position, body)
                        for position, body in enumerate(changeset.body["events"], start=1)]


def changeset_paths(root: Path) -> tuple[list[Path], list[Problem]]:
    """The changeset files of root/events, in name order, and a problem for anything else there (a stray file
    is an error, not ignored)."""
    directory = root / "events"
    if not directory.is_dir():
        return [], [Problem("json", "events/", "no such folder: the log is the events/ folder of the checkout "
                                               "(or of --root)", "changeset")]
    paths, problems = [], []
    for path in sorted(directory.iterdir()):
        if path.is_symlink():
            problems.append(Problem("json", display_path(path, root), "is a link: only regular changeset files "
                                                                      "belong in events/", "changeset"))
        elif path.is_file() and path.suffix == ".json":
            paths.append(path)
        elif path.name != "README.md" and (not path.name.startswith(".") or path.suffix == ".json"):
            problems.append(Problem("json", display_path(path, root),
                                    "only changeset .json files belong in events/", "changeset"))
    return paths, problems


def in_log_order(changesets: list[Changeset]) -> list[Changeset]:
    return sorted(changesets, key=lambda c: (c.recorded_at, c.name))
