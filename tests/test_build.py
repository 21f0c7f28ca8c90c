"""The main job on the committed dataset: it rebuilds, checks, and gives the same bytes every time."""
import json
import os
import re
import shutil

from conftest import ROOT, run_script, snapshot


def test_committed_package_rebuilds_and_passes_every_check(scratch):
    before = snapshot(ROOT)
    done = scratch.run("build")
    assert done.returncode == 0, done.stdout + done.stderr
    for n, layer in enumerate(["event files", "log integrity", "tables", "expectations", "drift"], start=1):
        assert f"{n}. {layer}" in done.stdout
    rows = {p.stem: p.read_text().count("\n") - 1 for p in (ROOT / "data").glob("*.csv")}
    summary = done.stdout.splitlines()[-1]
    for count, what in ((rows["launches"], "launches"), (rows["firings"], "missiles"), (rows["claims"], "claims"),
                        (rows["statements"], "statements"), (rows["sources"], "sources")):
        assert f"{count} {what}" in summary, summary
    assert f"{sum(rows.values())} rows" in summary
    assert snapshot(scratch.root) == before, "a rebuild of the committed log changed the committed outputs"


def test_check_passes_on_the_committed_package_and_writes_nothing(scratch):
    before = snapshot(scratch.root)
    done = scratch.run("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5. drift          ok" in done.stdout
    assert snapshot(scratch.root) == before


def test_check_reports_a_hand_edited_table_as_drift(scratch):
    path = scratch.root / "data" / "launches.csv"
    path.write_text(path.read_text().replace("1998.8", "2000"))
    done = scratch.run("check")
    assert done.returncode == 1
    assert "data/launches.csv: differs from a fresh rebuild" in done.stderr
    assert "Traceback" not in done.stderr


def test_drift_compares_a_file_a_piece_at_a_time_to_its_last_byte(tmp_path):
    from dprk_timeline.build import same_bytes

    path = tmp_path / "table.csv"
    content = b"launch_id,apogee_km\n" + b"".join(b"2022-01-%02d-1,%d\n" % (n, n * 10) for n in range(1, 29))
    path.write_bytes(content)
    assert same_bytes(path, content, piece=7) and same_bytes(path, content)
    assert not same_bytes(path, content[:-2] + b"9\n", piece=7)  # differs in the last piece only
    assert not same_bytes(path, content + b"x", piece=7) and not same_bytes(path, content[:-1], piece=7)


def test_check_reports_missing_and_stray_tables(scratch):
    (scratch.root / "data" / "firings.csv").unlink()
    (scratch.root / "data" / "notes.csv").write_text("x\n")
    done = scratch.run("check")
    assert done.returncode == 1
    assert "data/firings.csv: missing" in done.stderr
    assert "data/notes.csv: is not produced by the build" in done.stderr


def test_builds_are_byte_identical_across_time_zone_locale_and_hash_seed(tmp_path, scratch):
    other = tmp_path / "other"
    shutil.copytree(scratch.root, other)
    shutil.rmtree(other / "data")
    (other / "datapackage.json").unlink()
    runs = []
    for root, tz, locale, seed in ((scratch.root, "Asia/Seoul", "C.UTF-8", "1"),
                                   (other, "America/Los_Angeles", "POSIX", "4242")):
        env = dict(os.environ, TZ=tz, LC_ALL=locale, LANG=locale, PYTHONHASHSEED=seed)
        done = run_script(root, "build", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        runs.append(snapshot(root))
    assert runs[0] == runs[1] == snapshot(ROOT)


def test_outputs_follow_the_file_conventions():
    for path in sorted((ROOT / "data").glob("*.csv")) + [ROOT / "datapackage.json", ROOT / "CODEBOOK.md"]:
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has a BOM"
        assert b"\r" not in raw, f"{path.name} has CR line ends"
        assert raw.endswith(b"\n"), f"{path.name} lacks a final newline"
        raw.decode("utf-8")


def test_a_text_cell_reads_back_as_written_whatever_it_holds():
    """Cells are quoted where CSV needs it (RFC 4180: a comma, a double quote, a line feed or a carriage return),
    so that a CSV reader gives back the text written. The event schemas keep control characters out of texts:
    this guards the writer, not the data."""
    import csv
    import io

    from dprk_timeline.tables import _quoted

    cells = ["plain", "a, b", 'say "no"', "two\nlines", "a\rb", "ends\r", "", "=sum"]
    for row in (cells, cells[4:5]):
        line = ",".join(_quoted(row)) + "\n"
        assert list(csv.reader(io.StringIO(line, newline=""))) == [row]


def test_table_layer_reports_file_row_field_and_reason(tmp_path, monkeypatch):
    from dprk_timeline.build import validate_package
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(ROOT / "datapackage.json", tmp_path / "datapackage.json")
    launches = tmp_path / "data" / "launches.csv"
    launches.write_text(launches.read_text().replace("1998.8", "very high"))
    claims = tmp_path / "data" / "claims.csv"
    claims.write_text(claims.read_text().replace(",kr-jcs,", ",kr-nobody,", 1))
    rows, problems = validate_package(tmp_path, processes=1)
    lines = [str(p) for p in problems]
    assert any(re.match(r"data/launches.csv: row [0-9]+, field apogee_km: type-error", line) for line in lines), lines
    assert any(line.startswith("data/claims.csv: ") and "foreign-key" in line for line in lines), lines
    # Split across processes (as for large packages), the same rows are checked and the same problems found,
    # in the same order; and as many as the reference, frictionless validating the whole package.
    assert validate_package(tmp_path, processes=2) == (rows, problems)
    monkeypatch.setattr("dprk_timeline.build.PARALLEL_BYTES", 0)  # as for a large package: one process per core
    assert validate_package(tmp_path) == (rows, problems)
    from frictionless import validate
    report = validate(str(tmp_path / "datapackage.json"))
    assert len(problems) == len(report.flatten(["type"])) >= 2
    assert rows == sum(task.stats["rows"] for task in report.tasks)


def test_a_build_failing_its_expectations_writes_nothing(scratch):
    from conftest import changeset
    before = snapshot(scratch.root)
    scratch.add("2026-11-22-too-high.json", changeset({
        "type": "claims", "launch_id": "2022-01-30-1", "source": "epoch-times-2022-01-31-hwasong-12", "claimant": "kr-jcs",
        "claims": [{"attribute": "apogee_km", "original": {"text": "9,000 miles", "value": 9000, "unit": "mi"}}]}))
    done = scratch.run("build")
    assert done.returncode == 1
    assert "4. expectations   FAILED" in done.stdout
    assert "launches: apogee_km is between 0 and 10,000 km: fails for 2022-01-30-1" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(scratch.root) == before
    assert not list(scratch.root.glob(".build-*")), "the staging folder was left behind"


def test_the_codebook_is_generated_and_kept_in_sync(scratch):
    codebook = (ROOT / "CODEBOOK.md").read_text(encoding="utf-8")
    for name in ("launches", "claims", "parties", "changes"):
        assert f"## {name}" in codebook
    assert "| `apogee_km` | number | km |" in codebook
    assert "| `time_precision` | string |  | yes | minute, hour, day, month, unknown |" in codebook
    (scratch.root / "CODEBOOK.md").write_text(codebook.replace("Highest altitude", "Top altitude"))
    done = scratch.run("check")
    assert done.returncode == 1 and "CODEBOOK.md: differs from a fresh rebuild" in done.stderr


def test_charts_are_drawn_from_the_tables_without_a_date():
    per_year = (ROOT / "charts" / "launches-per-year.svg").read_text(encoding="utf-8")
    timeline = (ROOT / "charts" / "timeline-2022.svg").read_text(encoding="utf-8")
    assert "North Korean missile launches per year, by class" in per_year and "ICBM" in per_year
    assert "2022: launches" in timeline and "veto at the UN" in timeline
    for svg in (per_year, timeline):
        assert "<dc:date>" not in svg  # no creation date: a rebuild gives the same bytes
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](charts/launches-per-year.svg)" in readme and "](charts/timeline-2022.svg)" in readme


def test_rows_sort_as_text_and_numbers_would():
    """The one-string sort key orders IDs exactly as tuples of their text and number runs do."""
    import random

    import pytest

    from dprk_timeline.tables import DIGITS, natural_key, value_key, value_keys

    def as_tuple(value):
        parts = DIGITS.split(value)
        parts[1::2] = map(int, parts[1::2])
        return tuple(parts)

    rng = random.Random(7)
    values = ["event/2", "event/10", "event/02", "event", "event/", "a-1", "a1", "a", "", "0", "00", "007", "7b",
              "2022-01-05-1", "2022-01-05-10", "2022-1-5-2", "ab1", "abc", "a\x01", "x/1.2", "x/1.10", "x/1/2"]
    values += ["".join(rng.choice("ab-/.0123456789") for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    values += [str(rng.randint(0, 10**30)) for _ in range(200)]
    assert sorted(values, key=natural_key) == sorted(values, key=as_tuple)
    # and so do keys of several fields, and every pair compares the same way
    pairs = [(rng.choice(values), rng.choice(values)) for _ in range(3000)]
    assert sorted(pairs, key=lambda p: tuple(map(natural_key, p))) == sorted(pairs, key=lambda p: tuple(map(as_tuple, p)))
    sign = lambda x, y: (x > y) - (x < y)  # noqa: E731
    for a, b in pairs:
        assert sign(natural_key(a), natural_key(b)) == sign(as_tuple(a), as_tuple(b)), (a, b)
    assert natural_key(5) == (5,)
    with pytest.raises(ValueError, match="NUL"):
        natural_key("a\x00b")
    # the tables' fast key of one value (cached heads, trailing numbers cut off) is the same key
    for value in values + ["party-5047", "cs/12.3", "cs/12.03", "1986-02-26-10"]:
        assert value_key(value) == natural_key(value), value
    assert value_key(42) == natural_key("42")
    with pytest.raises(ValueError, match="NUL"):
        value_key("a\x001")
    # and the keys of a whole column, made in one comprehension
    column = values + ["party-5047", "cs/12.3", "cs/12.03", "1986-02-26-10", 42, 7]
    assert value_keys(column) == [natural_key(str(value)) for value in column]
    with pytest.raises(ValueError, match="NUL"):
        value_keys(["a", "a\x001"])


def test_rows_made_as_they_are_written_sort_by_their_rows_keys(tmp_path):
    """Claims and changes are sorted by a key of the item (tables.ITEM_KEY_COLUMNS) before their rows are made: it is
    the key of the row, for every item of the real log and of a synthetic one with retractions and merges."""
    import sys

    from dprk_timeline import build, tables
    from dprk_timeline.replay import Replay

    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark import generate

    generate(tmp_path / "synthetic", 3000)
    for root in (ROOT, tmp_path / "synthetic"):
        engine = Replay()
        build.read_and_fold(root, set(), lambda c: engine.run([c]))
        seen = set()
        for name, owners, items, columns_of in tables.owned_rows(engine.state):
            assert len(owners) == len(items)
            if columns_of:
                seen.add(name)
                row_key = tables.key_of(name)
                rows = tables.rows_of(columns_of, items)
                assert items and tables.sort_keys(tables.ITEM_KEY_COLUMNS[name](items)) == [row_key(row) for row in rows]
        assert seen == {"claims", "changes"}


def test_a_helper_process_gives_the_same_package_and_the_summaries_are_the_codebooks(tmp_path):
    """With a helper process (the charts drawn there), and written to a folder as it is made, the package is byte
    for byte the one made in memory in one process; and each table's summary, gathered as it is written, is what
    the codebook would read from its CSV. For the real log and a synthetic one with retractions and merges."""
    import sys

    from dprk_timeline import build
    from dprk_timeline.codebook import summarise
    from dprk_timeline.helper import Helper
    from dprk_timeline.replay import Replay

    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark import generate

    generate(tmp_path / "synthetic", 3000)
    for root in (ROOT, tmp_path / "synthetic"):
        engine = Replay()
        build.read_and_fold(root, set(), lambda c: engine.run([c]))
        alone, tables, summaries = build.render_package(engine.state)
        helper, folder = Helper(), tmp_path / f"{root.name}-package"
        try:
            written, _, _ = build.render_package(engine.state, helper, folder)
            assert helper.process is not None and helper.pending == []  # the helper did its job
        finally:
            helper.close()
        assert sorted(written) == sorted(alone) and {path: written[path] for path in written} == alone
        assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.*")) == sorted(alone)
        assert summaries == {name: summarise(table.content) for name, table in tables.items()}
        assert sum(bool(examples) for _, examples in summaries.values()) >= 10
    # a helper that is gone (killed, out of memory) leaves its work to this process: the same package
    helper, folder = Helper(), tmp_path / "helper-gone"
    helper.process.kill()
    helper.process.join()
    written, again, _ = build.render_package(engine.state, helper, folder)
    assert helper.process is None and {path: written[path] for path in written} == alone
    assert [table.keys.blob for table in again.values()] == [table.keys.blob for table in tables.values()]


def test_tables_the_helper_was_writing_when_it_was_lost_are_made_here_alike(tmp_path, monkeypatch):
    """The helper process killed at any point while it writes its tables (before it has sorted the first, between
    two chunks of rows, at the end): this process makes what it did not finish, and the package is the same."""
    import sys

    from dprk_timeline import build, tables
    from dprk_timeline.helper import Helper
    from dprk_timeline.replay import Replay

    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark import generate

    generate(tmp_path / "synthetic", 3000)
    engine = Replay()
    build.read_and_fold(tmp_path / "synthetic", set(), lambda c: engine.run([c]))
    alone = build.render_package(engine.state)[0]
    monkeypatch.setattr(tables, "CHUNK", 200)  # tables of many chunks
    pumped, calls, killed = tables.Feeder.pump, [], []

    def pump(feeder, wait=False):
        calls.append(wait)
        if len(calls) == kill_at:
            feeder.helper.process.kill()
            feeder.helper.process.join()
            killed.append(run)
        pumped(feeder, wait)
    monkeypatch.setattr(tables.Feeder, "pump", pump)
    kill_at = 0
    for run in range(5):
        helper, folder = Helper(), tmp_path / f"run-{run}"
        try:
            written = build.render_package(engine.state, helper, folder)[0]
        finally:
            helper.close()
        assert {path: written[path] for path in written} == alone
        assert killed == list(range(1, run + 1))  # (each run but the first lost its helper)
        if run == 0:
            assert helper.pending == [] and len(calls) > 20  # (not killed: the helper did it all, many pumps)
            kill_at = 1
        else:
            kill_at = len(calls) * run // 4 or 1  # a quarter of the way, half, three quarters, the last pump
        calls.clear()


def test_changesets_are_replayed_in_log_order_whatever_their_names_and_however_recorded_at_is_written(founding):
    """The build replays each changeset as it reads it, in the order of the recorded_at found by a quick scan
    of each file; a file whose recorded_at the scan cannot read (written with escapes) still goes in its place."""
    from conftest import NEXT, changeset
    from dprk_timeline import build
    from dprk_timeline.problems import CheckFailed

    first = changeset({"type": "actor", "actor_id": "test-actor", "name": "T", "kind": "government"})
    later = dt_after(NEXT)
    # "z" sorts last by name but comes first in the log; its recorded_at is written with an escape
    text = json.dumps(first, indent=2).replace(f'"recorded_at": "{NEXT}"', '"recorded_at": "\\u0032' + NEXT[1:] + '"')
    assert json.loads(text)["recorded_at"] == NEXT
    founding.add("2026-11-22-z-first.json", text)
    founding.add("2026-11-22-a-later.json", changeset({"type": "actor", "actor_id": "test-child", "name": "C",
                                                       "kind": "government", "parent": "test-actor"}, recorded_at=later))
    try:
        build.run(founding.root)
    except CheckFailed as failed:
        assert failed.layer == "drift", [str(p) for p in failed.problems]  # the founding data/ is not this log's


def dt_after(instant: str) -> str:
    import datetime as dt
    moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00")) + dt.timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_large_log_is_rebuilt_again_in_a_fresh_process_for_layer_5(founding, capsys, monkeypatch):
    """Above build.WORKER_BYTES the main job's second rebuild (layer 5) runs in a spawned process, which holds
    none of this one's memory: here, for the founding log. It gives the same package as a build in one process."""
    import multiprocessing.context

    from dprk_timeline import build
    from dprk_timeline.cli import main

    assert main(["build", "--full", "--root", str(founding.root)]) == 0
    alone = snapshot(founding.root)
    started = []
    start = multiprocessing.context.SpawnProcess.start
    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start",
                        lambda process: started.append(process._target.__name__) or start(process))
    monkeypatch.setattr(build, "WORKER_BYTES", 0)
    capsys.readouterr()
    assert main(["build", "--full", "--root", str(founding.root)]) == 0
    assert "5. drift          ok" in capsys.readouterr().out
    assert started == ["rebuild_into"]
    assert snapshot(founding.root) == alone


def test_a_spawned_process_importing_a_script_does_not_run_its_command(monkeypatch):
    """A spawned process (the table checks of a large package, layer 5's second rebuild) runs the main script's
    top level again, as __mp_main__: it must not start the command (a build inside each worker) again."""
    import runpy

    from dprk_timeline import cli

    calls = []
    monkeypatch.setattr(cli, "main", lambda argv: calls.append(argv) or 0)
    scripts = sorted((ROOT / "scripts").glob("*.py"))
    for script in scripts:
        runpy.run_path(str(script), run_name="__mp_main__")
    assert calls == []
    assert {"build.py", "check.py", "release.py"} <= {script.name for script in scripts}


def test_a_full_build_loads_the_tables_for_its_expectations_in_the_worker_only(founding, capsys, monkeypatch):
    """Layer 4 of the full path runs in expectations.Worker, which loads the tables itself: their frames (1.6 GiB
    at 10^6 events) are never held by the process that holds the replayed state."""
    from dprk_timeline import load
    from dprk_timeline.cli import main

    loaded = []
    real = load.load_all
    monkeypatch.setattr(load, "load_all", lambda *args, **kwargs: loaded.append(args) or real(*args, **kwargs))
    assert main(["build", "--full", "--root", str(founding.root)]) == 0
    assert "4. expectations   ok" in capsys.readouterr().out
    assert loaded == []  # (the worker's calls are in its own memory)
    monkeypatch.setattr("dprk_timeline.expectations.Worker.call",
                        lambda self, function, *args, **kwargs: function(*args, **kwargs))
    assert main(["build", "--full", "--root", str(founding.root)]) == 0
    assert loaded, "the spy sees the tables loaded in this process"
