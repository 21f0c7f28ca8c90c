"""The SQLite and JSON exports hold exactly the published tables, with their keys enforced."""
import json
import sqlite3

import pytest

from conftest import changeset

from conftest import ROOT
from dprk_timeline.export import to_json, to_sqlite


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dist")
    to_sqlite(ROOT, folder / "dprk-timeline.sqlite")
    to_json(ROOT, folder / "dprk-timeline.json")
    return folder


def csv_rows(name):
    return (ROOT / "data" / f"{name}.csv").read_text(encoding="utf-8").count("\n") - 1


def test_sqlite_has_every_table_with_the_csv_row_counts_and_no_broken_key(exported):
    package = json.loads((ROOT / "datapackage.json").read_text())
    db = sqlite3.connect(exported / "dprk-timeline.sqlite")
    for resource in package["resources"]:
        assert db.execute(f'SELECT count(*) FROM "{resource["name"]}"').fetchone()[0] == csv_rows(resource["name"])
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("SELECT value FROM package_metadata WHERE key = 'version'").fetchone()[0] == package["version"]


def test_sqlite_enforces_primary_keys_foreign_keys_and_enumerations(exported):
    db = sqlite3.connect(exported / "dprk-timeline.sqlite")
    db.execute("PRAGMA foreign_keys = ON")
    row = db.execute("SELECT * FROM actors LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute("INSERT INTO actors VALUES (?, ?, ?, ?, ?)", row)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute("INSERT INTO launch_statements VALUES ('2099-01-01-1', 'no-such-statement', 'no-such-source')")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE statements SET stance = 'angry' WHERE rowid = 1")


def test_sqlite_views_answer_the_common_questions(exported):
    db = sqlite3.connect(exported / "dprk-timeline.sqlite")
    reactions = db.execute("SELECT count(*) FROM launch_reactions WHERE launch_id = '2022-11-18-1'").fetchone()[0]
    assert reactions == csv_rows("launch_statements") - len([line for line in (ROOT / "data" / "launch_statements.csv")
                                                                .read_text().splitlines()[1:] if not line.startswith("2022-11-18-1,")])
    names = {r[0] for r in db.execute("SELECT name FROM sanction_party_list WHERE action_id = 'ofac-designation-2022-01-12'")}
    assert "PYON, Kwang Chol" in names and len(names) == 8
    per_year = dict(db.execute("SELECT year, launch_events FROM launches_per_year"))
    in_2022 = [line for line in (ROOT / "data" / "launches.csv").read_text().splitlines()[1:] if line.split(",")[1][:4] == "2022"]
    assert per_year["2022"] == len(in_2022) >= 39


def test_json_holds_every_table_with_typed_values(exported):
    document = json.loads((exported / "dprk-timeline.json").read_text())
    assert {name: len(rows) for name, rows in document["tables"].items()} == {
        name: csv_rows(name) for name in document["tables"]}
    launch = next(r for r in document["tables"]["launches"] if r["launch_id"] == "2022-01-30-1")
    assert launch["apogee_km"] == 2000 and launch["missile_count"] == 1 and launch["sources_disagree"] is False
    assert launch["apogee_qualifier"] == "approximate" and launch["flight_time_s"] == 1800


def test_load_reads_a_checkout_an_unpacked_release_and_a_past_version(tmp_path):
    import subprocess
    import zipfile

    from conftest import NEXT
    from dprk_timeline.cli import main
    from dprk_timeline.load import load, load_all
    # the checkout, typed
    launches = load("launches")
    assert str(launches["launched_at_utc"].dt.tz) == "UTC" and launches["missile_count"].dtype == "Int64"
    assert launches["missile_class"].dtype == "category" and launches["launch_id"].is_unique
    # an unpacked release zip
    from dprk_timeline.release import build_dist
    build_dist(ROOT, {"version": "0.0.0-test", "date": "2026-12-05"}, tmp_path / "dist")
    zipfile.ZipFile(tmp_path / "dist" / "dprk-timeline-0.0.0-test.zip").extractall(tmp_path / "unpacked")
    unpacked = load_all(tmp_path / "unpacked" / "dprk-timeline-0.0.0-test")
    assert len(unpacked["claims"]) == len(load("claims"))
    # a past version, from the git history of a clone given one more launch
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    before = len(load("launches", clone))
    event = {"type": "launch", "launch_id": "2026-11-20-1", "source": "epoch-times-2022-01-31-hwasong-12",
             "claimant": "kr-jcs", "claims": [{"attribute": "korea_date", "value": "2026-11-20"}]}
    (clone / "events" / "2026-11-22-test.json").write_text(json.dumps(changeset(event, recorded_at=NEXT)))
    assert main(["build", "--root", str(clone)]) == 0
    git = ["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "one more launch"], check=True)
    assert len(load("launches", clone)) == before + 1
    assert len(load("launches", clone, version="1.0.0")) == 177  # as released on 22 November 2026


def test_datasette_metadata_describes_the_package_every_table_and_column():
    from dprk_timeline.export import datasette_metadata

    metadata = datasette_metadata(ROOT, "dprk-timeline")
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    assert metadata["license"] == "CC-BY-4.0" and metadata["description"] == package["description"]
    assert "Office of Foreign Assets Control" in metadata["source"]
    tables = metadata["databases"]["dprk-timeline"]["tables"]
    launches = next(r for r in package["resources"] if r["name"] == "launches")
    assert set(tables) == {r["name"] for r in package["resources"]}
    assert tables["launches"]["columns"]["apogee_km"] == next(
        f["description"] for f in launches["schema"]["fields"] if f["name"] == "apogee_km")


def test_the_reactions_view_gives_each_statements_source_address_and_summary(exported):
    db = sqlite3.connect(exported / "dprk-timeline.sqlite")
    rows = db.execute("SELECT summary, source_url FROM launch_reactions").fetchall()
    assert rows and all(summary for summary, _ in rows)
    addressed = [url for _, url in rows if url]  # (the founding reports were read as files: no address)
    assert len(addressed) >= len(rows) - 16 and all(url.startswith(("https://", "http://")) for url in addressed)
