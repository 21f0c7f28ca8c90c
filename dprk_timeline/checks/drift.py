"""Check 5: the committed data/, charts/, datapackage.json and CODEBOOK.md equal a fresh rebuild."""
from __future__ import annotations

from pathlib import Path

from ..problems import Problem

GENERATED_FOLDERS = ("data", "charts")


def drift(root: Path, files: dict[str, bytes]) -> list[Problem]:
    """Differences between the files at root and those of a fresh rebuild."""
    problems = []
    for relative in sorted(files):
        path = root / relative
        if not path.is_file():
            problems.append(Problem("drift", relative, "missing: run the build and commit its output"))
        elif path.read_bytes() != files[relative]:
            problems.append(Problem("drift", relative, "differs from a fresh rebuild of events/: run the build "
                                                       "and commit its output (never edit data/ by hand)"))
    on_disk = {f"{folder}/{p.name}" for folder in GENERATED_FOLDERS if (root / folder).is_dir()
               for p in (root / folder).iterdir()}
    for extra in sorted(on_disk - set(files)):
        problems.append(Problem("drift", extra, "is not produced by the build: remove it"))
    return problems
