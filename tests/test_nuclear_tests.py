"""Nuclear tests: their own event type and tables, the claimants' figures kept side by side, and the statements
and sanctions actions that answer them."""
import pytest

from conftest import changeset
from helpers import tables

SOURCE = "epoch-times-2022-01-31-hwasong-12"  # (a source of the founding log; the figures below are made up)


def nuclear_event(**fields):
    body = {"type": "nuclear_test", "test_id": "2021-06-01", "korea_date": "2021-06-01", "source": SOURCE,
            "summary": "A test nuclear test.",
            "claims": [
                {"attribute": "detonated_at", "value": "2021-06-01T03:30:01Z", "claimant": "kr-jcs", "source": SOURCE,
                 "text": "at 12:30"},
                {"attribute": "detonated_at", "value": "2021-06-01T03:30:40Z", "claimant": "jp-gov", "source": SOURCE,
                 "text": "around 12:30"},
                {"attribute": "magnitude", "value": 5.7, "unit": "mb", "claimant": "kr-jcs", "source": SOURCE,
                 "text": "magnitude 5.7"},
                {"attribute": "magnitude", "value": 6.1, "unit": "unspecified", "claimant": "jp-gov", "source": SOURCE,
                 "text": "6.1"},
                {"attribute": "yield_kt", "value": 50, "value_high": 60, "unit": "kt", "qualifier": "range",
                 "claimant": "kr-jcs", "source": SOURCE, "text": "50 to 60 kilotons"}]}
    body.update(fields)
    return body


def test_a_nuclear_test_keeps_every_claimants_figures_and_its_links(founding):
    statement = {"type": "statement", "statement_id": "2021-06-01-kr-test", "source": SOURCE, "actor": "kr-gov",
                 "date": "2021-06-01", "stance": "condemnation", "summary": "Condemned it.", "nuclear_tests": ["2021-06-01"]}
    resolution = {"type": "sanction", "action_id": "unsc-resolution-test", "action": "resolution", "authority": "unsc",
                  "date": "2021-06-10", "source": SOURCE, "summary": "A resolution.", "nuclear_tests": ["2021-06-01"]}
    founding.add("2026-11-22-nuclear.json", changeset(nuclear_event(), statement, resolution))
    t = tables(founding.root)
    test = t["nuclear_tests"]["2021-06-01"]
    assert (test["magnitude_min"], test["magnitude_max"], test["yield_kt_min"], test["yield_kt_max"]) == (5.7, 6.1, 50, 60)
    assert test["detonated_at_utc"] == "2021-06-01T03:30:01Z"  # the two times agree to the minute
    assert test["claimant_count"] == 2 and test["claim_count"] == 5
    claims = sorted(t["nuclear_test_claims"].values(), key=lambda c: c["claim_id"])
    assert [c["unit"] for c in claims if c["attribute"] == "magnitude"] == ["mb", "unspecified"]
    assert ("2021-06-01", "2021-06-01-kr-test") in t["nuclear_test_statements"]
    assert ("2021-06-01", "unsc-resolution-test") in t["nuclear_test_sanctions"]
    assert founding.run("build").returncode == 0


@pytest.mark.parametrize("fields,where,reason", [
    ({"test_id": "2021-06-02"}, "/test_id", "a nuclear test's ID is its Korea date"),
    ({"claims": [{"attribute": "yield_kt", "value": 50, "unit": "kt", "qualifier": "range", "claimant": "kr-jcs",
                  "source": SOURCE, "text": "50"}]}, "/claims/0/value_high", "a range, and only a range, has value_high"),
    ({"claims": [{"attribute": "yield_kt", "value": 50, "unit": "mb", "claimant": "kr-jcs", "source": SOURCE,
                  "text": "50"}]}, "/claims/0/unit", "a yield is in kt"),
    ({"claims": [{"attribute": "magnitude", "value": "2021-06-01T03:30:01Z", "unit": "mb", "claimant": "kr-jcs",
                  "source": SOURCE, "text": "5"}]}, "/claims/0/value", "detonated_at is a UTC time; magnitude and yield_kt are numbers"),
    ({"claims": [{"attribute": "magnitude", "value": 5, "unit": "mb", "claimant": "usgs", "source": SOURCE,
                  "text": "5"}]}, "/claims/0/claimant", "unknown actor 'usgs'"),
])
def test_a_wrong_nuclear_test_is_refused_with_one_line(founding, fields, where, reason):
    founding.add("2026-11-22-nuclear-bad.json", changeset(nuclear_event(**fields)))
    done = founding.run("build")
    assert done.returncode == 1 and f"event 1: {where}: {reason}" in done.stderr, done.stderr


def test_the_six_nuclear_tests_each_have_claims_from_two_or_more_claimants_and_the_resolution_that_answered_it():
    import pandas as pd

    from conftest import ROOT

    tests = pd.read_csv(ROOT / "data" / "nuclear_tests.csv", dtype=str)
    assert list(tests.test_id) == ["2006-10-09", "2009-05-25", "2013-02-12", "2016-01-06", "2016-09-09", "2017-09-03"]
    claims = pd.read_csv(ROOT / "data" / "nuclear_test_claims.csv", dtype=str)
    assert (claims.groupby("test_id").claimant_id.nunique() >= 2).all()
    links = pd.read_csv(ROOT / "data" / "nuclear_test_sanctions.csv", dtype=str)
    assert dict(zip(links.test_id, links.action_id)) == {
        "2006-10-09": "unsc-resolution-1718", "2009-05-25": "unsc-resolution-1874", "2013-02-12": "unsc-resolution-2094",
        "2016-01-06": "unsc-resolution-2270", "2016-09-09": "unsc-resolution-2321", "2017-09-03": "unsc-resolution-2375"}
