"""Check 1: every changeset matches the JSON Schemas in schemas/events/ (changeset.json for the envelope,
then each event the schema of its type, as the registry names it).

One line per problem: `file: event N: /pointer: reason`, pointers relative to the event.

jsonschema_rs (compiled, about 60 times faster here) decides whether a document is valid (is_valid);
jsonschema words the problems of the documents it rejects. Both check the three formats the schemas use
with the same functions (FORMATS), so they agree; should they ever disagree, the compiled validator's
own message is reported.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache

import jsonschema_rs
from rfc3339_validator import validate_rfc3339
from rfc3986_validator import validate_rfc3986

from ..log import Changeset
from ..paths import EVENT_SCHEMAS
from ..problems import Problem, clip
from ..registry import EVENT_TYPES

CHANGESET = "urn:dprk-timeline:events:changeset"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: str) -> bool:
    try:
        return bool(_DATE.fullmatch(value)) and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


# The rules jsonschema's FORMAT_CHECKER applies with the format libraries pinned in requirements.txt
# (tests/test_bad_input.py compares them on a corpus), for the compiled validator.
FORMATS = {
    "date": _is_date,
    "date-time": lambda value: bool(validate_rfc3339(value.upper())),
    "uri": lambda value: bool(validate_rfc3986(value, rule="URI")),
}


@lru_cache(maxsize=None)
def schemas() -> dict[str, dict]:
    """Every schema of schemas/events/, by its $id."""
    found = {}
    for path in sorted(EVENT_SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        found[schema["$id"]] = schema
    return found


@lru_cache(maxsize=None)
def _compiled(schema_id: str):
    registry = jsonschema_rs.Registry(list(schemas().items()))
    return jsonschema_rs.Draft202012Validator(schemas()[schema_id], registry=registry, validate_formats=True,
                                              formats=FORMATS)


def is_valid(schema_id: str, instance) -> bool:
    """Does the instance match the schema? (the compiled validator)"""
    return _compiled(schema_id).is_valid(instance)


@lru_cache(maxsize=None)
def wording_validator(schema_id: str):
    """The jsonschema validator of a schema, which words the problems."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry = Registry().with_resources((uri, Resource.from_contents(s)) for uri, s in schemas().items())
    schema = registry.contents(schema_id)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _pointer(path) -> str:
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path) or "/"


def _reason(error) -> tuple[str, str]:
    """(pointer, reason) in plain words for one jsonschema error."""
    pointer = _pointer(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return pointer.rstrip("/") + "/" + missing, "required field is missing"
    if kind == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extras = sorted(k for k in error.instance if k not in allowed)
        return pointer, f"unknown field(s) {', '.join(map(repr, extras))}; allowed: {', '.join(sorted(allowed))}"
    if kind == "false":
        if pointer.endswith("/value") and "/claim" in pointer:
            return pointer, "field not allowed here (measured figures go in original.value and original.unit)"
        return pointer, "field not allowed here"
    if "x-reason" in schema and kind in ("pattern", "anyOf", "type"):
        return pointer, f"{clip(error.instance, 60)}: {schema['x-reason']}"
    if kind == "enum":
        return pointer, f"{clip(error.instance, 60)} is not one of: {', '.join(map(str, error.validator_value))}"
    if kind == "const":
        return pointer, f"{clip(error.instance, 60)} must be {error.validator_value!r}"
    if kind == "type":
        return pointer, f"{clip(error.instance, 60)} is not of type {error.validator_value}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "below the minimum", "maximum": "above the maximum",
                "exclusiveMinimum": "not above", "exclusiveMaximum": "not below"}[kind]
        return pointer, f"{clip(error.instance, 40)} is {word} {error.validator_value}"
    if kind in ("minLength", "maxLength"):
        return pointer, f"text of {len(error.instance)} characters; {kind} is {error.validator_value}"
    if kind in ("minItems", "maxItems"):
        return pointer, f"{len(error.instance)} items; {kind} is {error.validator_value}"
    if kind == "format":
        return pointer, f"{clip(error.instance, 60)} is not a valid {error.validator_value}"
    message = error.message
    return pointer, message if len(message) <= 200 else message[:197] + "..."


def _false_schema_path(error, instance) -> list:
    """jsonschema reports a `"field": false` failure at the parent object; find the field."""
    parent = instance
    for part in error.absolute_path:
        parent = parent[part]
    if isinstance(parent, dict):
        for key, value in parent.items():
            if value is error.instance:
                return list(error.absolute_path) + [key]
    return list(error.absolute_path)


def _problems(schema_id: str, instance, file: str, where: str) -> list[Problem]:
    """The problems of an invalid document, one per pointer (where several schemas reject the same value, the
    most specific one speaks)."""
    best = {}
    for error in wording_validator(schema_id).iter_errors(instance):
        if error.validator is None:  # a false schema: this field is not allowed here
            error.validator = "false"
            path = _false_schema_path(error, instance)
            error.path.clear()
            error.path.extend(path)
        pointer, reason = _reason(error)
        depth = len(error.relative_schema_path)
        if pointer not in best or depth > best[pointer][0]:
            best[pointer] = (depth, Problem("schema", file, reason, where, pointer))
    found = [problem for _, problem in sorted(best.values(), key=lambda item: item[1].pointer)]
    # (should the two validators ever disagree, the compiled one's verdict stands, in its own words)
    return found or [Problem("schema", file, clip(error.message, 200), where, _pointer(error.instance_path))
                     for error in _compiled(schema_id).iter_errors(instance)]


def check_event(event, file: str, where: str) -> list[Problem]:
    """Schema problems of one event: its type must be registered, and its fields match that type's schema."""
    kind = event.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        if "type" not in event:
            return [Problem("schema", file, "required field is missing", where, "/type")]
        return [Problem("schema", file, f"{clip(kind, 60)} is not one of: {', '.join(EVENT_TYPES)}", where, "/type")]
    schema_id = EVENT_TYPES[kind].schema_id
    return [] if is_valid(schema_id, event) else _problems(schema_id, event, file, where)


def check_changeset(changeset: Changeset) -> list[Problem]:
    """Schema problems of one changeset: first its envelope, then each event."""
    body = changeset.body
    problems = [] if is_valid(CHANGESET, body) else _problems(CHANGESET, body, changeset.file, "changeset")
    events = body.get("events")
    for position, event in enumerate(events if isinstance(events, list) else [], start=1):
        if isinstance(event, dict):
            problems += check_event(event, changeset.file, f"event {position}")
    return problems
