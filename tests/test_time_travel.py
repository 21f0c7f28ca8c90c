"""The tables as of a past recorded time, and as reported by a past date."""
from conftest import ROOT, changeset, snapshot
from dprk_timeline.cli import main
from helpers import tables

FIRST, SECOND = "2026-11-22T03:14:00Z", "2026-11-22T03:15:00Z"  # the two founding changesets


def test_as_of_a_recorded_time_between_the_founding_changesets_holds_only_the_first_report():
    t = tables(ROOT, as_of="2026-11-22T03:14:30Z")
    assert set(t["launches"]) == {"2022-01-05-1"}
    assert set(t["sources"]) == {"washington-examiner-2022-01-05-launch"}
    assert not t["sanctions"] and len(t["statements"]) == 9
    assert tables(ROOT, as_of=SECOND)["launches"].keys() == {"2022-01-05-1", "2022-01-30-1"}
    assert not tables(ROOT, as_of="2026-11-22T03:00:00Z")["launches"]


def test_reported_by_keeps_only_what_sources_had_published():
    # a launch is public once a source published by then has a claim about it: not when only the CNS
    # compilation of 2026 has it
    jan4 = tables(ROOT, reported_by="2022-01-04")
    assert "2017-05-14-1" in jan4["launches"] and "2022-01-05-1" not in jan4["launches"]
    cns_only = {c["launch_id"] for c in tables(ROOT)["claims"].values()} - {
        c["launch_id"] for c in tables(ROOT)["claims"].values() if c["claimant_id"] != "cns"}
    assert cns_only and not cns_only & set(jan4["launches"])
    assert all(c["source_published"] <= "2022-01-04" for c in jan4["claims"].values())
    jan5 = tables(ROOT, reported_by="2022-01-05")
    assert set(jan5["launches"]) == set(jan4["launches"]) | {"2022-01-05-1"}
    assert "ofac-designation-2021-12-10" in jan5["sanctions"] and "ofac-designation-2022-01-12" not in jan5["sanctions"]
    jan5_published = {sid: s["published"][:10] for sid, s in jan5["sources"].items()}
    assert {s["source_id"] for s in jan5["statements"].values() if jan5_published[s["source_id"]] == "2022-01-05"} == {
        "washington-examiner-2022-01-05-launch"}
    assert all(jan5_published[s["source_id"]] <= "2022-01-05" for s in jan5["statements"].values())
    jan31 = tables(ROOT, reported_by="2022-01-31")
    assert {"2022-01-05-1", "2022-01-30-1"} <= set(jan31["launches"])
    published = {sid: s["published"] for sid, s in jan31["sources"].items()}
    for table in ("claims", "statements", "sanctions", "context"):
        assert all(published[row["source_id"]] <= "2022-01-31" for row in jan31[table].values()), table
    assert {"us-unsc-proposal-six-north-koreans", "unsc-blocked-us-proposal-six-north-koreans",
            "ofac-designation-2022-01-12"} <= set(jan31["sanctions"])
    assert not [a for a in jan31["sanctions"] if a.startswith("unsc-1718-")]  # the UN list we hold is of 2026


def test_reported_by_applies_a_correction_only_once_its_source_is_public(scratch):
    source = {"type": "source", "source_id": "test-later-source", "kind": "news_article", "publisher": "P",
              "published": "2022-02-10"}
    fix = {"type": "correction", "target": "claim:2026-11-22-epoch-times-2022-01-31/8.8", "source": "test-later-source",
           "reason": "A later report gives a lower top speed.",
           "claim": {"attribute": "max_speed_mach", "original": {"text": "Mach 15", "value": 15, "unit": "mach"}}}
    extra = {"type": "claims", "launch_id": "2022-01-30-1", "source": "test-later-source", "claimant": "jp-gov",
             "claims": [{"attribute": "landing_area", "value": "Sea of Japan"}]}
    scratch.add("2026-11-22-later.json", changeset(source, fix, extra))
    then = tables(scratch.root, reported_by="2022-01-31")["launches"]["2022-01-30-1"]
    assert then["max_speed_mach"] == 16 and then["landing_area"] == "in the ocean"
    later = tables(scratch.root, reported_by="2022-02-10")["launches"]["2022-01-30-1"]
    assert later["max_speed_mach"] == 15 and later["landing_area"] == "Sea of Japan"
    assert tables(scratch.root)["launches"]["2022-01-30-1"]["max_speed_mach"] == 15


def test_time_travel_writes_to_out_and_never_over_data(tmp_path, capsys):
    before = snapshot(ROOT)
    assert main(["build", "--reported-by", "2022-01-05"]) == 2
    assert "--out DIR" in capsys.readouterr().err
    out = tmp_path / "jan5"
    assert main(["build", "--reported-by", "2022-01-05", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    launches = (out / "data" / "launches.csv").read_text().count("\n") - 1
    assert f"{launches} launches" in printed and "5. drift          skipped" in printed
    assert 2 <= launches < (ROOT / "data" / "launches.csv").read_text().count("\n") - 1
    assert (out / "datapackage.json").exists()
    assert snapshot(ROOT) == before


def test_an_invalid_time_is_refused_by_the_command_line(capsys):
    try:
        main(["build", "--as-of", "yesterday", "--out", "/tmp/x"])
    except SystemExit as exit:
        assert exit.code == 2
    assert "is not an ISO 8601 time" in capsys.readouterr().err
