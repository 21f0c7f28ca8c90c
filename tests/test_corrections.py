"""Corrections, retractions and merges: the log is never edited, yet the tables change, and the
changes table says what, when, why and on which source."""
from conftest import changeset
from helpers import replayed, tables

SOURCE = "epoch-times-2022-01-31-hwasong-12"
APOGEE_CLAIM = "2026-11-22-epoch-times-2022-01-31/8.10"   # jp-gov's 1,242 mi: the one used
NEW_SOURCE = {"type": "source", "source_id": "test-ministry-2022-02-01", "kind": "official_statement",
              "publisher": "Ministry of Defense of Japan", "published": "2022-02-01", "url": "https://example.org/release"}


def fix_apogee(value, unit="km"):
    return {"type": "correction", "target": f"claim:{APOGEE_CLAIM}", "reason": "The ministry's own release gives the figure.",
            "source": NEW_SOURCE["source_id"],
            "claim": {"attribute": "apogee_km", "original": {"text": f"{value} {unit}", "value": value, "unit": unit}}}


def test_a_corrected_claim_is_superseded_and_its_replacement_is_used(founding):
    founding.add("2026-11-22-fix.json", changeset(NEW_SOURCE, fix_apogee(2000)))
    t = tables(founding.root)
    old = t["claims"][APOGEE_CLAIM]
    assert old["status"] == "superseded" and old["replaced_by"] == "2026-11-22-fix/2.1" and not old["used"]
    new = t["claims"]["2026-11-22-fix/2.1"]
    assert new["claimant_id"] == "jp-gov" and new["source_id"] == NEW_SOURCE["source_id"] and new["value_number"] == 2000
    assert t["launches"]["2022-01-30-1"]["apogee_km"] == 2000
    change = t["changes"][("2026-11-22-fix/2", "launch", "2022-01-30-1")]
    assert change["change"] == "corrected" and change["reason"].startswith("The ministry") and change["source_id"] == NEW_SOURCE["source_id"]


def test_a_correction_that_creates_a_real_disagreement_sets_the_flag(founding):
    founding.add("2026-11-22-fix.json", changeset(NEW_SOURCE, fix_apogee(1500)))
    launch = tables(founding.root)["launches"]["2022-01-30-1"]
    assert launch["sources_disagree"] is True and launch["disagreements"] == "apogee_km"


def test_a_claim_can_be_corrected_only_once(founding):
    founding.add("2026-11-22-fix.json", changeset(NEW_SOURCE, fix_apogee(2000), fix_apogee(2001)))
    _, problems = replayed(founding.root)
    assert [str(p) for p in problems] == [
        f"events/2026-11-22-fix.json: event 3: /target: claim '{APOGEE_CLAIM}' is already superseded"]


def test_record_fields_are_corrected_with_set_and_stay_schema_valid(founding):
    good = {"type": "correction", "target": "statement:2022-01-31-kr-moon-jae-in", "set": {"stance": "concern"},
            "reason": "Reclassified.", "source": SOURCE}
    founding.add("2026-11-22-fix.json", changeset(good))
    t = tables(founding.root)
    assert t["statements"]["2022-01-31-kr-moon-jae-in"]["stance"] == "concern"
    assert t["changes"][("2026-11-22-fix/1", "statement", "2022-01-31-kr-moon-jae-in")]["detail"] == "stance"

    bad = dict(good, set={"stance": "angry", "statement_id": "renamed"})
    founding.add("2026-11-22-fix.json", changeset(bad))
    _, problems = replayed(founding.root)
    assert [str(p) for p in problems] == [
        "events/2026-11-22-fix.json: event 1: /set/statement_id: an ID never changes; retract the record and register a new one"]
    founding.add("2026-11-22-fix.json", changeset(dict(good, set={"stance": "angry"})))
    _, problems = replayed(founding.root)
    assert len(problems) == 1 and problems[0].pointer == "/set/stance" and "'angry' is not one of" in problems[0].reason


def test_optional_fields_are_removed_with_unset_but_required_ones_and_ids_are_not(founding):
    readout = {"type": "correction", "target": "statement:2022-01-31-kr-moon-jae-in", "unset": ["speaker"],
               "set": {"role": "presidential office"}, "reason": "The words are the office's readout.", "source": SOURCE}
    founding.add("2026-11-22-fix.json", changeset(readout))
    t = tables(founding.root)
    statement = t["statements"]["2022-01-31-kr-moon-jae-in"]
    assert statement["speaker"] is None and statement["role"] == "presidential office"
    assert t["changes"][("2026-11-22-fix/1", "statement", "2022-01-31-kr-moon-jae-in")]["detail"] == "role, speaker"
    for unset, pointer, reason in ((["summary"], "/set/summary", "required field is missing"),
                                   (["statement_id"], "/unset", "an ID never changes"),
                                   (["role"], "/unset", "a field is either set or unset")):
        founding.add("2026-11-22-fix.json", changeset(dict(readout, unset=unset)))
        _, problems = replayed(founding.root)
        assert len(problems) == 1 and problems[0].pointer == pointer and reason in problems[0].reason, problems


def test_a_retracted_claim_stops_counting(founding):
    retract = {"type": "retraction", "target": "claim:2026-11-22-epoch-times-2022-01-31/8.8", "reason": "Misread the report."}
    founding.add("2026-11-22-retract.json", changeset(retract))
    t = tables(founding.root)
    assert t["claims"]["2026-11-22-epoch-times-2022-01-31/8.8"]["status"] == "retracted"
    launch = t["launches"]["2022-01-30-1"]
    assert launch["max_speed_mach"] is None and launch["claim_count"] == 13


def test_a_retracted_launch_leaves_the_tables_and_its_links_but_not_the_history(founding):
    retract = {"type": "retraction", "target": "launch:2022-01-05-1", "reason": "Test of retraction."}
    founding.add("2026-11-22-retract.json", changeset(retract))
    t = tables(founding.root)
    assert "2022-01-05-1" not in t["launches"]
    assert not [k for k in t["launch_statements"] if k[0] == "2022-01-05-1"]
    assert not [c for c in t["claims"].values() if c["launch_id"] == "2022-01-05-1"]
    assert t["changes"][("2026-11-22-retract/1", "launch", "2022-01-05-1")]["change"] == "retracted"
    # the ID is retired: it cannot be reused, and adding to it says why
    again = {"type": "claims", "launch_id": "2022-01-05-1", "source": SOURCE, "claimant": "kr-jcs",
             "claims": [{"attribute": "korea_date", "value": "2022-01-05"}]}
    founding.add("2026-11-22-retract.json", changeset(retract, again))
    _, problems = replayed(founding.root)
    assert [p.reason for p in problems] == ["unknown launch '2022-01-05-1' (it was retracted)"]


def test_merging_two_records_of_one_launch_moves_claims_and_links(founding):
    duplicate = {"type": "launch", "launch_id": "2022-01-30-2", "source": SOURCE, "claimant": "kr-jcs",
                 "claims": [{"attribute": "korea_date", "value": "2022-01-30"},
                            {"attribute": "apogee_km", "original": {"text": "2,000 km", "value": 2000, "unit": "km"}}]}
    answer = {"type": "statement", "statement_id": "test-answer", "source": SOURCE, "actor": "kr-gov",
              "date": "2022-01-30", "stance": "concern", "summary": "A test.", "launches": ["2022-01-30-2"]}
    merge = {"type": "merge", "record_type": "launch", "from": "2022-01-30-2", "into": "2022-01-30-1",
             "reason": "Same launch: same day, area and missile."}
    founding.add("2026-11-22-merge.json", changeset(duplicate, answer, merge))
    t = tables(founding.root)
    assert set(t["launches"]) == {"2022-01-05-1", "2022-01-30-1"}
    moved = t["claims"]["2026-11-22-merge/1.2"]
    assert moved["launch_id"] == "2022-01-30-1"
    launch = t["launches"]["2022-01-30-1"]
    assert launch["claim_count"] == 16 and launch["apogee_km"] == 2000  # the military's claim now ranks first
    assert launch["sources_disagree"] is False                          # 1,998.8 and 2,000 km agree within 10 %
    assert ("2022-01-30-1", "test-answer") in t["launch_statements"]
    assert t["changes"][("2026-11-22-merge/3", "launch", "2022-01-30-2")]["detail"] == "into 2022-01-30-1"


def test_after_many_merges_and_retractions_nothing_points_at_a_retired_record(tmp_path):
    """On a synthetic log with hundreds of retractions and merges of launches, sanctions and parties (and
    links and claims moved between them), the replay's indexes agree with the state they index."""
    import sys

    from conftest import ROOT
    from dprk_timeline.build import read_log
    from dprk_timeline.replay.engine import replay
    sys.path.insert(0, str(ROOT / "scripts"))
    from benchmark import generate

    generate(tmp_path, 20_000)
    changesets, problems = read_log(tmp_path)
    state, problems = replay(changesets)
    assert not problems, [str(p) for p in problems[:5]]
    retired = {"launch": set(), "sanction": set(), "party": set()}
    for change in state.changes:
        if change.change in ("retracted", "merged") and change.record_type in retired and \
                f"{change.record_type}:{change.record_id}" in state.retired:
            retired[change.record_type].add(change.record_id)
    assert all(len(ids) > 20 for ids in retired.values()), {k: len(v) for k, v in retired.items()}
    # claims: each belongs to a launch that exists, and the index lists exactly a launch's claims
    by_launch = {}
    for claim in state.claims.values():
        by_launch.setdefault(claim.launch_id, set()).add(claim.id)
    assert set(by_launch) <= set(state.of("launch"))
    assert {k: {claim.id for claim in v} for k, v in state.claims_of.items() if v} == by_launch
    # links: no statement or sanction names a retired launch, sanction or party, and merged ones were repointed
    for table in (state.of("statement"), state.of("sanction")):
        for record in table.values():
            assert not set(record.get("launches", [])) & retired["launch"]
            assert not set(record.get("sanctions", [])) & retired["sanction"]
            assert not set(record.get("parties", [])) & retired["party"]
            assert record.get("refers_to") not in retired["sanction"]
    merged_into = {into for how, into, _ in state.retired.values() if how == "merged"}
    linked = {v for table in (state.of("statement"), state.of("sanction")) for r in table.values()
              for name in ("launches", "parties") for v in r.get(name, [])}
    assert merged_into & linked, "no link was repointed to a record that absorbed another"


def test_a_source_or_actor_still_in_use_cannot_be_retracted_but_an_unused_one_can(founding):
    cited = {"type": "retraction", "target": f"source:{SOURCE}", "reason": "Test: still cited."}
    claimant = {"type": "retraction", "target": "actor:kr-jcs", "reason": "Test: still claiming."}
    unused = {"type": "actor", "actor_id": "test-unused-office", "name": "An office no claim names", "kind": "government",
              "country": "KR"}
    dropped = {"type": "retraction", "target": "actor:test-unused-office", "reason": "Test: registered by mistake."}
    founding.add("2026-11-22-retract.json", changeset(cited, claimant, unused, dropped))
    state, problems = replayed(founding.root)
    reasons = [(p.event, p.reason) for p in problems]
    assert len(reasons) == 2, reasons
    assert reasons[0][0] == "event 1" and reasons[0][1].startswith(f"source {SOURCE!r} is still used by claim ")
    assert reasons[0][1].endswith("more; it can be corrected, not retracted")
    assert reasons[1][0] == "event 2" and reasons[1][1].startswith("actor 'kr-jcs' is still used by claim ")
    assert SOURCE in state.of("source") and "kr-jcs" in state.of("actor") and "test-unused-office" not in state.of("actor")
