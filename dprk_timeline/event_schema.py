"""Check 1: every changeset file parses and matches the JSON Schemas in schemas/events/.

One line per problem: `file: event N: /pointer: reason`, pointers relative to the event.
"""
import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from .log import Changeset
from .paths import EVENT_SCHEMAS
from .problems import Problem, clip


@lru_cache(maxsize=None)
def validators(schema_dir: Path = EVENT_SCHEMAS) -> tuple[Draft202012Validator, Draft202012Validator]:
    """The changeset and event validators, with format checking on (uri, date, date-time)."""
    resources = []
    for path in sorted(schema_dir.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)

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


def check_event(event: dict, file: str, where: str) -> list[Problem]:
    """Schema problems of one event."""
    return _problems(validators()[1], event, file, where)


def check_changeset(changeset: Changeset) -> list[Problem]:
    """Schema problems of one changeset: first its envelope, then each event."""
    problems = _problems(validators()[0], changeset.body, changeset.file, "changeset")
    events = changeset.body.get("events")
    if isinstance(events, list):
        for position, event in enumerate(events, start=1):
            if isinstance(event, dict):
                problems += check_event(event, changeset.file, f"event {position}")
    return problems
