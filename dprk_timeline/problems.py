"""Problems found in the input, reported one per line: file, event, field, reason."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    layer: str           # which check found it: json, schema, integrity, table, expectation, drift
    file: str            # path relative to the checkout, e.g. events/2026-11-22-x.json
    reason: str
    event: str = ""      # "event 3" or "changeset"; empty for table-level problems
    pointer: str = ""    # JSON pointer inside the event (or a table field)

    def __str__(self) -> str:
        parts = [self.file]
        if self.event:
            parts.append(self.event)
        if self.pointer:
            parts.append(self.pointer)
        parts.append(self.reason)
        return ": ".join(parts)


class CheckFailed(Exception):
    """Raised with the problems of the first layer that failed."""

    def __init__(self, layer: str, problems: list[Problem]):
        self.layer = layer
        self.problems = problems
        super().__init__(f"{layer}: {len(problems)} problem(s)")


def clip(value, limit: int = 80) -> str:
    """A short printable rendering of a bad value for an error line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
