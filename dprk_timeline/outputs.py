"""Writing the package's files so that they change all at once or not at all, even if the build is killed.

A build writes every output into a staging folder beside them (`.build-*`), checks it there, then marks
it committed and moves each output into place, keeping the files it replaces inside the staging folder
until all are moved. A build killed before the mark leaves the outputs as they were; one killed after it
leaves a committed staging folder, which the next build or check finishes moving (recover) before
anything else. Either way the outputs are the old ones or the new ones, whole, and no leftover stays.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = ".build-"
COMMITTED = ".committed"   # in a staging folder: its outputs are checked and replace the old ones
REPLACED = ".replaced"     # in a staging folder: where the outputs it replaces wait until all are moved


class OutputError(OSError):
    """The outputs cannot be replaced (a read-only folder, say): nothing was changed."""


def staging_folder(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=PREFIX, dir=target))


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def committed(staging: Path) -> bool:
    return (staging / COMMITTED).exists()


def outputs_of(staging: Path) -> list[str]:
    return sorted(p.name for p in staging.iterdir() if p.name not in (COMMITTED, REPLACED))


def swap_in(staging: Path, target: Path) -> None:
    """Replace target's outputs (data/, charts/, the descriptor, the codebook) with the staged ones."""
    for name in outputs_of(staging):
        old = target / name
        if old.exists() and not os.access(old if old.is_dir() else target, os.W_OK):
            raise OutputError(f"{old}: cannot be replaced (no permission to write); nothing was changed")
    if not os.access(target, os.W_OK):
        raise OutputError(f"{target}: cannot be written (no permission); nothing was changed")
    (staging / COMMITTED).touch()
    finish(staging, target)


def finish(staging: Path, target: Path) -> None:
    """Move a committed staging folder's outputs into place (what is already moved stays), then remove it."""
    replaced = staging / REPLACED
    replaced.mkdir(exist_ok=True)
    for name in outputs_of(staging):
        current = target / name
        if current.exists() or current.is_symlink():
            if (replaced / name).exists():  # (the old one was kept already: this is a leftover)
                _remove(current)
            else:
                os.replace(current, replaced / name)
        os.replace(staging / name, current)
    shutil.rmtree(staging)


def recover(target: Path) -> list[str]:
    """Finish or discard what an earlier build left (it was killed): a committed staging folder is moved into
    place, any other one removed. Returns what was done, a line each."""
    done = []
    for staging in sorted(Path(target).glob(PREFIX + "*")):
        if not staging.is_dir():
            continue
        if committed(staging):
            finish(staging, Path(target))
            done.append(f"finished the build interrupted in {staging.name}: its outputs are in place")
        else:
            shutil.rmtree(staging, ignore_errors=True)
            done.append(f"removed {staging.name}, left by a build that did not finish")
    return done


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
