"""Check 4: Great Expectations suites for what Table Schemas cannot say.

Each suite runs on a table or on a small frame derived from several tables (a join or a count), in an
ephemeral context: no gx/ folder, no progress bars, no network. A failed expectation is reported with
the keys of the rows that broke it.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no network calls
import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from ..load import load_all
from ..problems import Problem
from ..render.rows import COMPILATIONS

# Bounds a broken import would cross (a duplicated or collapsed snapshot). The busiest year so far, 2022,
# had 39 launch events and 69 missiles in the CNS database; the largest salvo had 18 missiles.
LAUNCH_EVENTS_PER_YEAR = (1, 50)
MISSILES_PER_YEAR_MAX = 100
MISSILES_PER_LAUNCH = (1, 20)
# The busiest year of the lists so far, 2022, had 18 sanctions actions about North Korea.
SANCTIONS_PER_YEAR_MAX = 60
# Share of launches from a research dataset with each key field: CNS had 77 % timed, 99 % with a site.
COMPLETENESS = {"site_id": 0.95, "launched_at_utc": 0.7, "missile_type_id": 0.7, "range_km": 0.7}
FIRST_YEAR = 1984  # the first known North Korean ballistic missile test
SHOWN = 10  # keys of failing rows named in a message


@dataclass
class Suite:
    frame: str                 # name shown in messages
    data: pd.DataFrame
    key: list[str]             # columns that identify a row in messages
    expectations: list         # (plain-words description, gx expectation)


def launch_facts(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What the expectations on whole tables need of each launch: its date, class and key fields, its count of
    firings rows, whether a research dataset made claims about it, and whether the history records its
    creation."""
    launches, claims = t["launches"], t["claims"]
    research = t["actors"].loc[t["actors"]["kind"] == "research_dataset", "actor_id"]
    from_dataset = set(claims.loc[claims["claimant_id"].isin(research), "launch_id"])
    created = set(t["changes"].loc[t["changes"]["change"] == "created", "record_id"])
    fired = t["firings"].groupby("launch_id").size()
    return launches[["launch_id", "korea_date", "missile_class", *COMPLETENESS]].assign(
        missiles=launches["launch_id"].map(fired).fillna(0).astype("int64"),
        imported=launches["launch_id"].isin(from_dataset), history=launches["launch_id"].isin(created))


def derived_frames(t: dict[str, pd.DataFrame], today: dt.date) -> list[Suite]:
    """The suites, on the tables t (by name) and frames derived from them."""
    return launch_suites(t, today) + source_date_suites(t) + record_suites(t) + count_suites(t) + list_suites(t)


def source_date_suites(t: dict[str, pd.DataFrame]) -> list[Suite]:
    """What each source's own dates must satisfy: the errors a row that pairs a Korea date with a UTC time, or a
    copy's date taken for a report's, would leave."""
    launches, claims = t["launches"], t["claims"]
    current = claims[claims["status"] == "current"]
    # each source's Korea date and UTC time of one launch (or missile), where it gives both
    by = ["launch_id", "missile", "claimant_id", "source_id"]
    dates = current[(current["attribute"] == "korea_date") & (current["precision"] == "day")]
    times = current[current["attribute"] == "launched_at"]
    both = dates[by + ["value"]].merge(times[by + ["value"]], on=by, suffixes=("_date", "_time"))
    both = both.assign(korea_date=pd.to_datetime(both["value_date"]),
                       korea_date_from_utc=(pd.to_datetime(both["value_time"], utc=True) + pd.Timedelta(hours=9))
                       .dt.tz_localize(None).dt.normalize())
    # launches of one site that a source times within an hour of each other but dates a day apart in Korea
    timed = times.merge(launches[["launch_id", "site_id", "korea_date"]], on="launch_id").dropna(subset=["site_id"])
    timed = timed.assign(at=pd.to_datetime(timed["value"], utc=True)).sort_values(["source_id", "site_id", "at"])
    after = timed.groupby(["source_id", "site_id"])[["launch_id", "at", "korea_date"]].shift(-1)
    close = timed.assign(next_launch=after["launch_id"], gap=after["at"] - timed["at"],
                         days_apart=(after["korea_date"] - timed["korea_date"]).dt.days)
    close = close[(close["gap"] <= pd.Timedelta(hours=1)) & (close["next_launch"] != close["launch_id"])]
    reported = launches.dropna(subset=["first_reported"]).join(earliest_reports(t), on="launch_id")
    typed = pd.concat([launches[["launch_id", "missile_type_id", "missile_class"]].assign(position=0),
                       t["firings"][["launch_id", "position", "missile_type_id", "missile_class"]]])
    return [
        Suite("claims (one source's date and time)", both, by, [
            ("a source's Korea date of a launch is its UTC time + 9 h", gxe.ExpectColumnPairValuesToBeEqual(
                column_A="korea_date", column_B="korea_date_from_utc"))]),
        Suite("claims (one source's times at one site)", close, ["source_id", "launch_id", "next_launch"], [
            ("no source times two launches of one site within an hour on different Korea dates",
             gxe.ExpectColumnValuesToBeInSet(column="days_apart", value_set=[0]))]),
        Suite("launches (first reported)", reported, ["launch_id"], [
            ("first_reported is not after the earliest source of the launch", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="earliest_source", column_B="first_reported", or_equal=True))]),
        Suite("launches and firings (class)", typed.dropna(subset=["missile_type_id"]), ["launch_id", "position"], [
            ("every launch or missile of a known type has its class", gxe.ExpectColumnValuesToNotBeNull(
                column="missile_class"))]),
    ]


def earliest_reports(t: dict[str, pd.DataFrame]) -> pd.Series:
    """Launch ID -> the earliest publication among the sources that reported it at the time: those of its claims
    and of the statements answering it, but not later compilations (research datasets)."""
    sources = t["sources"].set_index("source_id")
    contemporary = set(sources.index[~sources["kind"].isin(COMPILATIONS)])
    claimed = t["claims"][t["claims"]["source_id"].isin(contemporary)][["launch_id", "source_id"]]
    answered = t["launch_statements"][["launch_id", "source_id"]]
    both = pd.concat([claimed, answered])
    return both.assign(published=both["source_id"].map(sources["published"])).groupby("launch_id")["published"] \
        .min().rename("earliest_source")


def launch_suites(t: dict[str, pd.DataFrame], today: dt.date) -> list[Suite]:
    launches = t["launches"]
    suites = [Suite("launches", launches, ["launch_id"], [
        ("apogee_km is between 0 and 10,000 km", gxe.ExpectColumnValuesToBeBetween(column="apogee_km", min_value=0, max_value=10_000)),
        ("range_km is between 0 and 16,000 km", gxe.ExpectColumnValuesToBeBetween(column="range_km", min_value=0, max_value=16_000)),
        ("max_speed_mach is between 0 and 40", gxe.ExpectColumnValuesToBeBetween(column="max_speed_mach", min_value=0, max_value=40)),
        ("flight_time_s is between 0 and 10,000 s", gxe.ExpectColumnValuesToBeBetween(column="flight_time_s", min_value=0, max_value=10_000)),
        (f"missile_count is between {MISSILES_PER_LAUNCH[0]} and {MISSILES_PER_LAUNCH[1]}", gxe.ExpectColumnValuesToBeBetween(
            column="missile_count", min_value=MISSILES_PER_LAUNCH[0], max_value=MISSILES_PER_LAUNCH[1])),
        ("every launch has at least one source", gxe.ExpectColumnValuesToBeBetween(column="source_count", min_value=1)),
        ("every launch has a Korea date", gxe.ExpectColumnValuesToNotBeNull(column="korea_date")),
        (f"korea_date lies between {FIRST_YEAR} and today", gxe.ExpectColumnValuesToBeBetween(
            column="korea_date", min_value=pd.Timestamp(f"{FIRST_YEAR}-01-01"), max_value=pd.Timestamp(today))),
    ])]

    timed = launches.dropna(subset=["launched_at_utc", "korea_date"])
    timed = timed.assign(korea_date_from_utc=(timed["launched_at_utc"] + pd.Timedelta(hours=9)).dt.tz_localize(None).dt.normalize())
    suites.append(Suite("launches (timed)", timed, ["launch_id"], [
        ("korea_date is the UTC launch time + 9 h", gxe.ExpectColumnPairValuesToBeEqual(
            column_A="korea_date", column_B="korea_date_from_utc")),
    ]))

    fired = t["firings"].groupby("launch_id").size().rename("firing_rows")
    # (where sources give different counts, the firings keep every missile a source lists one by one)
    agreed = ~launches["disagreements"].fillna("").str.contains("missile_count")
    counted = launches[agreed].dropna(subset=["missile_count"]).join(fired, on="launch_id")
    counted["firing_rows"] = counted["firing_rows"].fillna(0).astype("Int64")
    suites.append(Suite("launches (firings)", counted, ["launch_id"], [
        ("each launch has one firings row per missile", gxe.ExpectColumnPairValuesToBeEqual(
            column_A="missile_count", column_B="firing_rows")),
    ]))
    return suites


def record_suites(t: dict[str, pd.DataFrame]) -> list[Suite]:
    """Claims, statements and sanctions actions, and the links between them and launches."""
    launches, claims, statements, sanctions = t["launches"], t["claims"], t["statements"], t["sanctions"]
    suites = []
    answered = (t["launch_statements"]
                .merge(statements[["statement_id", "date_latest"]], on="statement_id")
                .merge(launches[["launch_id", "korea_date"]], on="launch_id"))
    # A statement in Washington can carry the previous calendar date of a launch in Korea: allow a day.
    answered["date_latest_plus_1"] = answered["date_latest"] + pd.Timedelta(days=1)
    suites.append(Suite("launch_statements", answered, ["launch_id", "statement_id"], [
        ("no statement is dated before the launch it answers", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="date_latest_plus_1", column_B="korea_date", or_equal=True)),
    ]))

    dated_claims = claims.assign(recorded_date=claims["recorded_at"].dt.tz_localize(None).dt.normalize())
    suites.append(Suite("claims", dated_claims, ["claim_id"], [
        ("no claim comes from a source published after it was recorded", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="recorded_date", column_B="source_published", or_equal=True)),
    ]))
    replaced = claims[claims["replaced_by"].notna()]
    suites.append(Suite("claims (replaced)", replaced, ["claim_id"], [
        ("a replaced claim is marked superseded", gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=["superseded"])),
    ]))

    stated = statements.assign(summary_is_quote=statements["summary"] == statements["quote"].fillna(""))
    suites.append(Suite("statements", stated, ["statement_id"], [
        ("quotes are given without their quotation marks", gxe.ExpectColumnValuesToNotMatchRegex(
            column="quote", regex=r'^["“‘\']|["”’\']$')),
        ("summaries are in the dataset's own words, not the quote", gxe.ExpectColumnValuesToBeInSet(
            column="summary_is_quote", value_set=[False])),
    ]))

    blocked = t["sanctions"][t["sanctions"]["action"].isin(["proposal_blocked", "veto"])]
    suites.append(Suite("sanctions (blocked)", blocked, ["action_id"], [
        ("every blocked or vetoed proposal names who blocked it", gxe.ExpectColumnValuesToNotBeNull(column="blocked_by")),
        ("every blocked proposal refers to the proposal", gxe.ExpectColumnValuesToNotBeNull(column="refers_to")),
    ]))
    answered_sanctions = (t["statement_sanctions"].merge(statements[["statement_id", "date_latest"]], on="statement_id")
                          .merge(sanctions[["action_id", "date"]], on="action_id").dropna(subset=["date"]))
    suites.append(Suite("statement_sanctions", answered_sanctions, ["statement_id", "action_id"], [
        ("no statement is dated before the sanctions action it answers", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="date_latest", column_B="date", or_equal=True)),
    ]))
    return suites


def count_suites(t: dict[str, pd.DataFrame]) -> list[Suite]:
    """Counts and shares over whole tables: per year, per source's period, completeness, history."""
    suites = []
    every = launch_facts(t)
    years = every.assign(year=every["korea_date"].dt.year).dropna(subset=["year"])
    per_year = (years.groupby("year").agg(launch_events=("launch_id", "size"), missiles=("missiles", "sum"))
                .reset_index().sort_values("year"))
    per_year["year"] = per_year["year"].astype("Int64")
    suites.append(Suite("per year", per_year, ["year"], [
        (f"launch events per year within {list(LAUNCH_EVENTS_PER_YEAR)}", gxe.ExpectColumnValuesToBeBetween(
            column="launch_events", min_value=LAUNCH_EVENTS_PER_YEAR[0], max_value=LAUNCH_EVENTS_PER_YEAR[1])),
        (f"missiles per year within [0, {MISSILES_PER_YEAR_MAX}]", gxe.ExpectColumnValuesToBeBetween(
            column="missiles", min_value=0, max_value=MISSILES_PER_YEAR_MAX)),
    ]))

    imported = every[every["imported"]][["launch_id", *COMPLETENESS]]
    suites.append(Suite("launches (from a research dataset)", imported, ["launch_id"], [
        (f"{column} is given for at least {share:.0%} of them", gxe.ExpectColumnValuesToNotBeNull(column=column, mostly=share))
        for column, share in COMPLETENESS.items()
    ]))

    context = t["context"]
    counts = context[(context["topic"] == "launch_count") & context["period_start"].notna()
                     & context["period_end"].notna()]
    if len(counts):
        dates = every["korea_date"].dropna().sort_values().to_numpy()
        actual = (dates.searchsorted(counts["period_end"].to_numpy(), side="right")
                  - dates.searchsorted(counts["period_start"].to_numpy(), side="left"))
        bounded = pd.DataFrame({"context_id": counts["context_id"].values, "claimed": counts["value"].values,
                                "in_dataset": pd.array(actual, dtype="Float64")})
        suites.append(Suite("context (launch counts)", bounded, ["context_id"], [
            ("no period holds more launches than a source counted for it", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="claimed", column_B="in_dataset", or_equal=True)),
        ]))

    history = every[["launch_id", "history"]].rename(columns={"history": "has_history"})
    suites.append(Suite("changes", history, ["launch_id"], [
        ("every launch has its creation in the changes table", gxe.ExpectColumnValuesToBeInSet(
            column="has_history", value_set=[True])),
    ]))
    return suites


def list_suites(t: dict[str, pd.DataFrame]) -> list[Suite]:
    """What the sanctions lists' imports must give, and sources registered once."""
    suites = []
    sanctions = t["sanctions"]
    listed = sanctions[sanctions["action"].isin(["designation", "amendment", "delisting"])
                       & sanctions["authority_id"].isin(["us-ofac", "unsc"])]
    suites.append(Suite("sanctions (from the lists)", listed, ["action_id"], [
        ("every list action names its parties", gxe.ExpectColumnValuesToBeBetween(column="parties_named", min_value=1)),
        ("every list action is dated to the day", gxe.ExpectColumnValuesToBeInSet(column="date_precision", value_set=["day"])),
    ]))
    yearly = sanctions.groupby(sanctions["date_latest"].dt.year).size()
    suites.append(Suite("sanctions per year", pd.DataFrame({"year": yearly.index, "actions": yearly.values}), ["year"], [
        (f"sanctions actions per year within [0, {SANCTIONS_PER_YEAR_MAX}]", gxe.ExpectColumnValuesToBeBetween(
            column="actions", min_value=0, max_value=SANCTIONS_PER_YEAR_MAX)),
    ]))
    both = t["parties"].dropna(subset=["un_reference", "ofac_ent_num"])
    suites.append(Suite("parties (on both lists)", both, ["party_id"], [
        ("a party on both lists records the evidence that links them", gxe.ExpectColumnValuesToNotBeNull(column="linked_on")),
    ]))
    # (one address may hold several versions of a dataset: a repository's snapshots at different commits)
    with_url = t["sources"].dropna(subset=["url"]).assign(
        address=lambda d: d["url"] + " " + d["version"].astype("string").fillna(""))[["source_id", "address"]]
    suites.append(Suite("sources", with_url, ["source_id"], [
        ("no source is registered twice under one URL and version", gxe.ExpectColumnValuesToBeUnique(column="address")),
    ]))
    return suites


def run(tables: dict[str, pd.DataFrame], today: dt.date | None = None) -> tuple[int, list[Problem]]:
    """Run every suite on the tables. Returns (number of expectations run, problems)."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("tables")
    problems, count = [], 0
    for n, suite in enumerate(derived_frames(tables, today or dt.date.today())):
        batch_definition = source.add_dataframe_asset(f"frame-{n}").add_batch_definition_whole_dataframe("all")
        batch = batch_definition.get_batch(batch_parameters={"dataframe": suite.data})
        expectation_suite = gx.ExpectationSuite(name=f"suite-{n}")
        for description, expectation in suite.expectations:
            expectation.meta = {"description": description}
            expectation_suite.add_expectation(expectation)
        # SUMMARY: the keys of the first rows that fail and how many fail, which is all a message shows (a
        # complete list costs a lookup per failing row)
        result = batch.validate(expectation_suite, result_format={
            "result_format": "SUMMARY", "unexpected_index_column_names": suite.key,
            "partial_unexpected_count": SHOWN})
        for outcome in result.results:
            count += 1
            if outcome.success:
                continue
            description = (outcome.expectation_config.meta or {}).get("description", outcome.expectation_config.type)
            info = outcome.exception_info or {}
            if info.get("raised_exception"):
                reason = f"{description}: could not be evaluated: {info.get('exception_message')}"
            else:
                rows = outcome.result.get("partial_unexpected_index_list") or []
                failing = outcome.result.get("unexpected_count") or len(rows)
                keys = ["/".join(str(row[k]) for k in suite.key if not pd.isna(row[k])) for row in rows[:SHOWN]]
                more = f" and {failing - len(keys)} more" if failing > len(keys) else ""
                reason = f"{description}: fails for {', '.join(keys) or 'the table'}{more}"
            problems.append(Problem("expectation", suite.frame, reason))
    return count, problems


def run_on_package(folder: Path, today: dt.date | None = None) -> tuple[int, list[Problem]]:
    """Check 4: every suite on the tables of the package written in folder."""
    return run(load_all(folder), today)
