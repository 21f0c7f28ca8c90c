"""The reconciliation rule of the README, on small cases and on the committed data."""
from types import SimpleNamespace

from conftest import ROOT

FOUNDING = "2026-11-22T03:15:00Z"  # recorded time of the second founding changeset
from dprk_timeline.render.reconcile import disagree, pick
from dprk_timeline.replay.state import Claim
from helpers import tables

KINDS = {"kr-jcs": "military", "jp-gov": "government", "cns": "research_dataset", "kp-kcna": "state_media",
         "paper": "news_media"}
PUBLISHED = {"early": "2022-01-30", "late": "2022-02-10", "later": "2022-03-01"}


def claim(attribute, value, claimant, source="early", order=1):
    event = SimpleNamespace(id="x/1", changeset=SimpleNamespace(recorded_at="2026-11-22T00:00:00Z"))
    return Claim(id="x/1.1", launch_id="2022-01-30-1", missile=None, attribute=attribute, value=value,
                 unit="", original_text="", original_value=None, original_unit="", qualifier="exact",
                 precision="", claimant=claimant, source=source, event=event, order=order, position=1)


def test_observed_figures_prefer_militaries_over_governments_datasets_and_media():
    claims = [claim("apogee_km", 2000.0, "cns", "later", 3), claim("apogee_km", 1900.0, "jp-gov", "late", 2),
              claim("apogee_km", 1850.0, "kr-jcs", "early", 1), claim("apogee_km", 2100.0, "paper", "later", 4)]
    assert pick(claims, KINDS, PUBLISHED).claimant == "kr-jcs"


def test_missile_names_prefer_the_launching_states_media():
    claims = [claim("missile_type", "hwasong-12", "kp-kcna", order=1), claim("missile_type", "hwasong-14", "kr-jcs", order=2)]
    assert pick(claims, KINDS, PUBLISHED).value == "hwasong-12"


def test_outcome_prefers_research_datasets():
    claims = [claim("outcome", "failure", "kr-jcs", "later", 2), claim("outcome", "success", "cns", "early", 1)]
    assert pick(claims, KINDS, PUBLISHED).value == "success"


def test_within_a_kind_the_latest_published_source_wins_then_the_latest_recorded():
    newer = [claim("range_km", 800.0, "kr-jcs", "early", 5), claim("range_km", 790.0, "kr-jcs", "late", 1)]
    assert pick(newer, KINDS, PUBLISHED).value == 790.0
    same_day = [claim("range_km", 800.0, "kr-jcs", "early", 1), claim("range_km", 810.0, "kr-jcs", "early", 2)]
    assert pick(same_day, KINDS, PUBLISHED).value == 810.0


def test_figures_disagree_beyond_ten_percent_of_the_larger():
    assert not disagree([claim("apogee_km", 100.0, "kr-jcs"), claim("apogee_km", 109.0, "jp-gov")])
    assert disagree([claim("apogee_km", 100.0, "kr-jcs"), claim("apogee_km", 112.0, "jp-gov")])
    assert not disagree([claim("apogee_km", 1998.8, "kr-jcs")])


def test_times_disagree_beyond_thirty_minutes():
    base = "2022-01-29T22:52:00Z"
    assert not disagree([claim("launched_at", base, "kr-jcs"), claim("launched_at", "2022-01-29T23:21:00Z", "jp-gov")])
    assert disagree([claim("launched_at", base, "kr-jcs"), claim("launched_at", "2022-01-29T23:23:00Z", "jp-gov")])


def test_categories_disagree_on_any_difference_but_a_bare_ballistic_class_agrees():
    assert disagree([claim("missile_type", "hwasong-12", "kp-kcna"), claim("missile_type", "hwasong-14", "kr-jcs")])
    assert not disagree([claim("missile_class", "BM", "kr-jcs"), claim("missile_class", "IRBM", "kp-kcna")])
    assert disagree([claim("missile_class", "SRBM", "kr-jcs"), claim("missile_class", "IRBM", "kp-kcna")])
    assert not disagree([claim("landing_area", "Sea of Japan", "kr-jcs"), claim("landing_area", "East Sea", "jp-gov")])


def test_founding_launch_of_30_january_2022_reconciles_as_documented():
    t = tables(ROOT, as_of=FOUNDING)
    launch = t["launches"]["2022-01-30-1"]
    assert launch["korea_date"] == "2022-01-30"
    assert launch["launched_at_utc"] == "2022-01-29T22:52:00Z"  # JCS: approximately 7:52 a.m. Korea time
    assert launch["apogee_km"] == 1998.8                         # 1,242 mi as written
    assert launch["range_km"] == 804.7                           # about 500 mi
    assert launch["max_speed_mach"] == 16
    assert launch["missile_type_id"] == "hwasong-12" and launch["missile_class"] == "IRBM"
    assert launch["confirmation"] == "dprk_and_others"
    assert launch["claim_count"] == 14 and launch["source_count"] == 1
    assert launch["sources_disagree"] is False
    used = {c["attribute"]: c["claimant_id"] for c in t["claims"].values() if c["used"] and c["launch_id"] == "2022-01-30-1"}
    assert used["launched_at"] == "kr-jcs" and used["missile_type"] == "kp-kcna" and used["max_speed_mach"] == "kr-jcs"
    assert used["apogee_km"] == "jp-gov"  # two governments, same source: the one recorded last
    claims = [c for c in t["claims"].values() if c["attribute"] == "apogee_km"]
    assert {(c["original_value"], c["original_unit"], c["value_number"], c["unit"]) for c in claims} == {(1242, "mi", 1998.8, "km")}


def test_the_claimants_own_kilometres_beat_a_reports_conversion_into_miles():
    """The Epoch Times gave Seoul's and Tokyo's 'about 2,000 km' as '1,242 miles' (1998.8 km, as if exact): those
    claims are marked converted, and the militaries' and governments' own figures give the reconciled values."""
    t = tables(ROOT)
    launch = t["launches"]["2022-01-30-1"]
    assert (launch["apogee_km"], launch["apogee_qualifier"]) == (2000, "approximate")
    assert (launch["range_km"], launch["range_qualifier"]) == (800, "approximate")
    apogee = [c for c in t["claims"].values() if c["launch_id"] == "2022-01-30-1" and c["attribute"] == "apogee_km"
              and c["status"] == "current"]
    converted = {c["claimant_id"] for c in apogee if c["converted"]}
    assert converted == {"kr-gov", "jp-gov"} and all(c["original_unit"] == "mi" for c in apogee if c["converted"])
    [used] = [c for c in apogee if c["used"]]
    assert used["claimant_id"] == "kr-jcs" and used["original_text"] == "a top altitude of 2,000 km"


def test_founding_launch_of_5_january_2022_is_dated_in_korea_and_reported_by_others():
    launch = tables(ROOT, as_of=FOUNDING)["launches"]["2022-01-05-1"]
    assert launch["korea_date"] == "2022-01-05" and launch["time_precision"] == "day"
    assert launch["launched_at_utc"] is None
    assert launch["missile_class"] == "BM" and launch["missile_count"] == 1
    assert launch["confirmation"] == "others_only"


def test_a_real_disagreement_is_flagged_and_the_launching_states_name_shown():
    t = tables(ROOT)
    launch = t["launches"]["2022-03-24-1"]
    assert launch["sources_disagree"] is True and launch["disagreements"] == "missile_type"
    assert launch["missile_type_id"] == "hwasong-17"            # North Korea's own name ranks first
    types = {c["claimant_id"]: c["value"] for c in t["claims"].values()
             if c["launch_id"] == "2022-03-24-1" and c["attribute"] == "missile_type" and c["status"] == "current"}
    assert types == {"cns": "hwasong-15", "kp-vok": "hwasong-17"}
    assert launch["flight_time_s"] == 4260                        # Japan: about 71 minutes
    assert launch["confirmation"] == "dprk_and_others"


def test_a_bare_ballistic_class_yields_to_a_class_a_claimant_names():
    assert pick([claim("missile_class", "ICBM", "cns", order=1), claim("missile_class", "BM", "kr-jcs", order=2)],
                KINDS, PUBLISHED).value == "ICBM"
    assert pick([claim("missile_class", "BM", "kr-jcs")], KINDS, PUBLISHED).value == "BM"


def test_the_salvo_of_25_may_2022_is_an_icbm_launch_with_each_missiles_class():
    """JCS named the first of three missiles an ICBM and the third an SRBM; CNS's bare 'BM' and its swapped apogee
    and range for missile 1 stay as claims, the latter flagged as a disagreement."""
    t = tables(ROOT)
    launch = t["launches"]["2022-05-25-1"]
    assert launch["missile_class"] == "ICBM" and launch["disagreements"] == "apogee_km; range_km"
    classes = {f["position"]: f["missile_class"] for f in t["firings"].values() if f["launch_id"] == "2022-05-25-1"}
    assert classes[1] == "ICBM" and classes[3] == "SRBM"
