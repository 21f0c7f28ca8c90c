"""The CNS importer on small snapshots written in the upstream format, and on the real one."""
import copy
import json

import pytest

from conftest import SHARED, ROOT
from dprk_timeline.cli import main
from helpers import tables

COMMIT_1, COMMIT_2 = "1" * 40, "2" * 40
FACILITIES = {"facilities": {
    "mupyong-ni": {"name": "Mupyong-ni", "lat": 40.6, "lon": 126.4},
    "sohae": {"name": "Sohae Satellite Launching Station", "lat": 39.6596, "lon": 124.7057},
    "hungnam": {"name": "Hungnam", "lat": 39.8, "lon": 127.6},
    "wonsan": {"name": "Wonsan Kalma International Airport", "lat": 39.1677, "lon": 127.4817},
    "tonghae": {"name": "Tonghae Satellite Launching Ground", "lat": 40.85, "lon": 129.67},
    "unknown": {"name": "Unknown", "lat": 39.2, "lon": 125.67},
}}
MISSILES = {
    "hwasong-12a": {"name": "Hwasong-12A", "type": "MRBM", "maneuver": "glide"},
    "hwasong-11a": {"name": "Hwasong-11A (KN-23)", "type": "SRBM", "maneuver": "pullup"},
    "musudan": {"name": "Musudan", "type": "IRBM"},
    "scud-b": {"name": "Scud-B", "type": "SRBM"},
    "unknown": {"name": "Unknown", "type": "Unknown"},
}


def cns_row(date, time="unknown", missile="hwasong-11a", facility="hungnam", **extra):
    row = {"date": date, "time": time, "missile": missile, "facility": facility, "landing": "sea-of-japan",
           "apogee": 50, "distance": 300, "bearing": 80, "outcome": "success",
           "description": "Prose written by CNS that must never be copied."}
    row.update(extra)
    return row


TESTS = [
    cns_row("1984-09", missile="scud-b", facility="tonghae", series=1, apogee="unknown"),           # month only
    cns_row("1984-09", missile="scud-b", facility="tonghae", series=2, apogee="200", outcome="failure"),
    cns_row("2016-06-21", "20:56 (UTC)", "musudan", "wonsan", series=1),                               # Korea 06-22 05:56
    cns_row("2016-06-21", "23:03 (UTC)", "musudan", "wonsan", series=2),                               # 2 h later: new event
    cns_row("2022-01-04", "23:10 (UTC)", "hwasong-12a", "mupyong-ni", apogee=30, distance=700,        # Korea 01-05: founding
             glide=[{"distance": 500}]),
    cns_row("2022-06-05", "00:06 (UTC)", "unknown", "sohae", series=1, apogee="na"),                   # two sites, one day
    cns_row("2022-06-05", "00:10 (UTC)", "unknown", "hungnam", series=2),
    cns_row("2022-06-05", "unknown", "unknown", "hungnam", series=3, landing="unknown"),               # untimed joins hungnam
    cns_row("2023-03-01", colour="red", landing="moon"),                                               # unknown field and value
]


def write_snapshot(folder, tests, facilities=FACILITIES, missiles=MISSILES):
    folder.mkdir(parents=True, exist_ok=True)
    bins = {}
    for row in tests:
        bins.setdefault(int(row["date"][:4]), []).append(row)
    (folder / "test.en.json").write_text(json.dumps({"timeBins": [{"year": y, "data": d} for y, d in sorted(bins.items())]}))
    (folder / "facility.en.json").write_text(json.dumps(facilities))
    (folder / "missile.en.json").write_text(json.dumps(missiles))
    return folder


def run_import(root, folder, commit=COMMIT_1, capsys=None):
    code = main(["import", "cns", "--root", str(root), str(folder), "--commit", commit, "--published", "2026-04-21"])
    printed = capsys.readouterr() if capsys else None
    return code, printed


@pytest.fixture
def imported(founding, tmp_path, capsys):
    folder = write_snapshot(tmp_path / "snapshot-1", TESTS)
    code, printed = run_import(founding.root, folder, capsys=capsys)
    assert code == 0, printed.err
    return founding, printed


def test_rows_become_launch_events_by_korea_date_site_and_burst(imported):
    founding, _ = imported
    t = tables(founding.root)
    launches = t["launches"]
    assert {"1984-09-00-1", "2016-06-22-1", "2016-06-22-2", "2022-06-05-1", "2022-06-05-2", "2023-03-01-1"} <= set(launches)
    month = launches["1984-09-00-1"]
    assert month["korea_date"] == "1984-09-01" and month["time_precision"] == "month" and month["missile_count"] == 2
    assert month["apogee_km"] == 200 and month["outcome"] == "mixed" and month["site_id"] == "tonghae"
    first, second = launches["2016-06-22-1"], launches["2016-06-22-2"]
    assert first["launched_at_utc"] == "2016-06-21T20:56:00Z" and second["launched_at_utc"] == "2016-06-21T23:03:00Z"
    assert first["missile_count"] == second["missile_count"] == 1
    sohae, hungnam = launches["2022-06-05-1"], launches["2022-06-05-2"]
    assert (sohae["site_id"], sohae["missile_count"]) == ("sohae", 1)
    assert (hungnam["site_id"], hungnam["missile_count"], hungnam["korea_date"]) == ("hungnam", 2, "2022-06-05")
    firings = t["firings"]
    assert firings[("2022-06-05-2", 1)]["launched_at_utc"] == "2022-06-05T00:10:00Z"
    assert firings[("2022-06-05-2", 2)]["launched_at_utc"] is None and firings[("2022-06-05-2", 2)]["landing_area"] is None
    untimed = launches["2023-03-01-1"]
    assert untimed["time_precision"] == "day" and untimed["launched_at_utc"] is None
    korea = [c for c in t["claims"].values() if c["launch_id"] == "2023-03-01-1" and c["attribute"] == "korea_date"]
    assert korea[0]["qualifier"] == "approximate" and "UTC date without a time" in korea[0]["note"]


def test_a_launch_in_the_log_is_matched_not_duplicated(imported):
    founding, printed = imported
    assert "joined launch 2022-01-05-1" in printed.out
    t = tables(founding.root)
    assert not [lid for lid in t["launches"] if lid.startswith("2022-01-05-") and lid != "2022-01-05-1"]
    launch = t["launches"]["2022-01-05-1"]
    assert launch["launched_at_utc"] == "2022-01-04T23:10:00Z" and launch["korea_date"] == "2022-01-05"
    assert launch["missile_type_id"] == "hwasong-12a" and launch["missile_class"] == "MRBM" and launch["site_id"] == "mupyong-ni"
    assert launch["source_count"] == 2 and launch["sources_disagree"] is False


def test_figures_are_claims_of_the_database_with_their_upstream_record(imported):
    founding, _ = imported
    claims = [c for c in tables(founding.root)["claims"].values() if c["claimant_id"] == "cns"]
    assert {c["source_id"] for c in claims} == {f"cns-missile-tests-{COMMIT_1[:7]}"}
    assert all(c["source_record"].startswith("test.en.json#") for c in claims)
    apogee = [c for c in claims if c["source_record"] == "test.en.json#1984-09/2" and c["attribute"] == "apogee_km"][0]
    assert (apogee["original_text"], apogee["original_value"], apogee["value_number"]) == ("apogee: 200", 200, 200)
    texts = json.dumps([c for c in claims])
    assert "must never be copied" not in texts and "Prose written by CNS" not in texts


def test_lookups_come_from_the_snapshot(imported):
    founding, _ = imported
    t = tables(founding.root)
    assert t["missile_types"]["hwasong-11a"]["name"] == "Hwasong-11A" and t["missile_types"]["hwasong-11a"]["aliases"] == "KN-23"
    assert t["missile_types"]["hwasong-12a"]["maneuver"] == "glide"
    assert t["sites"]["sohae"]["latitude"] == 39.6596 and "unknown" not in t["sites"] and "unknown" not in t["missile_types"]
    assert t["sources"][f"cns-missile-tests-{COMMIT_1[:7]}"]["attribution"].startswith("CNS North Korea Missile Test Database")


def test_what_the_importer_does_not_handle_is_reported(imported):
    _, printed = imported
    assert "warning: test.en.json: field 'colour' in 1 rows not imported: field not handled by this importer" in printed.out
    assert "warning: test.en.json: field 'glide' in 1 rows not imported" in printed.out
    assert "warning: test.en.json: field 'description' in 9 rows not imported: CNS's own prose: read, never copied" in printed.out
    assert "warning: test.en.json: landing 'moon' not understood; no landing_area claim (1 rows)" in printed.out


def test_importing_the_same_snapshot_again_appends_nothing(imported, tmp_path, capsys):
    founding, _ = imported
    before = sorted(p.name for p in (founding.root / "events").iterdir())
    code, printed = run_import(founding.root, tmp_path / "snapshot-1", capsys=capsys)
    assert code == 0 and "nothing to import" in printed.out
    assert sorted(p.name for p in (founding.root / "events").iterdir()) == before


def test_a_later_snapshot_appends_only_what_changed(imported, tmp_path, capsys):
    founding, _ = imported
    later = copy.deepcopy(TESTS)
    later[6]["apogee"] = 60                                                # revised figure
    later.insert(8, cns_row("2022-06-05", "00:15 (UTC)", "unknown", "hungnam", series=4))  # one more in a salvo
    later.remove(later[3])                                                 # a row removed upstream
    later.append(cns_row("2024-05-30", "20:00 (UTC)"))                    # a new test
    code, printed = run_import(founding.root, write_snapshot(tmp_path / "snapshot-2", later), COMMIT_2, capsys)
    assert code == 0, printed.err
    newest = sorted((founding.root / "events").glob("*import-cns-2222222*"))[0]
    events = json.loads(newest.read_text())["events"]
    kinds = sorted(e["type"] for e in events)
    assert kinds.count("launch") == 1 and kinds.count("source") == 1
    corrections = [e for e in events if e["type"] == "correction"]
    assert {e["reason"] for e in corrections} == {"revised upstream"}
    assert {e["claim"]["attribute"] for e in corrections} == {"apogee_km", "missile_count"}
    assert {e["reason"] for e in events if e["type"] == "retraction"} == {"removed upstream"}
    t = tables(founding.root)
    assert t["launches"]["2022-06-05-2"]["missile_count"] == 3 and t["launches"]["2022-06-05-2"]["apogee_km"] == 60
    assert t["launches"]["2024-05-31-1"]["korea_date"] == "2024-05-31"
    assert "2016-06-22-2" not in t["launches"]                             # its only row was removed upstream
    retired = [c for c in t["changes"].values() if c["record_id"] == "2016-06-22-2" and c["change"] == "retracted"]
    assert retired and retired[0]["reason"] == "removed upstream"
    superseded = [c for c in t["claims"].values() if c["status"] == "superseded"]
    assert all(c["replaced_by"] for c in superseded) and len(superseded) == 2
    code, printed = run_import(founding.root, tmp_path / "snapshot-2", COMMIT_2, capsys)
    assert "nothing to import" in printed.out


def test_an_unreadable_snapshot_is_a_clear_error(founding, tmp_path, capsys):
    code, printed = run_import(founding.root, tmp_path / "missing", capsys=capsys)
    assert code == 1 and "test.en.json: file not found" in printed.err and "Traceback" not in printed.err
    with pytest.raises(SystemExit) as usage:
        main(["import", "cns", "--root", str(founding.root), str(tmp_path), "--commit", "abc", "--published", "2026-04-21"])
    assert usage.value.code == 2 and "'abc' is not a 40-digit hexadecimal commit" in capsys.readouterr().err


REAL = SHARED / "upstream" / "cns-via-nagix"


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/upstream/cns-via-nagix (the real snapshot) is not beside the checkout")
def test_the_committed_log_holds_every_test_of_the_real_snapshot(capsys):
    from types import SimpleNamespace

    from dprk_timeline.importers import cns
    from dprk_timeline.importing import current_state
    snapshot = cns.read_snapshot(REAL)
    assert len(snapshot.rows) == 339
    state, _ = current_state(ROOT)
    options = SimpleNamespace(commit="a0cc65874d36a4a0fdf16b73919d23a3a8f5dac5", published="2026-04-21")
    assert cns.plan(REAL, state, options).events == []       # a re-import appends nothing
    keys = {c.source_record for c in state.claims.values() if c.claimant == "cns" and c.missile}
    assert keys == {row.key for row in snapshot.rows}
    t = tables(ROOT)
    missiles = {(c["launch_id"], c["missile"]) for c in t["claims"].values() if c["claimant_id"] == "cns" and c["missile"]}
    assert len(missiles) == 339 and missiles <= set(t["firings"])  # each row a missile of the firings table
