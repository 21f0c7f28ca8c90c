"""The event types: for each, its schema, how the replay folds it in, and the tables its records feed.

Adding an event type is its schema (schemas/events/<type>.json), the function that makes its rows
(render/rows.py), the Table Schema of each new table (schemas/tables/), a test, and one line here, with
records.register as its handler unless its records have rules of their own (CONTRIBUTING.md walks
through it). The schema check, the replay, the tables, the descriptor, the codebook and the release
notes all read this.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from . import table_schemas
from .render.rows import Projection
from .replay import corrections, launches, records


@dataclass(frozen=True)
class EventType:
    name: str                         # the events' `type`; their schema is schemas/events/<name>.json
    apply: Callable                   # the replay's handler: (replay engine, event) -> None
    notes: str                        # in release notes, what a count of such events is ("launches added")
    id_field: str | None = None       # of an event that registers a record of its own kind: its ID field
    tables: tuple[str, ...] = ()      # the tables that record's rows go in, its own first
    rows: Callable | None = None      # (Projection, record ID) -> {table: rows}

    @property
    def schema_id(self) -> str:
        return f"urn:dprk-timeline:events:{self.name}"


# In this order: of the records in messages, and of the lines of release notes.
EVENT_TYPES = {t.name: t for t in [
    EventType("source", records.on_source, "sources added", "source_id", ("sources",), Projection.source),
    EventType("actor", records.register, "actors added", "actor_id", ("actors",), Projection.actor),
    EventType("site", records.register, "sites added", "site_id", ("sites",), Projection.site),
    EventType("missile_type", records.register, "missile types added", "missile_type_id",
              ("missile_types",), Projection.missile_type),
    EventType("launch", launches.on_launch, "launches added", "launch_id", ("launches", "firings", "claims"),
              Projection.launch),
    EventType("claims", launches.on_claims, "events adding claims to launches"),
    EventType("nuclear_test", records.on_nuclear_test, "nuclear tests added", "test_id",
              ("nuclear_tests", "nuclear_test_claims"), Projection.nuclear_test),
    EventType("statement", records.on_statement, "statements added", "statement_id",
              ("statements", "launch_statements", "statement_sanctions", "nuclear_test_statements"), Projection.statement),
    EventType("sanction", records.on_sanction, "sanctions actions added", "action_id",
              ("sanctions", "launch_sanctions", "sanction_parties", "nuclear_test_sanctions"), Projection.sanction),
    EventType("party", records.register, "parties added", "party_id", ("parties",), Projection.party),
    EventType("context", records.on_context, "context facts added", "context_id", ("context",),
              Projection.context),
    EventType("correction", corrections.on_correction, "corrections"),
    EventType("retraction", corrections.on_retraction, "retractions"),
    EventType("merge", corrections.on_merge, "merges"),
]}

# The package's tables, in the order of datapackage.json: facts, links, lookups, then the history of changes,
# which every event feeds.
TABLES = ["launches", "firings", "claims", "nuclear_tests", "nuclear_test_claims", "statements", "sanctions", "parties",
          "launch_statements", "launch_sanctions", "sanction_parties", "statement_sanctions", "nuclear_test_statements",
          "nuclear_test_sanctions", "context", "sites", "missile_types", "actors", "sources", "changes"]

# The kinds of record: what a correction or retraction can target (besides claims), and the changes table names.
RECORD_KINDS = [name for name, event_type in EVENT_TYPES.items() if event_type.id_field]


def table_schema(name: str) -> dict:
    """A table's Table Schema as the package publishes it: schemas/tables/<name>.json, with the kinds of record
    above as the allowed values of the changes table's record_type."""
    schema = table_schemas.table_schema(name)
    if name != "changes":
        return schema
    schema = copy.deepcopy(schema)
    field = next(field for field in schema["fields"] if field["name"] == "record_type")
    field["constraints"] = {"enum": RECORD_KINDS, **field.get("constraints", {})}
    return schema
