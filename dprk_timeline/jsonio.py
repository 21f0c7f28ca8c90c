"""Strict JSON reading for event files, and canonical JSON writing."""
import json
import math

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
TOO_MANY_DIGITS = 10**15  # JSON integers have no leading zeros: 16 digits or more is at least this


class JSONInputError(ValueError):
    pass


def _reject_constant(name):
    raise JSONInputError(f"{name} is not valid JSON (numbers must be finite)")


def _object(pairs):
    """A JSON object as a dict, refused if a key repeats (json would keep the last silently)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen = set()
        key = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise JSONInputError(f"duplicate key {key!r} in one object")
    return value


def _parse_float(text):
    value = float(text)
    if math.isinf(value):
        raise JSONInputError(f"number {text[:40]} is too large")
    return value


def _check_tree(value) -> None:
    """Refuse nesting deeper than MAX_DEPTH, integers of more than 15 digits and texts that are not Unicode (a
    JSON escape can give half of a surrogate pair), iteratively: deep input must not blow the stack."""
    stack = [([value], 0)]  # the document inside a list of depth 0, so that its own type is checked too
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            _check_texts(node.keys())
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, str):
                _check_texts((child,))
            elif isinstance(child, (dict, list)):
                if depth >= MAX_DEPTH:
                    raise JSONInputError(f"nesting deeper than {MAX_DEPTH} levels")
                stack.append((child, depth + 1))
            elif type(child) is int and not -TOO_MANY_DIGITS < child < TOO_MANY_DIGITS:
                raise JSONInputError(f"number {str(child)[:40]}... has more than 15 digits")


def _check_texts(texts) -> None:
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise JSONInputError(f"text {text[:40]!r} holds half of a surrogate pair "
                                 f"(\\u{ord(text[err.start]):04x}): not valid Unicode") from None


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
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_reject_constant,
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
    _check_tree(value)
    return value


def dumps_canonical(value) -> str:
    """The one way this project writes JSON: stable key order as given, 2-space indent, UTF-8, final LF."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
