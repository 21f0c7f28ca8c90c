"""What every importer gives: the plan of one changeset, and a one-line error when its upstream cannot
be read."""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field


class UpstreamError(ValueError):
    """The upstream file cannot be read at all (missing, not in its format): one line, naming the file."""


@dataclass
class Plan:
    events: list[dict]         # the changeset's events: nothing when the log already holds the upstream
    stem: str                  # the changeset's name after its date (import-cns-a0cc658)
    what: str                  # what was imported, for the changeset's message ("the UN list generated ...")
    summary: str = ""          # what the events do ("3 new launches, 40 claims ..."); by default, counts_of them
    report: list[str] = field(default_factory=list)   # upstream fields and values the importer does not handle
    notes: list[str] = field(default_factory=list)    # what a maintainer should look at

    def __post_init__(self):
        self.summary = self.summary or counts_of(self.events)


def counts_of(events: list[dict]) -> str:
    """Counts of events by kind (sanctions actions by their action): '3 correction, 12 party'."""
    counts = {}
    for event in events:
        key = event["action"] if event["type"] == "sanction" else event["type"]
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def commit_option(text: str) -> str:
    """A command-line upstream commit (argparse type): 40 hexadecimal digits, or a one-line usage error."""
    if not re.fullmatch(r"[0-9a-f]{40}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a 40-digit hexadecimal commit")
    return text
