"""Check 3: the rendered tables against their Table Schemas, with frictionless (types, constraints, primary
and foreign keys), as `frictionless validate datapackage.json` checks them."""
from __future__ import annotations

from pathlib import Path

from ..problems import Problem


def validate_package(directory: Path) -> tuple[int, list[Problem]]:
    """frictionless on the package written in directory. Returns (rows checked, problems)."""
    from frictionless import Package, system

    with system.use_context(trusted=False):
        report = Package(str(directory / "datapackage.json")).validate()
    problems = [Problem("table", "datapackage.json", f"{error.type}: {error.message}") for error in report.errors]
    rows = 0
    for task in report.tasks:
        place = Path(task.place)
        shown = place.relative_to(directory).as_posix() if place.is_absolute() else task.place
        rows += task.stats.get("rows", 0) or 0
        for error in task.errors:
            where = []
            if getattr(error, "row_number", None):
                where.append(f"row {error.row_number}")
            if getattr(error, "field_name", None):
                where.append(f"field {error.field_name}")
            problems.append(Problem("table", shown, f"{error.type}: {error.note or error.message}", ", ".join(where)))
    return rows, problems
