"""The Table Schemas of the package's tables (schemas/tables/<name>.json)."""
import json
from functools import lru_cache
from pathlib import Path

from .paths import TABLE_SCHEMAS


@lru_cache(maxsize=None)
def table_schema(name: str, schema_dir: Path = TABLE_SCHEMAS) -> dict:
    return json.loads((schema_dir / f"{name}.json").read_text(encoding="utf-8"))


def field_names(name: str) -> list[str]:
    return [f["name"] for f in table_schema(name)["fields"]]
