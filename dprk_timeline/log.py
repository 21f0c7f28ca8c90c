"""The event log: changeset files in events/, read strictly and put in log order.

The log's order is (recorded_at, file name, position in the file). An event's ID is
<changeset>/<position> (from 1) or <changeset>/<id> when the event gives an explicit id.
"""
import operator
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from .jsonio import JSONInputError, loads_strict
from .problems import Problem

NAME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")
# Fields whose words repeat from event to event (types, kinds, stances, units, attributes, the IDs of sources
# and actors, claims' values, original texts and source records): kept once in memory as the files are read,
# rather than once per event and claim, which is most of the memory of a large log's records and claims.
REPEATED = frozenset({"type", "source", "actor", "claimant", "authority", "parent", "kind", "stance", "channel",
                      "action", "date_precision", "topic", "unit", "country", "nationality", "programme",
                      "legal_basis", "publisher", "attribute", "qualifier", "precision", "value", "text",
                      "source_record"})


def pickled_as_values(cls):
    """Pickle a slotted dataclass as its class and the values of its fields, in order: pickle would otherwise
    write the name of every field with its value, most of the size of the millions of claims, changes and
    their events that a snapshot holds."""
    values = operator.attrgetter(*(f.name for f in fields(cls)))
    cls.__reduce__ = lambda self: (cls, values(self))
    return cls


@pickled_as_values
@dataclass(slots=True)
class Event:
    changeset: "Changeset"
    position: int             # 1-based position in the changeset
    type: str
    body: dict | None         # the event as read; the replay lets it go once it has folded it in
    explicit_id: str | None = None  # the event's own `id`, if it gives one

    @property
    def id(self) -> str:
        """<changeset>/<id> or <changeset>/<position>: made when asked (a million events' IDs held as text would
        take 80 MB, and most are asked for once, when the tables are written)."""
        return f"{self.changeset.name}/{self.position if self.explicit_id is None else self.explicit_id}"

    @property
    def label(self) -> str:
        return f"event {self.position}"


@dataclass
class Changeset:
    name: str
    file: str                 # path as shown in messages, relative to the checkout
    body: dict
    events: list[Event] = field(default_factory=list)

    @property
    def recorded_at(self) -> str:
        return self.body["recorded_at"]


def display_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_changeset(path: Path, root: Path, raw: bytes | None = None) -> tuple[Changeset | None, list[Problem]]:
    """Read one file (or its bytes, when given). Returns the changeset (None if unreadable) and JSON-level
    problems."""
    shown = display_path(path, root)
    problems = []
    if not NAME.match(path.stem):
        problems.append(Problem("json", shown, "file name must be YYYY-MM-DD-words.json "
                                "(lower-case letters, digits and single hyphens)", "changeset"))
    try:
        raw = path.read_bytes() if raw is None else raw
        body = loads_strict(raw, REPEATED)
    except JSONInputError as err:
        return None, problems + [Problem("json", shown, str(err), "changeset")]
    except OSError as err:
        return None, problems + [Problem("json", shown, f"cannot read file: {err.strerror}", "changeset")]
    if not isinstance(body, dict):
        return None, problems + [Problem("json", shown, "a changeset is a JSON object", "changeset")]
    return Changeset(path.stem, shown, body), problems


def attach_events(changeset: Changeset) -> None:
    """Give each event of a (schema-valid) changeset its ID."""
    changeset.events = [
        Event(changeset, position, body["type"], body, body.get("id"))
        for position, body in enumerate(changeset.body["events"], start=1)
    ]


def changeset_files(directory: Path) -> list[Path]:
    """Every file in the log directory: all must be changesets (a stray file is an error, not ignored)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".") or p.suffix == ".json")


def in_log_order(changesets: list[Changeset]) -> list[Changeset]:
    return sorted(changesets, key=lambda c: (c.recorded_at, c.name))
