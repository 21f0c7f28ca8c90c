"""Load the published tables into pandas, typed from their Table Schemas.

    from dprk_timeline.load import load, load_all
    launches = load("launches")              # from this checkout
    tables = load_all("path/to/unpacked/release")
    old = load("launches", version="1.0.0")  # as released then (from the checkout's git history)
"""
from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pandas as pd

from .paths import ROOT


def release_commit(root: Path, version: str) -> str:
    """The commit that released `version`: where schemas/released.json first carried it."""
    done = subprocess.run(["git", "-C", str(root), "log", "--format=%H", "-S", f'"version": "{version}"', "--",
                           "schemas/released.json"], capture_output=True, text=True)
    commits = done.stdout.split()
    if done.returncode or not commits:
        raise KeyError(f"no release {version} in the git history of {root}")
    return commits[-1]


def _open(root: Path, path: str, commit: str | None):
    if commit is None:
        return Path(root) / path
    done = subprocess.run(["git", "-C", str(root), "show", f"{commit}:{path}"], capture_output=True)
    if done.returncode:
        raise KeyError(f"{path} is not in release commit {commit[:12]}")
    return io.BytesIO(done.stdout)


def _descriptor(root: Path, commit: str | None = None) -> dict:
    source = _open(root, "datapackage.json", commit)
    raw = source.read() if hasattr(source, "read") else source.read_bytes()
    return json.loads(raw)


def frame(path, schema: dict, only: list[str] | None = None) -> pd.DataFrame:
    """Read one CSV as text and type each column by its Table Schema field (only these columns, if given:
    reading and typing whole tables is slow)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", usecols=only)
    columns = {}
    for field in schema["fields"]:
        name, kind = field["name"], field["type"]
        if only is not None and name not in only:
            continue
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
    if key and set(key) <= set(df.columns) and df.duplicated(key).any():
        raise ValueError(f"{path}: duplicate primary key {key}")
    return df


def load(name: str, root: str | Path = ROOT, version: str | None = None) -> pd.DataFrame:
    """One table of the package at root (a checkout or an unpacked release), or as released in `version`."""
    commit = release_commit(Path(root), version) if version else None
    for resource in _descriptor(root, commit)["resources"]:
        if resource["name"] == name:
            return frame(_open(root, resource["path"], commit), resource["schema"])
    raise KeyError(f"no table {name!r} in {Path(root) / 'datapackage.json'}")


def load_all(root: str | Path = ROOT, version: str | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the package at root, by name, or as released in `version`."""
    commit = release_commit(Path(root), version) if version else None
    return {r["name"]: frame(_open(root, r["path"], commit), r["schema"]) for r in _descriptor(root, commit)["resources"]}
