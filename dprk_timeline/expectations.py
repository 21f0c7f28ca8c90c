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

from .problems import Problem

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


@dataclass
class Facts:
    """What the expectations on whole tables (counts per year, shares, periods, uniqueness) need of each
    launch, sanctions action and source: one row each, in table order. A verified snapshot keeps them, so that
    a check of new rows (incremental.py) puts the new rows' facts in place of the old and runs the same suites."""
    launches: pd.DataFrame   # launch_id, korea_date, missile_class, missiles (firings rows), imported, history,
                             # COMPLETENESS columns
    sanctions: pd.DataFrame  # action_id, date_latest
    sources: pd.DataFrame    # source_id, url (sources with a URL)
    counts: pd.DataFrame     # context_id, period_start, period_end, value: the launch counts of periods


def facts_of(t: dict[str, pd.DataFrame], existed: set | None = None) -> Facts:
    """The facts of the launches, sanctions actions and sources in the tables t. existed: IDs of launches
    known to have their creation in the changes table already (the fast path's unchanged history)."""
    launches, claims = t["launches"], t["claims"]
    research = t["actors"].loc[t["actors"]["kind"] == "research_dataset", "actor_id"]
    from_dataset = set(claims.loc[claims["claimant_id"].isin(research), "launch_id"])
    created = set(t["changes"].loc[t["changes"]["change"] == "created", "record_id"]) | (existed or set())
    fired = t["firings"].groupby("launch_id").size()
    facts = launches[["launch_id", "korea_date", "missile_class", *COMPLETENESS]].assign(
        missiles=launches["launch_id"].map(fired).fillna(0).astype("int64"),
        imported=launches["launch_id"].isin(from_dataset), history=launches["launch_id"].isin(created))
    context = t["context"]
    counts = context[(context["topic"] == "launch_count") & context["period_start"].notna() & context["period_end"].notna()]
    return Facts(facts.reset_index(drop=True), t["sanctions"][["action_id", "date_latest"]].reset_index(drop=True),
                 t["sources"].dropna(subset=["url"])[["source_id", "url"]].reset_index(drop=True),
                 counts[["context_id", "period_start", "period_end", "value"]].reset_index(drop=True))


def derived_frames(t: dict[str, pd.DataFrame], today: dt.date, facts: Facts | None = None,
                   joined: dict[str, pd.DataFrame] | None = None) -> list[Suite]:
    """The suites. t: the tables (on the fast path, only their new rows); facts: those of whole tables
    (default: from t); joined: the statements, launches and sanctions that link rows are joined with
    (default: t's)."""
    import great_expectations.expectations as gxe

    facts = facts or facts_of(t)
    joined = {name: (joined or {}).get(name, t[name]) for name in ("statements", "launches", "sanctions")}
    launches, claims, statements = t["launches"], t["claims"], t["statements"]
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
    counted = launches.dropna(subset=["missile_count"]).join(fired, on="launch_id")
    counted["firing_rows"] = counted["firing_rows"].fillna(0).astype("Int64")
    suites.append(Suite("launches (firings)", counted, ["launch_id"], [
        ("each launch has one firings row per missile", gxe.ExpectColumnPairValuesToBeEqual(
            column_A="missile_count", column_B="firing_rows")),
    ]))

    answered = (t["launch_statements"]
                .merge(joined["statements"][["statement_id", "date_latest"]], on="statement_id")
                .merge(joined["launches"][["launch_id", "korea_date"]], on="launch_id"))
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

    every = facts.launches
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

    counts = facts.counts
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

    sanctions = t["sanctions"]
    listed = sanctions[sanctions["action"].isin(["designation", "amendment", "delisting"])
                       & sanctions["authority_id"].isin(["us-ofac", "unsc"])]
    suites.append(Suite("sanctions (from the lists)", listed, ["action_id"], [
        ("every list action names its parties", gxe.ExpectColumnValuesToBeBetween(column="parties_named", min_value=1)),
        ("every list action is dated to the day", gxe.ExpectColumnValuesToBeInSet(column="date_precision", value_set=["day"])),
    ]))
    yearly = facts.sanctions.groupby(facts.sanctions["date_latest"].dt.year).size()
    suites.append(Suite("sanctions per year", pd.DataFrame({"year": yearly.index, "actions": yearly.values}), ["year"], [
        (f"sanctions actions per year within [0, {SANCTIONS_PER_YEAR_MAX}]", gxe.ExpectColumnValuesToBeBetween(
            column="actions", min_value=0, max_value=SANCTIONS_PER_YEAR_MAX)),
    ]))
    both = t["parties"].dropna(subset=["un_reference", "ofac_ent_num"])
    suites.append(Suite("parties (on both lists)", both, ["party_id"], [
        ("a party on both lists records the evidence that links them", gxe.ExpectColumnValuesToNotBeNull(column="linked_on")),
    ]))
    answered_sanctions = (t["statement_sanctions"].merge(joined["statements"][["statement_id", "date_latest"]], on="statement_id")
                          .merge(joined["sanctions"][["action_id", "date"]], on="action_id").dropna(subset=["date"]))
    suites.append(Suite("statement_sanctions", answered_sanctions, ["statement_id", "action_id"], [
        ("no statement is dated before the sanctions action it answers", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="date_latest", column_B="date", or_equal=True)),
    ]))

    suites.append(Suite("sources", facts.sources, ["source_id"], [
        ("no source is registered twice under one URL", gxe.ExpectColumnValuesToBeUnique(column="url")),
    ]))
    return suites


def run(tables: dict[str, pd.DataFrame], today: dt.date | None = None, facts: Facts | None = None,
        joined: dict[str, pd.DataFrame] | None = None) -> tuple[int, list[Problem]]:
    """Run every suite (see derived_frames for facts and joined). Returns (number of expectations run, problems)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("tables")
    problems, count = [], 0
    for n, suite in enumerate(derived_frames(tables, today or dt.date.today(), facts, joined)):
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
                keys = ["/".join(str(row[k]) for k in suite.key) for row in rows[:SHOWN]]
                more = f" and {failing - len(keys)} more" if failing > len(keys) else ""
                reason = f"{description}: fails for {', '.join(keys) or 'the table'}{more}"
            problems.append(Problem("expectation", suite.frame, reason))
    return count, problems


def run_on_package(folder: Path, today: dt.date | None = None) -> tuple[int, list[Problem], Facts]:
    """Layer 4 of a full build: the suites on the tables of the package written in folder. Also returns their
    whole-table facts, which a snapshot keeps."""
    from .load import load_all

    frames = load_all(folder)
    facts = facts_of(frames)
    count, problems = run(frames, today=today, facts=facts)
    return count, problems, facts


class Worker:
    """The suites run in a process of its own, forked early so that it imports Great Expectations (about 3 s)
    while this process reads the log or a snapshot and renders rows; on a full build it also loads the tables
    there, so that their frames (1.6 GiB at 10^6 events) are never held here. Where fork is not available, they
    run here."""

    def __init__(self):
        import multiprocessing

        self.process = None
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self.connection, child = context.Pipe()
            self.process = context.Process(target=_serve, args=(child,), daemon=True)
            self.process.start()
            child.close()

    def run(self, *args, **kwargs) -> tuple[int, list[Problem]]:
        """As run(): in the worker when there is one."""
        return self.call(run, *args, **kwargs)

    def run_on_package(self, folder: Path, today: dt.date | None = None) -> tuple[int, list[Problem], Facts]:
        """As run_on_package(): in the worker when there is one."""
        return self.call(run_on_package, folder, today)

    def call(self, function, *args, **kwargs):
        """function(*args, **kwargs) in the worker (its one job), or here if there is none."""
        if self.process is None:
            return function(*args, **kwargs)
        try:
            self.connection.send((function, args, kwargs))
            outcome, value = self.connection.recv()
        except (EOFError, OSError):  # the worker is gone (killed, out of memory): run the job here
            self.close()
            return function(*args, **kwargs)
        self.close()
        if outcome == "error":
            raise RuntimeError(f"the expectations worker failed: {value}")
        return value

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
        if self.process is not None:
            self.process.join()
            self.process = None


def _serve(connection) -> None:
    """In the worker: import GX, run one job, send back what it found, and leave."""
    try:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations  # noqa: F401 -- the slow import, done while the parent works
        function, args, kwargs = connection.recv()
        try:
            connection.send(("ok", function(*args, **kwargs)))
        except Exception as err:  # the parent reports it as one line
            connection.send(("error", f"{type(err).__name__}: {err}"))
    except EOFError:
        pass  # the parent went on without it
    finally:
        os._exit(0)  # no interpreter teardown (about a second with GX loaded): nothing is left to flush
