"""Every output file of the package, rendered from the replayed state."""
from __future__ import annotations

from ..replay.state import State
from .charts import render_charts
from .codebook import render_codebook
from .descriptor import render_descriptor
from .tables import render_tables


def render_package(state: State) -> dict[str, bytes]:
    """Every output file, by path relative to the package root: data/*.csv, datapackage.json, CODEBOOK.md and
    charts/*.svg."""
    tables = render_tables(state)
    files = {f"data/{name}.csv": content for name, content in tables.items()}
    files["datapackage.json"] = render_descriptor(state)
    files["CODEBOOK.md"] = render_codebook(tables)
    files.update(render_charts(tables))
    return files
