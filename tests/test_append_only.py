"""Merged changesets are never edited or removed, and new ones go at the end of the log."""
import datetime as dt
import subprocess

import pytest

from conftest import NEXT, changeset
from dprk_timeline.build import read_log
from dprk_timeline.checks.append_only import append_only
from dprk_timeline.cli import main


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def repo(scratch):
    git(scratch.root, "init", "-q")
    git(scratch.root, "add", "-A")
    git(scratch.root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    return scratch


def check(root, capsys):
    code = main(["check", "--root", str(root), "--base", "HEAD"])
    return code, capsys.readouterr().err


def test_an_edited_changeset_is_refused(repo, capsys):
    path = repo.root / "events" / "2026-11-22-epoch-times-2022-01-31.json"
    path.write_text(path.read_text().replace("Aldgra Fredly", "A. Fredly"))
    code, err = check(repo.root, capsys)
    assert code == 1
    assert "events/2026-11-22-epoch-times-2022-01-31.json: changeset: changeset was edited since HEAD" in err


def test_a_deleted_changeset_is_refused(repo, capsys):
    (repo.root / "events" / "2026-11-22-washington-examiner-2022-01-05.json").unlink()
    code, err = check(repo.root, capsys)
    assert code == 1
    assert "events/2026-11-22-washington-examiner-2022-01-05.json: changeset: changeset was deleted" in err


def test_a_new_changeset_recorded_before_the_merged_ones_is_refused(repo, capsys):
    repo.add("2026-11-22-backdated.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T", "kind": "government"},
                                                    recorded_at="2026-11-22T03:14:30Z"))
    code, err = check(repo.root, capsys)
    assert code == 1
    latest = (dt.datetime.fromisoformat(NEXT.replace("Z", "+00:00")) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"recorded_at 2026-11-22T03:14:30Z is not after the newest changeset already merged ({latest})" in err


def test_a_new_changeset_at_the_end_of_the_log_is_accepted(repo):
    repo.add("2026-11-22-new.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T", "kind": "government"}))
    changesets, problems = read_log(repo.root)
    assert not problems
    assert append_only(repo.root, "HEAD", changesets) == []


def test_an_unknown_base_revision_is_a_clear_error(repo, capsys):
    code = main(["check", "--root", str(repo.root), "--base", "no-such-branch"])
    assert code == 1
    assert "cannot read base revision 'no-such-branch'" in capsys.readouterr().err
