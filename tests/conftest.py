"""Shared fixtures: a scratch copy of the checkout to build in, and helpers to add changesets to it."""
import contextlib
import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PYTHON = sys.executable
GENERATED = ["datapackage.json", "CODEBOOK.md"]  # generated files beside data/


def snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every output file, to prove a failed build left them alone."""
    files = sorted((root / "data").glob("*")) + sorted((root / "charts").glob("*")) + [root / name for name in GENERATED]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}


class Scratch:
    """A copy of events/, data/ and datapackage.json in a temporary folder, built with --root."""

    def __init__(self, path: Path, changesets: list[str] | None = None):
        self.root = path
        shutil.copytree(ROOT / "data", path / "data")
        shutil.copytree(ROOT / "charts", path / "charts")
        for name in GENERATED:
            shutil.copy(ROOT / name, path / name)
        (path / "events").mkdir()
        for source in sorted((ROOT / "events").glob("*.json")):
            if changesets is None or source.stem in changesets:
                shutil.copy(source, path / "events" / source.name)

    def add(self, name: str, content) -> Path:
        path = self.root / "events" / name
        if isinstance(content, (dict, list)):
            content = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    def run(self, command="build", *args) -> subprocess.CompletedProcess:
        """Run a command on this checkout as scripts/<command>.py would, in this process (Great Expectations is
        imported once for all the tests): its exit code and what it printed."""
        from dprk_timeline.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([command, "--root", str(self.root), *args])
        return subprocess.CompletedProcess([command, *args], code, out.getvalue(), err.getvalue())


def run_script(root: Path, command: str, *args, env=None) -> subprocess.CompletedProcess:
    """Run scripts/<command>.py on the checkout at root, as a user would."""
    script = ROOT / "scripts" / f"{command}.py"
    return subprocess.run([PYTHON, str(script), "--root", str(root), *args], capture_output=True, text=True, env=env)


FOUNDING = ["2026-11-22-washington-examiner-2022-01-05", "2026-11-22-epoch-times-2022-01-31"]
# After every committed changeset, so that a test's changeset goes at the end of the log.
NEXT = (max(dt.datetime.fromisoformat(json.loads(p.read_text())["recorded_at"].replace("Z", "+00:00"))
            for p in (ROOT / "events").glob("*.json")) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def scratch(tmp_path) -> Scratch:
    """A copy of the whole log."""
    return Scratch(tmp_path / "checkout")


@pytest.fixture
def founding(tmp_path) -> Scratch:
    """A copy of the log as the two founding reports left it: small, and stable as the log grows."""
    return Scratch(tmp_path / "founding", FOUNDING)


def changeset(*events, recorded_at=NEXT, **extra) -> dict:
    body = {"recorded_at": recorded_at, "author": "test", "message": "a test changeset", "events": list(events)}
    body.update(extra)
    return body
