"""Strict JSON reading for event files, and canonical JSON writing."""
import json
import math
from sys import intern

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
TOO_MANY_DIGITS = 10**15  # JSON integers have no leading zeros: 16 digits or more is at least this


class JSONInputError(ValueError):
    pass


def _reject_constant(name):
    raise JSONInputError(f"{name} is not valid JSON (numbers must be finite)")


def _object_of(keep_once: frozenset):
    """The hook that makes each JSON object: a dict, refused if a key repeats, with the text values of the keys
    in keep_once interned (sys.intern): words that repeat from object to object are then kept once in memory
    (the hook runs for every object anyway, which costs less than a second walk of the parsed tree)."""
    def make(pairs):
        value = dict(pairs)
        if len(value) != len(pairs):  # the rare case: find the first repeated key to name it
            seen = set()
            key = next(key for key, _ in pairs if key in seen or seen.add(key))
            raise JSONInputError(f"duplicate key {key!r} in one object")
        for key, item in pairs:
            if key in keep_once and type(item) is str:
                value[key] = intern(item)
        return value
    return make


def _parse_float(text):
    value = float(text)
    if math.isinf(value):
        raise JSONInputError(f"number {text[:40]} is too large")
    return value


def _check_tree(value, limit):
    """Refuse nesting deeper than limit and integers of more than 15 digits (iterative: deep input must not
    blow the stack). Integers are checked here rather than by a parse_int hook, which would cost a Python
    call for every number of the log."""
    stack = [([value], 0)]  # the document inside a list of depth 0, so that its own type is checked too
    while stack:
        node, depth = stack.pop()
        for child in node.values() if type(node) is dict else node:
            kind = type(child)
            if kind is dict or kind is list:
                if depth >= limit:
                    raise JSONInputError(f"nesting deeper than {MAX_DEPTH} levels")
                stack.append((child, depth + 1))
            elif kind is int and not -TOO_MANY_DIGITS < child < TOO_MANY_DIGITS:
                raise JSONInputError(f"number {str(child)[:40]}... has more than 15 digits")


def loads_strict(raw: bytes, keep_once: frozenset = frozenset()):
    """Parse UTF-8 JSON bytes, refusing what would make the log ambiguous or hostile. keep_once: keys whose
    text values are interned (see _object_of)."""
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
        value = json.loads(text, object_pairs_hook=_object_of(keep_once), parse_constant=_reject_constant,
                           parse_float=_parse_float)
    except json.JSONDecodeError as err:
        raise JSONInputError(f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise JSONInputError(f"nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError as err:
        if "integer string conversion" not in str(err):
            raise
        # Python refuses to convert integers of thousands of digits at all
        raise JSONInputError("a number has more than 15 digits") from None
    _check_tree(value, MAX_DEPTH)
    return value


def dumps_canonical(value) -> str:
    """The one way this project writes JSON: stable key order as given, 2-space indent, UTF-8, final LF."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
