"""The outputs change all at once or not at all: a build killed at any point of moving them into place leaves
the old outputs or the new ones, whole, once the next run has finished or discarded what it left."""
import hashlib
from pathlib import Path

import pytest

from conftest import changeset, snapshot
from dprk_timeline import outputs

OUTPUTS = ["data", "charts", "datapackage.json", "CODEBOOK.md"]


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (it is not an Exception that a handler would catch)."""


def state_of(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for name in OUTPUTS for p in ([root / name] if (root / name).is_file() else sorted((root / name).rglob("*")))
            if p.is_file()}


def staged_new_outputs(root):
    """A staging folder with other outputs than root's: every file of root changed."""
    staging = outputs.staging_folder(root)
    outputs.write_files(staging, {relative: b"new " + (root / relative).read_bytes() for relative in state_of(root)})
    return staging


def test_a_build_killed_at_any_point_of_the_swap_leaves_old_or_new_outputs_whole(founding, monkeypatch):
    root = founding.root
    old = state_of(root)
    new = {relative: hashlib.sha256(b"new " + (root / relative).read_bytes()).hexdigest() for relative in old}
    moves = len(OUTPUTS) * 2  # each output: the old one out of the way, the new one in
    outcomes = []
    for kill_at in range(moves + 1):
        staging = staged_new_outputs(root)
        calls = []
        real = outputs.os.replace

        def replace(source, destination):
            calls.append(source)
            if len(calls) == kill_at + 1:
                raise Killed()
            real(source, destination)
        monkeypatch.setattr(outputs.os, "replace", replace)
        try:
            outputs.swap_in(staging, root)
        except Killed:
            pass
        monkeypatch.undo()
        outputs.recover(root)  # the next run
        now = state_of(root)
        assert now in (old, new), f"killed at move {kill_at}: a mix of old and new outputs"
        assert not list(root.glob(".build-*")), f"killed at move {kill_at}: a leftover stays"
        outcomes.append("new" if now == new else "old")
        if now == new:  # put the old outputs back for the next round
            staging = outputs.staging_folder(root)
            outputs.write_files(staging, {relative: (root / relative).read_bytes()[4:] for relative in now})
            outputs.swap_in(staging, root)
            assert state_of(root) == old
    assert outcomes == ["new"] * (moves + 1)  # once committed, every interrupted swap is finished


def test_a_build_killed_before_it_committed_leaves_the_old_outputs_and_its_leftover_goes(founding, capsys):
    from dprk_timeline.cli import main

    assert main(["build", "--root", str(founding.root)]) == 0  # (the copy's data/ is of the whole log)
    before = snapshot(founding.root)
    staged_new_outputs(founding.root)  # as a build killed while it rendered or checked
    assert main(["build", "--root", str(founding.root)]) == 0
    assert "note: removed .build-" in capsys.readouterr().out
    assert snapshot(founding.root) == before and not list(founding.root.glob(".build-*"))


def test_outputs_that_cannot_be_replaced_fail_the_build_with_one_line_and_change_nothing(founding, monkeypatch, capsys):
    from dprk_timeline.cli import main

    founding.add("2026-11-22-new.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T",
                                                   "kind": "government"}))
    before = snapshot(founding.root)
    monkeypatch.setattr(outputs.os, "access", lambda path, mode: Path(path).name != "data")  # a read-only data/
    assert main(["build", "--root", str(founding.root)]) == 1
    out, err = capsys.readouterr()
    assert "data: cannot be replaced (no permission to write); nothing was changed" in err and "Traceback" not in err
    assert snapshot(founding.root) == before and not list(founding.root.glob(".build-*"))


@pytest.mark.parametrize("name", OUTPUTS)
def test_a_stray_output_left_beside_a_staging_folder_is_replaced_not_mixed(founding, name):
    """A committed staging folder whose old output was already set aside, and the new one not yet moved."""
    root = founding.root
    staging = staged_new_outputs(root)
    (staging / outputs.COMMITTED).touch()
    (staging / outputs.REPLACED).mkdir()
    outputs.os.replace(root / name, staging / outputs.REPLACED / name)
    outputs.recover(root)
    assert all(root.joinpath(p).read_bytes().startswith(b"new ") for p in state_of(root))
