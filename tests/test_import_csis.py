"""The CSIS provocations importer on a small export in its own format: a second claimant for the launches."""
import json

import pytest

from conftest import changeset
from dprk_timeline.cli import main
from helpers import tables

COMMIT = "c" * 40
HEADER = '"Date","Type","Event","Description","Resources"\n'
ROWS = [
    ("2022-01-30", "Missile Provocation", "Intermediate-range Ballistic Missile Launch"),    # the founding IRBM
    ("2022-01-06", "Missile Provocation", "Short-range Ballistic Missile Launch"),           # a day after 2022-01-05-1
    ("2022-01-25", "Missile Provocation", "Long-range Cruise Missile Launch"),               # not ballistic
    ("2022-01-14", "Missile Provocation", "Short-range Missile Launch"),                     # no launch that day
    ("2022-01-20", "Other Provocation", "Exchange of Fire"),                                 # not a missile
    ("2022-01-21", "Missile Provocation", "Hypersonic Glide Test"),                          # a label not known
]


def export(path, rows=ROWS):
    text = HEADER + "".join(f'"{d}","{t}","{e}","CSIS prose that must never be copied, ""quoted"".","https://x"\n'
                            for d, t, e in rows)
    path.write_text(text, encoding="utf-8")
    return path


def run_import(root, path, capsys):
    code = main(["import", "csis", "--root", str(root), str(path), "--commit", COMMIT, "--published", "2022-10-14"])
    return code, capsys.readouterr()


def test_rows_become_claims_of_csis_on_the_launches_of_their_korea_date(founding, tmp_path, capsys):
    code, printed = run_import(founding.root, export(tmp_path / "Provocations New.csv"), capsys)
    assert code == 0, printed.err
    t = tables(founding.root)
    claims = {(c["launch_id"], c["attribute"]): c for c in t["claims"].values() if c["claimant_id"] == "csis"}
    assert claims[("2022-01-30-1", "korea_date")]["value"] == "2022-01-30"
    assert claims[("2022-01-30-1", "missile_class")]["value"] == "IRBM"
    assert claims[("2022-01-30-1", "korea_date")]["source_record"] == "Provocations_New.csv#2022-01-30/1"
    # a ballistic row one day off goes to the only launch a day away, and the disagreement shows
    assert claims[("2022-01-05-1", "korea_date")]["value"] == "2022-01-06"
    assert t["launches"]["2022-01-05-1"]["sources_disagree"] is True
    assert "its claims go to 2022-01-05-1, a day away" in printed.out
    assert "Long-range Cruise Missile Launch: not a ballistic launch" in printed.out
    assert "no launch of Korea date 2022-01-14 in the log" in printed.out
    assert "warning: event label 'Hypersonic Glide Test' in 1 missile rows not handled by this importer" in printed.out
    assert "warning: Provocations New.csv: column 'Description' not imported: CSIS's own prose" in printed.out
    assert "must never be copied" not in json.dumps(t["claims"]) + json.dumps(t["sources"])
    assert t["sources"][f"csis-provocations-{COMMIT[:7]}"]["attribution"].startswith("CSIS Beyond Parallel")


def test_a_second_import_appends_nothing_and_new_launches_get_their_claims(founding, tmp_path, capsys):
    path = export(tmp_path / "Provocations New.csv")
    assert run_import(founding.root, path, capsys)[0] == 0
    before = sorted(p.name for p in (founding.root / "events").iterdir())
    code, printed = run_import(founding.root, path, capsys)
    assert code == 0 and "nothing to import" in printed.out
    assert sorted(p.name for p in (founding.root / "events").iterdir()) == before
    # a launch of 14 January recorded later: the next import gives it the row of that day
    founding.add("2026-11-22-z.json", changeset({"type": "launch", "launch_id": "2022-01-14-1", "claimant": "kr-jcs",
                                                 "source": "epoch-times-2022-01-31-hwasong-12",
                                                 "claims": [{"attribute": "korea_date", "value": "2022-01-14"}]},
                                                recorded_at="2026-11-22T23:00:00Z"))
    assert run_import(founding.root, path, capsys)[0] == 0
    claims = [c for c in tables(founding.root)["claims"].values() if c["claimant_id"] == "csis"]
    assert {c["attribute"] for c in claims if c["launch_id"] == "2022-01-14-1"} == {"korea_date"}  # no class: label vague


def test_an_export_without_its_columns_is_a_clear_error(founding, tmp_path, capsys):
    path = tmp_path / "other.csv"
    path.write_text("when,what\n2022-01-30,launch\n", encoding="utf-8")
    code, printed = run_import(founding.root, path, capsys)
    assert code == 1 and "other.csv: expected the columns Date, Type and Event" in printed.err
    code, printed = run_import(founding.root, tmp_path / "missing.csv", capsys)
    assert code == 1 and "missing.csv: file not found" in printed.err
    with pytest.raises(SystemExit):
        main(["import", "csis", "--root", str(founding.root), str(path), "--commit", "abc", "--published", "2022-10-14"])
