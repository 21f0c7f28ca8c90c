"""What the replay makes of the log: records by kind, claims, and the history of changes."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..log import Event


@dataclass
class Claim:
    id: str                    # <event ID>.<position>
    launch_id: str
    missile: int | None
    attribute: str
    value: object              # normalised: float/int for measures, str otherwise
    unit: str
    original_text: str
    original_value: float | None
    original_unit: str
    qualifier: str
    precision: str
    claimant: str
    source: str
    event: Event
    order: int                 # its event's place in the log; with position, the claim's place ("latest" ties)
    position: int              # its place in the event
    note: str = ""
    source_record: str = ""
    status: str = "current"    # current, superseded, retracted
    replaced_by: str = ""
    converted: bool = False    # the source converted the claimant's figure into another unit


@dataclass
class Change:
    event: Event
    record_type: str
    record_id: str
    change: str                # created, claims_added, corrected, retracted, merged
    detail: str = ""
    reason: str = ""
    source: str = ""


@dataclass
class State:
    # kind of record (source, launch, statement ...) -> record ID -> the record: the fields of the event that
    # registered it as corrected since, and `event`, that event
    records: dict[str, dict[str, dict]] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)          # claim ID -> claim, in log order
    claims_of: dict[str, list[Claim]] = field(default_factory=dict)  # launch ID -> its claims
    changes: list[Change] = field(default_factory=list)
    # "kind:id" -> (how, into, the event that had registered it): an ID is never used again
    retired: dict[str, tuple[str, str, Event]] = field(default_factory=dict)
    last_recorded_at: str = ""

    def of(self, kind: str) -> dict[str, dict]:
        """The records of one kind, by ID."""
        return self.records.setdefault(kind, {})
