"""How far the data reaches, in datapackage.json and on the README's first screen, written by the build."""
import json

import pandas as pd

from conftest import ROOT


def test_each_dated_resource_gives_its_first_and_last_date():
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    coverage = {r["name"]: r.get("temporalCoverage") for r in package["resources"]}
    launches = pd.read_csv(ROOT / "data" / "launches.csv", dtype=str)
    assert coverage["launches"] == f"{launches.korea_date.min()}/{launches.korea_date.max()}"
    sanctions = pd.read_csv(ROOT / "data" / "sanctions.csv", dtype=str)
    assert coverage["sanctions"] == f"{sanctions.date.min()}/{sanctions.date_latest.fillna(sanctions.date).max()}"
    assert coverage["parties"] is None  # no date of its own


def test_each_upstream_gives_the_date_of_its_newest_copy():
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    upstreams = {u["source_id"].split("-")[0]: u["published"] for u in package["upstreams"]}
    sources = pd.read_csv(ROOT / "data" / "sources.csv", dtype=str)
    ofac = sources[sources.source_id.str.startswith("ofac-sdn-")]
    assert upstreams["ofac"] == ofac.published.max()[:10] and len(ofac) > 1
    assert set(upstreams) == {"cns", "csis", "ofac", "un"}


def test_the_readme_first_screen_says_what_through_when_how_to_cite_and_the_licence():
    first = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    last_launch = pd.read_csv(ROOT / "data" / "launches.csv", dtype=str).korea_date.max()
    day = pd.Timestamp(last_launch)
    assert "An open, citable dataset of North Korea's missile launches" in first
    assert "**Launches**: " in first and f"to {day.day} {day:%B %Y}" in first
    assert "OFAC SDN list changes to" in first and "UN Security Council list as generated" in first
    assert "**Cite**" in first and "DOI" in first and "CC-BY-4.0" in first


def test_the_build_rewrites_a_stale_data_through_block_and_the_check_finds_it(scratch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stale = readme.replace("**Launches**: ", "**Launches**: 3 ", 1)
    (scratch.root / "README.md").write_text(stale, encoding="utf-8")
    done = scratch.run("check")
    assert done.returncode == 1 and "README.md: differs from a fresh rebuild" in done.stderr
    assert scratch.run("build").returncode == 0
    assert (scratch.root / "README.md").read_text(encoding="utf-8") == readme
