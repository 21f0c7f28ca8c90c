"""The Great Expectations layer catches what the schemas cannot: one log with several faults, each
reported with the rows that break it; and the committed data passes every expectation."""
from conftest import ROOT, changeset
from dprk_timeline.outputs import write_files
from dprk_timeline.checks.expectations import run
from dprk_timeline.render.package import render_package
from dprk_timeline.load import load_all
from helpers import replayed

SOURCE = "epoch-times-2022-01-31-hwasong-12"


def expectation_problems(root, tmp_path):
    state, problems = replayed(root)
    assert not problems, [str(p) for p in problems]
    write_files(tmp_path / "package", render_package(state))
    count, problems = run(load_all(tmp_path / "package"))
    return count, [str(p) for p in problems]


def test_committed_data_meets_every_expectation(tmp_path):
    count, problems = expectation_problems(ROOT, tmp_path)
    assert count >= 10 and problems == []


def test_faults_are_reported_by_the_expectation_they_break(founding, tmp_path):
    founding.add("2026-11-22-faults.json", changeset(
        # the military's Korea date now contradicts the UTC time (22:52 UTC on the 29th is the 30th in Korea)
        {"type": "claims", "launch_id": "2022-01-30-1", "source": SOURCE, "claimant": "kr-jcs",
         "claims": [{"attribute": "korea_date", "value": "2022-01-31"}]},
        # a statement answering a launch ten days before it happened
        {"type": "statement", "statement_id": "test-early", "source": SOURCE, "actor": "kr-gov", "date": "2022-01-20",
         "stance": "concern", "summary": "Too early.", "launches": ["2022-01-30-1"]},
        # a quote kept with its quotation marks, and a summary that is the quote
        {"type": "statement", "statement_id": "test-quoted", "source": SOURCE, "actor": "kr-gov", "date": "2022-01-30",
         "stance": "concern", "quote": "“stronger”", "summary": "“stronger”"},
        # eight launches in January 2022, where the source counted seven
        *[{"type": "launch", "launch_id": f"2022-01-{day:02d}-1", "source": SOURCE, "claimant": "kr-jcs",
           "claims": [{"attribute": "korea_date", "value": f"2022-01-{day:02d}"}]} for day in range(10, 16)],
        # a salvo of 40, of a type whose class nobody gives
        {"type": "missile_type", "missile_type_id": "test-type", "name": "Test type", "source": SOURCE},
        {"type": "claims", "launch_id": "2022-01-10-1", "source": SOURCE, "claimant": "kr-jcs",
         "claims": [{"attribute": "missile_count", "original": {"text": "40 missiles", "value": 40, "unit": "missiles"}},
                    {"attribute": "missile_type", "value": "test-type"}]},
        # one source timing two launches of one site 30 minutes apart, on either side of midnight in Korea
        {"type": "site", "site_id": "test-site", "name": "Test site", "country": "KP", "source": SOURCE},
        *[{"type": "claims", "launch_id": launch, "source": SOURCE, "claimant": "kr-jcs",
           "claims": [{"attribute": "launched_at", "value": at}, {"attribute": "site", "value": "test-site"}]}
          for launch, at in (("2022-01-13-1", "2022-01-13T14:50:00Z"), ("2022-01-14-1", "2022-01-13T15:20:00Z"))],
    ))
    count, problems = expectation_problems(founding.root, tmp_path)
    expected = [
        "launches (timed): korea_date is the UTC launch time + 9 h: fails for 2022-01-30-1",
        "launch_statements: no statement is dated before the launch it answers: fails for 2022-01-30-1/test-early",
        "statements: quotes are given without their quotation marks: fails for test-quoted",
        "statements: summaries are in the dataset's own words, not the quote: fails for test-quoted",
        "context (launch counts): no period holds more launches than a source counted for it: fails for 2022-01-seven-tests",
        "launches: missile_count is between 1 and 20: fails for 2022-01-10-1",
        "claims (one source's date and time): a source's Korea date of a launch is its UTC time + 9 h: fails for "
        "2022-01-30-1/kr-jcs/epoch-times-2022-01-31-hwasong-12",
        "claims (one source's times at one site): no source times two launches of one site within an hour on different "
        "Korea dates: fails for epoch-times-2022-01-31-hwasong-12/2022-01-13-1/2022-01-14-1",
        "launches and firings (class): every launch or missile of a known type has its class: fails for 2022-01-10-1/0",
    ]
    for line in expected:
        assert line in problems, f"{line!r} not in {problems}"
    assert len(problems) == len(expected), problems


def test_a_broken_import_crosses_the_count_and_completeness_bounds():
    """What a duplicated or half-read snapshot would do to the tables, caught by the expectations."""
    import pandas as pd

    t = load_all(ROOT)
    launches = t["launches"]
    copies = launches[launches["korea_date"].dt.year == 2022].copy()
    copies["launch_id"] = copies["launch_id"].str.replace(r"-(\d+)$", lambda m: f"-{int(m.group(1)) + 50}", regex=True)
    doubled = pd.concat([launches, copies], ignore_index=True)
    doubled.loc[doubled["korea_date"].dt.year < 2022, "site_id"] = pd.NA
    t["launches"] = doubled
    t["firings"] = pd.concat([t["firings"], t["firings"].assign(
        launch_id=t["firings"]["launch_id"].str.replace(r"-(\d+)$", lambda m: f"-{int(m.group(1)) + 50}", regex=True))])
    _, problems = run(t)
    lines = [str(p) for p in problems]
    assert "per year: launch events per year within [1, 50]: fails for 2022" in lines, lines
    assert "per year: missiles per year within [0, 100]: fails for 2022" in lines, lines
    assert any(line.startswith("launches (from a research dataset): site_id is given for at least 95% of them") for line in lines), lines


def test_a_launch_first_reported_by_a_later_copy_is_caught():
    """The date of a later copy given as a launch's first report (as the CNS copy's date once was)."""
    import pandas as pd

    t = load_all(ROOT)
    launches = t["launches"]
    launches.loc[launches["launch_id"] == "2022-03-24-1", "first_reported"] = pd.Timestamp("2026-04-21")
    _, problems = run(t)
    assert [str(p) for p in problems] == ["launches (first reported): first_reported is not after the earliest source "
                                          "of the launch: fails for 2022-03-24-1"]
