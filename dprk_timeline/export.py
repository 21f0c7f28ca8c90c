"""Exports of the published package: a SQLite database (keys, indexes, views) and one JSON file.

Both are read from the package's CSV files and datapackage.json, never from the log, so they hold
exactly what a user downloads.
"""
from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT",
             "datetime": "TEXT"}
VIEWS = {
    "launch_reactions": """
        SELECT l.launch_id, l.korea_date, l.missile_class, s.statement_id, s.date_latest AS statement_date,
               s.actor_id, a.name AS actor_name, s.country, s.speaker, s.role, s.stance, s.quote, s.source_id
        FROM launches l
        JOIN launch_statements ls ON ls.launch_id = l.launch_id
        JOIN statements s ON s.statement_id = ls.statement_id
        JOIN actors a ON a.actor_id = s.actor_id""",
    "sanction_party_list": """
        SELECT s.action_id, s.date, s.date_latest, s.action, s.authority_id, s.programme,
               p.party_id, p.name, p.kind, p.nationality, p.un_reference, p.ofac_ent_num
        FROM sanctions s
        JOIN sanction_parties sp ON sp.action_id = s.action_id
        JOIN parties p ON p.party_id = sp.party_id""",
    "launches_per_year": """
        SELECT substr(korea_date, 1, 4) AS year, count(*) AS launch_events, sum(missile_count) AS missiles
        FROM launches GROUP BY year""",
}


def _descriptor(root: Path) -> dict:
    return json.loads((root / "datapackage.json").read_text(encoding="utf-8"))


def typed(value: str, field: dict):
    """A CSV cell as the Python value of its Table Schema type ('' is null)."""
    if value == "":
        return None
    kind = field["type"]
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        return value == "true"
    return value


def rows(root: Path, resource: dict) -> list[dict]:
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    with open(root / resource["path"], encoding="utf-8", newline="") as handle:
        return [{name: typed(cell, fields[name]) for name, cell in row.items()} for row in csv.DictReader(handle)]


def create_table(resource: dict) -> str:
    schema = resource["schema"]
    columns = []
    for field in schema["fields"]:
        constraints = field.get("constraints", {})
        column = f'"{field["name"]}" {SQL_TYPES[field["type"]]}'
        if constraints.get("required"):
            column += " NOT NULL"
        if "enum" in constraints:
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in constraints["enum"])
            column += f' CHECK ("{field["name"]}" IN ({values}))'
        columns.append(column)
    columns.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in schema["primaryKey"]) + ")")
    for key in schema.get("foreignKeys", []):
        reference = key["reference"]
        columns.append("FOREIGN KEY (" + ", ".join(f'"{k}"' for k in key["fields"]) + f') REFERENCES "{reference["resource"]}" ('
                       + ", ".join(f'"{k}"' for k in reference["fields"]) + ")")
    return f'CREATE TABLE "{resource["name"]}" (\n  ' + ",\n  ".join(columns) + "\n)"


def to_sqlite(root: Path, path: Path) -> None:
    """Write the package as a SQLite database at path (replaced if it exists)."""
    root, path = Path(root), Path(path)
    package = _descriptor(root)
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)  # one explicit transaction below
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("BEGIN")
        connection.execute("PRAGMA defer_foreign_keys = ON")  # self-references: checked at commit
        for resource in package["resources"]:
            connection.execute(create_table(resource))
        for resource in package["resources"]:
            names = [f["name"] for f in resource["schema"]["fields"]]
            placeholders = ", ".join("?" for _ in names)
            connection.executemany(f'INSERT INTO "{resource["name"]}" VALUES ({placeholders})',
                                   [[row[n] for n in names] for row in rows(root, resource)])
            for key in resource["schema"].get("foreignKeys", []):
                columns = ", ".join(f'"{k}"' for k in key["fields"])
                index = f'{resource["name"]}__{"_".join(key["fields"])}'
                connection.execute(f'CREATE INDEX "{index}" ON "{resource["name"]}" ({columns})')
        for name, query in VIEWS.items():
            connection.execute(f'CREATE VIEW "{name}" AS {query.strip()}')
        connection.execute("CREATE TABLE package_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        connection.executemany("INSERT INTO package_metadata VALUES (?, ?)",
                               [(k, str(package[k])) for k in ("name", "title", "version", "created") if k in package])
        connection.execute("COMMIT")
        connection.execute("VACUUM")
    finally:
        connection.close()


def to_json(root: Path, path: Path) -> None:
    """Write the package as one JSON file: metadata and every table as a list of typed records."""
    root = Path(root)
    package = _descriptor(root)
    document = {key: package[key] for key in ("name", "title", "version", "created", "licenses") if key in package}
    document["tables"] = {resource["name"]: rows(root, resource) for resource in package["resources"]}
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
