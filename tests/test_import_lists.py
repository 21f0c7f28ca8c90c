"""The UN list and OFAC importers on small files in the upstream formats, and on the real snapshots."""
import json
import shutil

import pytest

from conftest import ROOT, SHARED
from dprk_timeline.cli import main
from helpers import tables

UN_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<CONSOLIDATED_LIST dateGenerated="2026-01-15T00:00:00.000Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID><VERSIONNUM>1</VERSIONNUM><FIRST_NAME>RI</FIRST_NAME><SECOND_NAME>HONG-SOP</SECOND_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.003</REFERENCE_NUMBER><LISTED_ON>2009-07-16</LISTED_ON>
      <COMMENTS1>Former director,
Yongbyon Nuclear Research Centre.</COMMENTS1>
      <DESIGNATION><VALUE>Former director</VALUE></DESIGNATION>
      <NATIONALITY><VALUE>Democratic People's Republic of Korea</VALUE></NATIONALITY>
      <LAST_DAY_UPDATED><VALUE>2017-06-02</VALUE></LAST_DAY_UPDATED>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Ri Hong Sop</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1940-01-02</DATE></INDIVIDUAL_DATE_OF_BIRTH>
      <SHOE_SIZE>44</SHOE_SIZE>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>2</DATAID><FIRST_NAME>KIM</FIRST_NAME><SECOND_NAME>SONG</SECOND_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.090</REFERENCE_NUMBER><LISTED_ON>2017-06-02</LISTED_ON>
      <COMMENTS1>Official.</COMMENTS1>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1970-05-05</DATE></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>3</DATAID><FIRST_NAME>SOMEONE</FIRST_NAME><SECOND_NAME>ELSE</SECOND_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>CDi.001</REFERENCE_NUMBER><LISTED_ON>2012-12-31</LISTED_ON>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>4</DATAID><FIRST_NAME>TANGUN TRADING CORPORATION</FIRST_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPe.009</REFERENCE_NUMBER><LISTED_ON>2009-07-16</LISTED_ON>
      <COMMENTS1>Procurement of commodities.</COMMENTS1>
      <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>"TANGUN"</ALIAS_NAME></ENTITY_ALIAS>
      <LAST_DAY_UPDATED><VALUE>2017-06-02</VALUE></LAST_DAY_UPDATED>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"""
TAIL = "Secondary sanctions risk: North Korea Sanctions Regulations, sections 510.201 and 510.210"
BASE = [
    '100,"RI, Hong Sop","individual","NPWMD",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 02 Jan 1940; nationality Korea, North; ' + TAIL + '."',
    '101,"TANGUN TRADING CORPORATION",-0- ,"NPWMD] [DPRK2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"' + TAIL + "; a.k.a. 'TANGUN'.\"",
    '102,"KIM, Song","individual","DPRK3",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 09 Sep 1981; nationality Korea, North; ' + TAIL + '."',
]
ADDED = '103,"CHANG, Ok","individual","DPRK3",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 1975; nationality Russia; ' + TAIL + '."'


def write_ofac(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text("".join(line + "\r\n" for line in lines), encoding="utf-8")
    return folder


def run(root, command, path, capsys):
    code = main(["import", command.removeprefix("import-"), "--root", str(root), str(path)])
    return code, capsys.readouterr()


@pytest.fixture
def lists(founding, tmp_path, capsys):
    un = tmp_path / "consolidated.xml"
    un.write_text(UN_XML, encoding="utf-8")
    ofac = write_ofac(tmp_path / "ofac", {"sdn_2021-01-01T0900Z.csv": BASE, "sdn_2021-02-01T1800Z.csv": BASE[:2] + [BASE[2].replace("DPRK3", "DPRK3] [DPRK4"), ADDED],
                                         "sdn_2021-03-02T0146Z.csv": BASE[1:] + [ADDED]})  # 1 March in Washington
    code, un_out = run(founding.root, "import-un", un, capsys)
    assert code == 0, un_out.err
    code, ofac_out = run(founding.root, "import-ofac", ofac, capsys)
    assert code == 0, ofac_out.err
    return founding, un, ofac, un_out, ofac_out


def test_un_entries_become_parties_with_listing_and_amendment_actions(lists):
    founding, *_ , un_out, _ = lists
    t = tables(founding.root)
    ri = t["parties"]["kpi.003"]
    assert (ri["name"], ri["kind"], ri["nationality"], ri["un_reference"], ri["date_of_birth"]) == ("RI HONG-SOP", "individual", "KP", "KPi.003", "1940-01-02")
    assert ri["title"] == "Former director" and ri["remarks"] == "Former director, Yongbyon Nuclear Research Centre."
    assert "cdi.001" not in t["parties"]                                 # other regimes are not imported
    listing = t["sanctions"]["unsc-1718-listing-2009-07-16"]
    assert (listing["action"], listing["authority_id"], listing["parties_named"]) == ("designation", "unsc", 2)
    assert t["sanctions"]["unsc-1718-amendment-2017-06-02"]["parties_named"] == 2
    assert t["sources"]["un-consolidated-list-2026-01-15"]["published"] == "2026-01-15"
    assert "warning: consolidated.xml: field SHOE_SIZE in 1 entries not handled by this importer" in un_out.out


def test_ofac_entries_are_linked_to_un_parties_on_evidence_never_on_a_name_alone(lists):
    founding, *_ , ofac_out = lists
    parties = tables(founding.root)["parties"]
    assert parties["kpi.003"]["ofac_ent_num"] == 100
    assert "same name and date of birth 1940-01-02" in parties["kpi.003"]["linked_on"]
    assert parties["kpe.009"]["ofac_ent_num"] == 101 and "shared alias TANGUN" in parties["kpe.009"]["linked_on"]
    # KIM SONG is on both lists with different dates of birth: two parties, not one
    assert parties["kpi.090"]["ofac_ent_num"] is None and parties["ofac-102"]["date_of_birth"] == "1981-09-09"
    assert "ofac-100" not in parties and "ofac-101" not in parties


def test_ofac_snapshots_are_diffed_into_dated_actions_with_programmes(lists):
    founding, *_ = lists
    t = tables(founding.root)
    added = t["sanctions"]["ofac-designation-2021-02-01"]
    assert (added["action"], added["authority_id"], added["date"], added["programme"], added["parties_named"]) == (
        "designation", "us-ofac", "2021-02-01", "DPRK3", 1)
    assert ("ofac-designation-2021-02-01", "ofac-103") in t["sanction_parties"]
    assert t["parties"]["ofac-103"]["nationality"] == "RU" and t["parties"]["ofac-103"]["date_of_birth"] == "1975"
    assert t["sanctions"]["ofac-amendment-2021-02-01"]["programme"] == "DPRK3; DPRK4"
    removed = t["sanctions"]["ofac-delisting-2021-03-01"]
    assert ("ofac-delisting-2021-03-01", "kpi.003") in t["sanction_parties"] and removed["parties_named"] == 1
    assert not [a for a in t["sanctions"] if a.endswith("2021-01-01")]  # the first snapshot is the baseline
    # dated by the day in Washington: a copy at 01:46 UTC on 2 March is of the evening of 1 March there
    assert removed["date"] == "2021-03-01" and t["sources"]["ofac-sdn-2021-03-02t0146z"]["published"] == "2021-03-01"
    assert t["sources"]["ofac-sdn-2021-02-01t1800z"]["published"] == "2021-02-01"


def test_list_imports_are_idempotent_and_incremental(lists, capsys):
    founding, un, ofac, *_ = lists
    before = sorted(p.name for p in (founding.root / "events").iterdir())
    assert run(founding.root, "import-un", un, capsys)[1].out.splitlines()[-1].startswith("nothing to import")
    assert run(founding.root, "import-ofac", ofac, capsys)[1].out.splitlines()[-1].startswith("nothing to import")
    assert sorted(p.name for p in (founding.root / "events").iterdir()) == before
    write_ofac(ofac, {"sdn_2021-04-01T1800Z.csv": BASE[1:]})
    code, printed = run(founding.root, "import-ofac", ofac, capsys)
    assert code == 0
    [newest] = [p for p in (founding.root / "events").iterdir() if p.name not in before]
    events = json.loads(newest.read_text())["events"]
    assert [e["type"] for e in events] == ["source", "sanction"] and events[1]["parties"] == ["ofac-103"]


def test_a_malformed_ofac_file_is_a_clear_error(founding, tmp_path, capsys):
    folder = write_ofac(tmp_path / "bad", {"sdn_2021-01-01T0900Z.csv": ['100,"RI, Hong Sop","individual"']})
    code, printed = run(founding.root, "import-ofac", folder, capsys)
    assert code == 1 and "sdn_2021-01-01T0900Z.csv: line 1: expected 12 columns" in printed.err
    assert "Traceback" not in printed.err
    code, printed = run(founding.root, "import-un", tmp_path / "none.xml", capsys)
    assert code == 1 and "none.xml: file not found" in printed.err


UPSTREAM = SHARED / "upstream"


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared/upstream (the real UN and OFAC snapshots) is not beside the checkout")
def test_the_committed_log_holds_the_real_lists():
    from dprk_timeline.importers import ofac, un
    from dprk_timeline.importing import current_state
    state, _ = current_state(ROOT)
    generated, entries, _ = un.read_list(UPSTREAM / "un-sc-consolidated" / "consolidated_2026-02-27.xml")
    assert len(entries) == 155
    assert un.plan(un.DEFAULT, state).events == []
    assert ofac.plan(ofac.DEFAULT, state).events == []
    t = tables(ROOT)
    assert len([p for p in t["parties"].values() if p["un_reference"]]) == 155
    action = t["sanctions"]["ofac-designation-2022-01-12"]
    named = [p for (a, p) in t["sanction_parties"] if a == "ofac-designation-2022-01-12"]
    assert len(named) == 8 and sum(t["parties"][p]["nationality"] == "KP" for p in named) == 6
    assert action["programme"] == "NPWMD"
    veto = t["sanctions"]["unsc-veto-2022-05-26"]
    assert veto["blocked_by"] == "cn-gov; ru-gov" and veto["refers_to"] == "us-unsc-draft-resolution-2022-05"
