"""scripts/update.py against a local HTTP server on 127.0.0.1 serving files in the upstream formats: the
right changesets appear, a second run appends nothing, and bad downloads are refused with events/ as it was."""
import copy
import fcntl
import http.server
import json
import threading

import pytest

from conftest import ROOT
from dprk_timeline import update as updating
from dprk_timeline.cli import main
from helpers import tables
from test_import_cns import FACILITIES, MISSILES, TESTS, cns_row
from test_import_lists import ADDED, BASE, UN_XML

GOOD_UN = UN_XML.replace("<SHOE_SIZE>44</SHOE_SIZE>", "")  # (that field is the changed-format case)
OTHER = '200,"SOMEONE ELSE",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"Not North Korea related."'
CNS_TESTS = TESTS[:8]  # (the last row has an unknown field)
COMMIT = {"sha": "3" * 40, "commit": {"committer": {"date": "2026-11-01T08:00:00Z"}}}


def day_one() -> dict:
    return {"/un/consolidated.xml": (GOOD_UN, "text/xml"),
            "/ofac/sdn.csv": ("\r\n".join(BASE + [OTHER]) + "\r\n", "text/csv"),
            "/cns/commits": (json.dumps([COMMIT]), "application/json"),
            "/cns/test.en.json": (json.dumps(bins(CNS_TESTS)), "application/json"),
            "/cns/facility.en.json": (json.dumps(FACILITIES), "application/json"),
            "/cns/missile.en.json": (json.dumps(MISSILES), "application/json"),
            "/cns/satellite.en.json": ("[]", "application/json")}


def bins(rows):
    years = {}
    for row in rows:
        years.setdefault(int(row["date"][:4]), []).append(row)
    return {"timeBins": [{"year": y, "data": d} for y, d in sorted(years.items())]}


def day_two() -> dict:
    served = day_one()
    un = GOOD_UN.replace("<VALUE>2017-06-02</VALUE></LAST_DAY_UPDATED>\n    </ENTITY>",
                         "<VALUE>2026-11-03</VALUE></LAST_DAY_UPDATED>\n    </ENTITY>")          # an amendment
    un = un.replace("  </INDIVIDUALS>", """    <INDIVIDUAL>
      <DATAID>9</DATAID><FIRST_NAME>PAK</FIRST_NAME><SECOND_NAME>NEW</SECOND_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.099</REFERENCE_NUMBER><LISTED_ON>2026-11-03</LISTED_ON>
      <COMMENTS1>Official.</COMMENTS1>
    </INDIVIDUAL>
  </INDIVIDUALS>""")                                                                              # a new designation
    served["/un/consolidated.xml"] = (un.replace("2026-01-15T00:00:00.000Z", "2026-11-04T00:00:00.000Z"), "text/xml")
    ofac = [BASE[1], BASE[2].replace("DOB 09 Sep 1981", "DOB 10 Sep 1981"), ADDED, OTHER]  # 100 removed, 102 amended
    served["/ofac/sdn.csv"] = ("\r\n".join(ofac) + "\r\n", "text/csv")
    later = copy.deepcopy(CNS_TESTS)
    later[6]["apogee"] = 60                                          # a revised figure
    later.remove(later[3])                                           # a removed row
    later.append(cns_row("2026-10-30", "20:00 (UTC)"))               # a new launch
    served["/cns/commits"] = (json.dumps([{**COMMIT, "sha": "4" * 40}]), "application/json")
    served["/cns/test.en.json"] = (json.dumps(bins(later)), "application/json")
    return served


class Upstream(http.server.BaseHTTPRequestHandler):
    served: dict = {}

    def do_GET(self):  # noqa: N802 - the handler's name
        if self.path not in self.served:
            self.send_error(404)
            return
        body, kind = self.served[self.path]
        body = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Upstream.served = day_one()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture
def setup(founding, server, tmp_path, monkeypatch):
    monkeypatch.setattr(updating, "PAUSE", 0.01)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    config = tmp_path / "upstreams.toml"
    config.write_text((ROOT / "upstreams.toml").read_text(encoding="utf-8")
                      .replace("https://scsanctions.un.org/resources/xml/en/consolidated.xml", f"{base}/un/consolidated.xml")
                      .replace("https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV",
                               f"{base}/ofac/sdn.csv")
                      .replace("https://api.github.com/repos/nagix/nk-missile-tests/commits?path=data&per_page=1",
                               f"{base}/cns/commits")
                      .replace("https://raw.githubusercontent.com/nagix/nk-missile-tests/{commit}/data", f"{base}/cns")
                      .replace("min_rows = 100", "min_rows = 1").replace("min_rows = 300", "min_rows = 1"),
                      encoding="utf-8")
    return founding, config, tmp_path / "cache"


def run(setup, capsys, *options, at="2026-11-02T15:00:00Z"):
    founding, config, cache = setup
    code = main(["update", "--root", str(founding.root), "--config", str(config), "--cache", str(cache),
                 "--retrieved-at", at, *options])
    return code, capsys.readouterr()


def new_changesets(founding, before):
    return sorted(set((founding.root / "events").glob("*.json")) - before)


def test_a_day_of_changes_becomes_changesets_and_a_second_run_appends_nothing(setup, capsys):
    founding = setup[0]
    code, printed = run(setup, capsys)
    assert code == 0, printed.err
    assert [line.split(":")[0] for line in printed.out.splitlines()[:3]] == ["un", "ofac", "cns"]
    before = set((founding.root / "events").glob("*.json"))
    code, printed = run(setup, capsys)
    assert code == 0 and printed.out.count("nothing new") == 3 and new_changesets(founding, before) == []
    Upstream.served = day_two()
    code, printed = run(setup, capsys, at="2026-11-04T02:30:00Z")   # 3 November in Washington
    assert code == 0, printed.err
    written = {json.loads(p.read_text())["events"][0].get("source_id", ""): json.loads(p.read_text())["events"]
               for p in new_changesets(founding, before)}
    un = next(events for source, events in written.items() if source.startswith("un-"))
    assert {(e["action"], e["date"]) for e in un if e["type"] == "sanction"} >= {("designation", "2026-11-03"),
                                                                             ("amendment", "2026-11-03")}
    ofac = next(events for source, events in written.items() if source.startswith("ofac-sdn-"))
    actions = {e["action"]: e for e in ofac if e["type"] == "sanction"}
    assert set(actions) == {"designation", "amendment", "delisting"}
    assert {a["date"] for a in actions.values()} == {"2026-11-03"}   # the day in Washington, not the UTC day
    assert actions["amendment"]["parties"] == ["ofac-102"] and actions["designation"]["parties"] == ["ofac-103"]
    assert len(actions["delisting"]["parties"]) == 1  # entry 100, linked to the UN's entry for the same person
    cns = next(events for source, events in written.items() if source.startswith("cns-"))
    assert {e["type"] for e in cns} >= {"launch", "correction", "retraction"}
    assert {e.get("reason") for e in cns if e["type"] in ("correction", "retraction")} == {"revised upstream",
                                                                                          "removed upstream"}
    assert "2026-10-31-1" in tables(founding.root)["launches"]  # the log replays with them
    before = set((founding.root / "events").glob("*.json"))
    code, printed = run(setup, capsys, at="2026-11-05T12:00:00Z")
    assert code == 0 and printed.out.count("nothing new") == 3 and new_changesets(founding, before) == []


BAD = {
    "empty": ("/ofac/sdn.csv", ("", "text/csv"), "ofac: the download holds 0 North Korea rows"),
    "truncated": ("/un/consolidated.xml", (GOOD_UN[: len(GOOD_UN) // 2], "text/xml"),
                  "un: the download is not a whole un file"),
    "cut inside a quote": ("/ofac/sdn.csv", ("\r\n".join(BASE)[:-60], "text/csv"), "(unexpected end of data)"),
    "cut after a field": ("/ofac/sdn.csv", ("\r\n".join(BASE) + '\r\n104,"PAK, Ho",-0- ', "text/csv"), "line 4 is not 12 columns"),
    "a web page": ("/un/consolidated.xml", ("<html>maintenance</html>", "text/html"), "sent text/html"),
    "a changed format": ("/un/consolidated.xml", (UN_XML, "text/xml"), "un: the upstream's format changed"),
    "missing": ("/cns/test.en.json", None, "HTTP 404"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_download_is_refused_with_one_line_and_nothing_written(setup, capsys, case):
    founding = setup[0]
    path, served, message = BAD[case]
    if served is None:
        del Upstream.served[path]
    else:
        Upstream.served[path] = served
    before = set((founding.root / "events").glob("*.json"))
    code, printed = run(setup, capsys)
    assert code == 1 and message in printed.err and "nothing was written" in printed.err
    assert len(printed.err.strip().splitlines()) == 1 and "Traceback" not in printed.err
    assert new_changesets(founding, before) == []


def test_a_much_smaller_list_is_refused_unless_accepted(setup, capsys):
    founding = setup[0]
    assert run(setup, capsys)[0] == 0
    Upstream.served["/ofac/sdn.csv"] = (BASE[0] + "\r\n", "text/csv")
    before = set((founding.root / "events").glob("*.json"))
    code, printed = run(setup, capsys, "ofac", at="2026-11-04T15:00:00Z")
    assert code == 1 and "refused as much smaller" in printed.err and new_changesets(founding, before) == []
    code, printed = run(setup, capsys, "ofac", "--accept-shrink", at="2026-11-04T15:00:00Z")
    assert code == 0 and "1 delisting" in printed.out


def test_an_unreachable_upstream_and_a_second_run_at_once_are_refused(setup, capsys, server):
    founding, config, cache = setup
    before = set((founding.root / "events").glob("*.json"))
    cache.mkdir(parents=True)
    with open(cache / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, printed = run(setup, capsys)
    assert code == 1 and "another update is running" in printed.err
    server.shutdown()
    server.server_close()
    code, printed = run(setup, capsys)
    assert code == 1 and "un: cannot download" in printed.err and "(after 3 tries)" in printed.err
    assert new_changesets(founding, before) == []


def test_from_a_folder_reads_the_same_files(setup, tmp_path, capsys):
    founding, config, cache = setup
    for path, (body, _) in day_one().items():
        name = "commits.json" if path == "/cns/commits" else path.rsplit("/", 1)[1]
        target = tmp_path / "from" / path.split("/")[1] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    code, printed = run(setup, capsys, "--from", str(tmp_path / "from"))
    assert code == 0 and "ofac: " in printed.out and "->" in printed.out, printed.err
    retrieval = json.loads(next((cache / "ofac").glob("*/retrieval.json")).read_text())
    assert retrieval["retrieved_at"] == "2026-11-02T15:00:00Z" and len(retrieval["files"]["sdn.csv"]["sha256"]) == 64
