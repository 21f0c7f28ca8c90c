"""Check 2, with the base branch: changesets already merged are unchanged and still there (the log is
append-only), and new ones go at the end of the log. The rest of check 2 is the replay's."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ..problems import Problem


def git(root: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True)
    if done.returncode:
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip().splitlines()[-1] if done.stderr else "git failed")
    return done.stdout


def append_only(root: Path, base: str, changesets: list) -> list[Problem]:
    """Changesets present at the base revision are unchanged; new ones are recorded after all of them.
    changesets: every changeset of the log."""
    try:
        listed = git(root, "ls-tree", "-r", "--name-only", base, "--", "events/").decode("utf-8").splitlines()
        changed = git(root, "diff", "--no-renames", "--name-status", base, "--", "events/").decode("utf-8").splitlines()
    except (RuntimeError, OSError) as err:
        return [Problem("integrity", ".", f"cannot read base revision {base!r}: {err}")]
    status = {line.split("\t", 1)[1]: line.split("\t", 1)[0] for line in changed if "\t" in line}
    recorded = {c.name: c.recorded_at for c in changesets}
    problems, base_latest, base_names = [], "", set()
    for name in listed:
        if not name.endswith(".json"):
            continue
        stem = Path(name).stem
        base_names.add(stem)
        if status.get(name) == "D" or not (root / name).exists():
            problems.append(Problem("integrity", name, f"changeset was deleted; it is in {base} and the log is "
                                                       "append-only (retract or correct with a new changeset)", "changeset"))
        elif status.get(name):
            problems.append(Problem("integrity", name, f"changeset was edited since {base}; the log is append-only "
                                                       "(write a correction in a new changeset)", "changeset"))
        if stem in recorded and not status.get(name):
            base_latest = max(base_latest, recorded[stem])
            continue
        try:
            base_latest = max(base_latest, json.loads(git(root, "show", f"{base}:{name}"))["recorded_at"])
        except (ValueError, KeyError, TypeError):
            pass
    for changeset in changesets:
        if changeset.name not in base_names and changeset.recorded_at <= base_latest:
            problems.append(Problem("integrity", changeset.file, f"recorded_at {changeset.recorded_at} is not after "
                                    f"the newest changeset already merged ({base_latest}); new changesets go at the end "
                                    "of the log", "changeset", "/recorded_at"))
    return problems
