"""Exports of the published package: a SQLite database (keys, indexes, views) with its Datasette
metadata, one JSON file, and a spreadsheet workbook with typed cells.

All are read from the package's CSV files and datapackage.json, never from the log, so they hold
exactly what a user downloads.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sqlite3
import zipfile
from pathlib import Path

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so that a zip does not depend on file times
SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT",
             "datetime": "TEXT"}
VIEWS = {
    "launch_reactions": """
        SELECT l.launch_id, l.korea_date, l.missile_class, s.statement_id, s.date_latest AS statement_date,
               s.actor_id, a.name AS actor_name, s.country, s.speaker, s.role, s.stance, s.quote, s.summary,
               s.source_id, src.publisher AS source_publisher, src.url AS source_url
        FROM launches l
        JOIN launch_statements ls ON ls.launch_id = l.launch_id
        JOIN statements s ON s.statement_id = ls.statement_id
        JOIN actors a ON a.actor_id = s.actor_id
        JOIN sources src ON src.source_id = s.source_id""",
    "sanction_party_list": """
        SELECT s.action_id, s.date, s.date_latest, s.action, s.authority_id, s.programme,
               p.party_id, p.name, p.kind, p.nationality, p.un_reference, p.ofac_ent_num,
               s.source_id, src.publisher AS source_publisher, src.url AS source_url
        FROM sanctions s
        JOIN sanction_parties sp ON sp.action_id = s.action_id
        JOIN parties p ON p.party_id = sp.party_id
        JOIN sources src ON src.source_id = s.source_id""",
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


def datasette_metadata(root: Path, database: str) -> dict:
    """Datasette's metadata.json for the SQLite export: the package's title, description, licence and
    upstream sources, and every table's and column's description from its Table Schema."""
    package = _descriptor(Path(root))
    licence = package["licenses"][0]
    upstreams = "; ".join(f"{u['publisher']} ({u['published']})" for u in package.get("upstreams", []))
    tables = {"tables": {r["name"]: {"description": r["description"],
                                       "columns": {f["name"]: f.get("description", "") for f in r["schema"]["fields"]}}
                           for r in package["resources"]}}
    return {"title": package["title"], "description": package["description"], "license": licence["name"],
            "license_url": licence["path"], "source": f"Upstream data: {upstreams}" if upstreams else package["title"],
            "databases": {database: tables}}


def to_datasette_metadata(root: Path, path: Path) -> None:
    """Write datasette_metadata for the SQLite database of the same stem beside it (Datasette names a database
    after its file)."""
    database = Path(path).name.removesuffix(".datasette.json")
    Path(path).write_text(json.dumps(datasette_metadata(root, database), ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")


def write_zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    """A zip whose bytes depend on its members only (fixed times and modes)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, content, compresslevel=9)


SHEET_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}


def cell_value(value, field: dict):
    """A typed value as a spreadsheet cell holds it: dates as dates, UTC times as times (a spreadsheet has no
    time zone: the column title says UTC), everything else as its Table Schema type."""
    if value is None:
        return None
    if field["type"] == "date":
        return dt.date.fromisoformat(value)
    if field["type"] == "datetime":
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    return value


def to_xlsx(root: Path, path: Path, readme: list[str], created: dt.datetime) -> None:
    """Write every table as one sheet of a workbook at path, after a README sheet (the lines given), with
    typed cells: a spreadsheet opens it with accents, dates and numbers right, which it may not do with CSV."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    root = Path(root)
    package = _descriptor(root)
    book = Workbook(write_only=True)
    about = book.create_sheet("README")
    for line in readme:
        about.append([line])
    for resource in package["resources"]:
        sheet = book.create_sheet(resource["name"])
        fields = resource["schema"]["fields"]
        sheet.append([WriteOnlyCell(sheet, value=f["name"] + (" (UTC)" if f["type"] == "datetime" else ""))
                      for f in fields])
        for row in rows(root, resource):
            cells = []
            for f in fields:
                cell = WriteOnlyCell(sheet, value=cell_value(row[f["name"]], f))
                if f["type"] in SHEET_FORMATS:
                    cell.number_format = SHEET_FORMATS[f["type"]]
                elif f["type"] == "string":
                    cell.data_type = "s"  # text stays text, never a formula
                cells.append(cell)
            sheet.append(cells)
    book.properties.title = package["title"]
    book.properties.created = created
    book.save(path)
    # openpyxl stamps the parts of the file, and its modified property, with the time of the run: the same
    # workbook gets the same bytes when they carry `created` instead
    with zipfile.ZipFile(path) as saved:
        parts = [(info.filename, saved.read(info)) for info in saved.infolist()]
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    write_zip(path, [(name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
                      if name == "docProps/core.xml" else content) for name, content in parts])
