"""Load the published tables into pandas, typed from their Table Schemas.

    from dprk_timeline.load import load, load_all
    launches = load("launches")              # from this checkout
    tables = load_all("path/to/unpacked/release")
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .paths import ROOT


def _descriptor(root: Path) -> dict:
    return json.loads((Path(root) / "datapackage.json").read_text(encoding="utf-8"))


def frame(path, schema: dict) -> pd.DataFrame:
    """Read one CSV as text and type each column by its Table Schema field."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    columns = {}
    for field in schema["fields"]:
        name, kind = field["name"], field["type"]
        column = raw[name]
        enum = field.get("constraints", {}).get("enum")
        if kind == "integer":
            column = pd.to_numeric(column).astype("Int64")
        elif kind == "number":
            column = pd.to_numeric(column).astype("Float64")
        elif kind == "boolean":
            column = column.map({"true": True, "false": False}).astype("boolean")
        elif kind == "date":
            column = pd.to_datetime(column, format="%Y-%m-%d")
        elif kind == "datetime":
            column = pd.to_datetime(column, format="ISO8601", utc=True)
        elif enum:
            column = pd.Categorical(column, categories=enum)
        else:
            column = column.astype("string")
        columns[name] = column
    df = pd.DataFrame(columns)
    key = schema.get("primaryKey", [])
    if key and df.duplicated(key).any():
        raise ValueError(f"{path}: duplicate primary key {key}")
    return df


def load(name: str, root: str | Path = ROOT) -> pd.DataFrame:
    """One table of the package at root (a checkout or an unpacked release)."""
    for resource in _descriptor(root)["resources"]:
        if resource["name"] == name:
            return frame(Path(root) / resource["path"], resource["schema"])
    raise KeyError(f"no table {name!r} in {Path(root) / 'datapackage.json'}")


def load_all(root: str | Path = ROOT) -> dict[str, pd.DataFrame]:
    """Every table of the package at root, by name."""
    return {r["name"]: frame(Path(root) / r["path"], r["schema"]) for r in _descriptor(root)["resources"]}
