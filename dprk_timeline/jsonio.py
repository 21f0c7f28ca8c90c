"""Strict JSON reading for event files, and canonical JSON writing."""
import json
import math

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32


class JSONInputError(ValueError):
    pass


def _reject_constant(name):
    raise JSONInputError(f"{name} is not valid JSON (numbers must be finite)")


def _no_duplicate_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise JSONInputError(f"duplicate key {key!r} in one object")
        seen[key] = value
    return seen


def _parse_float(text):
    value = float(text)
    if math.isinf(value):
        raise JSONInputError(f"number {text[:40]} is too large")
    return value


def _parse_int(text):
    if len(text.lstrip("-")) > 15:
        raise JSONInputError(f"number {text[:40]}... has more than 15 digits")
    return int(text)


def _depth(value, limit):
    """Depth of nesting, stopping at limit (iterative: deep input must not blow the stack)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return depth
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return 0


def loads_strict(raw: bytes):
    """Parse UTF-8 JSON bytes, refusing what would make the log ambiguous or hostile."""
    if len(raw) > MAX_FILE_BYTES:
        raise JSONInputError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise JSONInputError("file starts with a byte order mark (BOM); save it as UTF-8 without BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise JSONInputError(f"not valid UTF-8 at byte {err.start}") from None
    if "\r" in text:
        raise JSONInputError("file has CR line ends; use LF")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant,
                           parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as err:
        raise JSONInputError(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise JSONInputError(f"nesting deeper than {MAX_DEPTH} levels") from None
    if _depth(value, MAX_DEPTH):
        raise JSONInputError(f"nesting deeper than {MAX_DEPTH} levels")
    return value


def dumps_canonical(value) -> str:
    """The one way this project writes JSON: stable key order as given, 2-space indent, UTF-8, final LF."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
