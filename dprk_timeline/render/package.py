"""Every output file of the package, rendered from the replayed state."""
from __future__ import annotations

from ..replay.state import State
from .charts import render_charts
from .codebook import render_codebook
from .coverage import with_readme_block
from .descriptor import render_descriptor
from .tables import render_tables


def render_package(state: State, readme: str | None = None) -> dict[str, bytes]:
    """Every output file, by path relative to the package root: data/*.csv, datapackage.json, CODEBOOK.md,
    charts/*.svg, and README.md (the given text with its "data through" block rewritten) when it has one."""
    tables = render_tables(state)
    files = {f"data/{name}.csv": content for name, content in tables.items()}
    files["datapackage.json"] = render_descriptor(state, tables)
    readme = with_readme_block(readme, tables) if readme is not None else None
    if readme is not None:
        files["README.md"] = readme.encode("utf-8")
    files["CODEBOOK.md"] = render_codebook(tables)
    files.update(render_charts(tables))
    return files
