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
    path.write_text(path.read_text().replace(",IRBM,", ",ICBM,", 1))
    done = scratch.run("check")
    assert done.returncode == 1
    assert "data/launches.csv: differs from a fresh rebuild" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_reports_missing_and_stray_tables(scratch):
    (scratch.root / "data" / "firings.csv").unlink()
    (scratch.root / "data" / "notes.csv").write_text("x\n")
    done = scratch.run("check")
    assert done.returncode == 1
    assert "data/firings.csv: missing" in done.stderr
    assert "data/notes.csv: is not produced by the build" in done.stderr


def test_builds_are_byte_identical_across_time_zone_locale_and_hash_seed(scratch):
    """A build in another time zone, locale and hash seed than the committed one's, from no outputs at all."""
    shutil.rmtree(scratch.root / "data")
    shutil.rmtree(scratch.root / "charts")
    (scratch.root / "datapackage.json").unlink()
    env = dict(os.environ, TZ="America/Los_Angeles", LC_ALL="POSIX", LANG="POSIX", PYTHONHASHSEED="4242")
    done = run_script(scratch.root, "build", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot(scratch.root) == snapshot(ROOT)


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

    from dprk_timeline.render.tables import cell

    cells = ["plain", "a, b", 'say "no"', "two\nlines", "a\rb", "ends\r", "", "=sum"]
    for row in (cells, cells[4:5]):
        line = ",".join(cell(text, "string") for text in row) + "\n"
        assert list(csv.reader(io.StringIO(line, newline=""))) == [row if row != [""] else []]


def test_table_layer_reports_file_row_field_and_reason(tmp_path):
    from dprk_timeline.checks.tables import validate_package
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(ROOT / "datapackage.json", tmp_path / "datapackage.json")
    launches = tmp_path / "data" / "launches.csv"
    launches.write_text(launches.read_text().replace("2022-01-30-1,2022-01-30,2022-01-29T22:52:00Z,minute,mupyong-ni,Jagang Province,in the ocean,hwasong-12,IRBM,1,2000,", "2022-01-30-1,2022-01-30,2022-01-29T22:52:00Z,minute,mupyong-ni,Jagang Province,in the ocean,hwasong-12,IRBM,1,very high,"))
    claims = tmp_path / "data" / "claims.csv"
    claims.write_text(claims.read_text().replace(",kr-jcs,", ",kr-nobody,", 1))
    rows, problems = validate_package(tmp_path)
    lines = [str(p) for p in problems]
    assert any(re.match(r"data/launches.csv: row [0-9]+, field apogee_km: type-error", line) for line in lines), lines
    assert any(line.startswith("data/claims.csv: ") and "foreign-key" in line for line in lines), lines
    # as many as frictionless finds validating the package itself, on as many rows
    from frictionless import validate
    report = validate(str(tmp_path / "datapackage.json"))
    assert len(problems) == len(report.flatten(["type"])) >= 2
    assert rows == sum(task.stats.get("rows", 0) for task in report.tasks)  # (an empty table has no count)


def test_a_build_failing_its_expectations_writes_nothing(scratch):
    from conftest import changeset
    before = snapshot(scratch.root)
    scratch.add("2026-11-22-too-high.json", changeset({
        "type": "claims", "launch_id": "2022-01-30-1", "source": "epoch-times-2022-01-31-hwasong-12", "claimant": "kr-jcs",
        "claims": [{"attribute": "missile_count", "original": {"text": "40 missiles", "value": 40, "unit": "missiles"}}]}))
    done = scratch.run("build")
    assert done.returncode == 1
    assert "4. expectations   FAILED" in done.stdout
    assert "launches: missile_count is between 1 and 20: fails for 2022-01-30-1" in done.stderr
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
    assert "2022: launches" in timeline and "proposal blocked or vetoed" in timeline
    assert "UN Security Council" in timeline and "United States" in timeline  # the UN's actions and the US's apart
    assert "no exact day: latest possible" in timeline  # the US draft resolution of May 2022 has no exact day
    last = (ROOT / "data" / "launches.csv").read_text(encoding="utf-8").splitlines()[-1].split(",")[1]
    assert f"{last[:4]} is partial (hatched)" in per_year
    for svg in (per_year, timeline):
        assert "<dc:date>" not in svg  # no creation date: a rebuild gives the same bytes
        assert "Source: dprk-timeline" in svg and "Data through: launches to " in svg
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](charts/launches-per-year.svg)" in readme and "](charts/timeline-2022.svg)" in readme


def test_rows_sort_by_primary_key_with_numbers_as_numbers():
    from dprk_timeline.render.tables import sorted_rows

    claims = [("cs/10.1",), ("cs/2.10",), ("cs/2.9",), ("cs/2.1",), ("cs/1.1",), ("cr/99.1",)]
    assert [row[0] for row in sorted_rows("claims", claims)] == ["cr/99.1", "cs/1.1", "cs/2.1", "cs/2.9", "cs/2.10",
                                                                   "cs/10.1"]
    # several fields: the first decides, then the next; a prefix sorts first; numbers compare by value
    firings = [("2022-01-05-10", 1), ("2022-01-05-2", 10), ("2022-01-05-2", 9), ("2022-01-05", 3)]
    assert sorted_rows("firings", firings) == [("2022-01-05", 3), ("2022-01-05-2", 9), ("2022-01-05-2", 10),
                                               ("2022-01-05-10", 1)]


def test_changesets_are_replayed_in_log_order_whatever_their_names(founding):
    """The log's order is recorded_at, then the file name: a changeset named to sort last but recorded first is
    replayed first, so that the later one can name what it registered."""
    import pytest

    from conftest import NEXT, changeset
    from dprk_timeline import build
    from dprk_timeline.problems import CheckFailed

    founding.add("2026-11-22-z-first.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T",
                                                       "kind": "government"}))
    founding.add("2026-11-22-a-later.json", changeset({"type": "actor", "actor_id": "test-child", "name": "C",
                                                       "kind": "government", "parent": "test-actor"},
                                                      recorded_at=dt_after(NEXT)))
    with pytest.raises(CheckFailed) as failed:
        build.run(founding.root)
    assert failed.value.layer == "drift", [str(p) for p in failed.value.problems]  # (data/ is the founding log's)


def dt_after(instant: str) -> str:
    import datetime as dt
    moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00")) + dt.timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
