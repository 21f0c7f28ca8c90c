"""Statements: sourced, linked only where the source says so, and covering the 2022 ICBM and IRBM launches."""
from conftest import ROOT
from dprk_timeline.load import load


def test_every_2022_icbm_and_irbm_launch_has_reactions_from_several_countries():
    launches, links, statements = load("launches", ROOT), load("launch_statements", ROOT), load("statements", ROOT)
    long_range = launches[(launches["korea_date"].dt.year == 2022) & launches["missile_class"].isin(["ICBM", "IRBM"])]
    assert len(long_range) >= 5
    answered = links.merge(statements, on="statement_id")
    for launch_id in long_range["launch_id"]:
        mine = answered[answered["launch_id"] == launch_id]
        assert len(mine) >= 3, launch_id
        assert mine["actor_id"].nunique() >= 3, launch_id


def test_every_statement_source_can_be_found_again():
    sources, statements = load("sources", ROOT), load("statements", ROOT)
    used = sources[sources["source_id"].isin(statements["source_id"])]
    founding = {"washington-examiner-2022-01-05-launch", "epoch-times-2022-01-31-hwasong-12"}
    for _, source in used.iterrows():
        assert source["source_id"] in founding or str(source["url"]).startswith(("http://", "https://")), source["source_id"]


def test_links_carry_the_source_of_the_record_that_makes_them():
    statements, links = load("statements", ROOT), load("launch_statements", ROOT)
    joined = links.merge(statements[["statement_id", "source_id"]], on="statement_id", suffixes=("", "_statement"))
    assert (joined["source_id"] == joined["source_id_statement"]).all()


def test_every_long_range_or_space_launch_since_2017_has_statements_by_three_actors():
    import pandas as pd

    launches = pd.read_csv(ROOT / "data" / "launches.csv", dtype=str)
    links = pd.read_csv(ROOT / "data" / "launch_statements.csv", dtype=str)
    actor = pd.read_csv(ROOT / "data" / "statements.csv", dtype=str).set_index("statement_id")["actor_id"]
    wanted = launches[(launches.korea_date >= "2017") & launches.missile_class.isin(["ICBM", "IRBM", "SLV"])].launch_id
    actors = links.assign(actor=links.statement_id.map(actor)).groupby("launch_id")["actor"].nunique()
    assert len(wanted) >= 29
    assert {launch: int(actors.get(launch, 0)) for launch in wanted if actors.get(launch, 0) < 3} == {}
