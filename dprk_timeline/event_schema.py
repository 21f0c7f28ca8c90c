"""Check 1: every changeset file parses and matches the JSON Schemas in schemas/events/.

One line per problem: `file: event N: /pointer: reason`, pointers relative to the event.

Two validators read the same schemas: jsonschema_rs (compiled, about 60 times faster here) decides whether
a changeset is valid; jsonschema words the problems of the changesets it rejects. Both check the three
formats the schemas use with the same functions (FORMATS), so they agree; should they ever disagree,
the stricter verdict stands and the compiled validator's own message is reported.
"""
import datetime as dt
import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema_rs
from rfc3339_validator import validate_rfc3339
from rfc3986_validator import validate_rfc3986

from .log import Changeset
from .paths import EVENT_SCHEMAS
from .problems import Problem, clip

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: str) -> bool:
    try:
        return bool(_DATE.fullmatch(value)) and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


# The rules jsonschema's FORMAT_CHECKER applies with the format libraries pinned in requirements.txt
# (tests/test_bad_input.py compares them on a corpus), written out so that the pass path does not
# import jsonschema.
FORMATS = {
    "date": _is_date,
    "date-time": lambda value: bool(validate_rfc3339(value.upper())),
    "uri": lambda value: bool(validate_rfc3986(value, rule="URI")),
}


def _schemas(schema_dir: Path) -> dict[str, dict]:
    schemas = {}
    for path in sorted(schema_dir.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schemas[schema["$id"]] = schema
    return schemas


@lru_cache(maxsize=None)
def fast_validators(schema_dir: Path = EVENT_SCHEMAS):
    """The changeset and event validators, compiled (jsonschema_rs)."""
    schemas = _schemas(schema_dir)
    registry = jsonschema_rs.Registry(list(schemas.items()))

    def make(name):
        return jsonschema_rs.Draft202012Validator(schemas[f"urn:dprk-timeline:events:{name}"], registry=registry,
                                                  validate_formats=True, formats=FORMATS)
    return make("changeset"), make("event")


@lru_cache(maxsize=None)
def fast_type_validators(schema_dir: Path = EVENT_SCHEMAS) -> dict:
    """Event type -> the compiled validator of its own schema. An event is valid against event.json exactly
    when its type is one of these and its own schema holds (event.json's `if type is X then X`), and asking
    that directly spares the compiled validator trying every `if` (a fifth of its time)."""
    schemas = _schemas(schema_dir)
    registry = jsonschema_rs.Registry(list(schemas.items()))
    types = schemas["urn:dprk-timeline:events:event"]["properties"]["type"]["enum"]
    return {name: jsonschema_rs.Draft202012Validator(schemas[f"urn:dprk-timeline:events:{name}"], registry=registry,
                                                     validate_formats=True, formats=FORMATS) for name in types}


def is_valid_event(event) -> bool:
    """Does the event match event.json (see fast_type_validators)?"""
    kind = event.get("type") if type(event) is dict else None
    validator = fast_type_validators().get(kind) if type(kind) is str else None
    return validator is not None and validator.is_valid(event)


@lru_cache(maxsize=None)
def fields_of(event_type: str, schema_dir: Path = EVENT_SCHEMAS) -> frozenset[str]:
    """The fields an event of this type may have (its schema allows no others)."""
    return frozenset(_schemas(schema_dir)[f"urn:dprk-timeline:events:{event_type}"]["properties"])


@lru_cache(maxsize=None)
def validators(schema_dir: Path = EVENT_SCHEMAS):
    """The changeset and event validators of jsonschema, which word the problems."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = _schemas(schema_dir)
    registry = Registry().with_resources((uri, Resource.from_contents(s)) for uri, s in schemas.items())

    def make(name):
        schema = registry.contents(f"urn:dprk-timeline:events:{name}")
        Draft202012Validator.check_schema(schema)
        return Draft202012Validator(schema, registry=registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)
    return make("changeset"), make("event")


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


def _problems(validator, instance, file: str, where: str) -> list[Problem]:
    """One problem per pointer: where several schemas reject the same value, the most specific one speaks."""
    best = {}
    for error in validator.iter_errors(instance):
        if error.validator is None:  # a false schema: this field is not allowed here
            error.validator = "false"
            path = _false_schema_path(error, instance)
            error.path.clear()
            error.path.extend(path)
        pointer, reason = _reason(error)
        depth = len(error.relative_schema_path)
        if pointer not in best or depth > best[pointer][0]:
            best[pointer] = (depth, Problem("schema", file, reason, where, pointer))
    return [problem for _, problem in sorted(best.values(), key=lambda item: item[1].pointer)]


def _fast_problems(validator, instance, file: str, where: str) -> list[Problem]:
    """Problems as the compiled validator words them: only used where jsonschema found none."""
    return [Problem("schema", file, clip(error.message, 200), where, _pointer(error.instance_path))
            for error in validator.iter_errors(instance)]


def check_event(event: dict, file: str, where: str) -> list[Problem]:
    """Schema problems of one event."""
    if is_valid_event(event):
        return []
    return _problems(validators()[1], event, file, where) or _fast_problems(fast_validators()[1], event, file, where)


def check_changeset(changeset: Changeset) -> list[Problem]:
    """Schema problems of one changeset: first its envelope, then each event."""
    fast_changeset = fast_validators()[0]
    events = changeset.body.get("events")
    events = events if isinstance(events, list) else []
    if fast_changeset.is_valid(changeset.body) and all(map(is_valid_event, events)):
        return []
    problems = (_problems(validators()[0], changeset.body, changeset.file, "changeset")
                or _fast_problems(fast_changeset, changeset.body, changeset.file, "changeset"))
    for position, event in enumerate(events, start=1):
        if isinstance(event, dict):
            problems += check_event(event, changeset.file, f"event {position}")
    return problems
