"""Malformed and hostile changesets: each gets its own clear one-line message naming file, event and
field, a non-zero exit, no traceback, and leaves data/ and datapackage.json exactly as they were."""
import json

import pytest

from conftest import FOUNDING, NEXT, changeset, snapshot
from dprk_timeline.cli import main

SOURCE = "epoch-times-2022-01-31-hwasong-12"
FOUNDING_FIRST = FOUNDING[0]
LAUNCH = "2022-01-30-1"


def claims(*items, launch=LAUNCH, **extra):
    return {"type": "claims", "launch_id": launch, "source": SOURCE, "claimant": "kr-jcs", "claims": list(items), **extra}


def apogee(value=100, unit="km", text="100 km", **extra):
    return {"attribute": "apogee_km", "original": {"text": text, "value": value, "unit": unit}, **extra}


def statement(**fields):
    body = {"type": "statement", "statement_id": "test-statement", "source": SOURCE, "actor": "kr-gov",
            "date": "2022-01-30", "stance": "concern", "summary": "A test statement."}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def deep(levels):
    value = {}
    for _ in range(levels):
        value = {"x": value}
    return value


GOOD = json.dumps(changeset(claims(apogee())), indent=2).encode()

# (case, file name, content, where the error is, what the reason says)
CASES = [
    ("broken json", "2026-11-22-broken.json", b'{"recorded_at": "2026-11-22T03:16:00Z",', "changeset", "not valid JSON"),
    ("byte order mark", "2026-11-22-bom.json", b"\xef\xbb\xbf" + GOOD, "changeset", "byte order mark"),
    ("invalid utf-8", "2026-11-22-latin1.json", GOOD.replace(b"a test changeset", b"caf\xe9"), "changeset", "not valid UTF-8"),
    ("crlf line ends", "2026-11-22-crlf.json", GOOD.replace(b"\n", b"\r\n"), "changeset", "CR line ends"),
    ("duplicate key", "2026-11-22-dupkey.json", b'{"author": "a", "author": "b"}', "changeset", "duplicate key 'author'"),
    ("NaN", "2026-11-22-nan.json", GOOD.replace(b'"value": 100', b'"value": NaN'), "changeset", "NaN is not valid JSON"),
    ("huge float", "2026-11-22-hugefloat.json", GOOD.replace(b'"value": 100', b'"value": 1e400'), "changeset", "is too large"),
    ("huge integer", "2026-11-22-hugeint.json", GOOD.replace(b'"value": 100', b'"value": ' + b"9" * 40), "changeset", "more than 15 digits"),
    ("integer Python will not convert", "2026-11-22-hugerint.json", GOOD.replace(b'"value": 100', b'"value": ' + b"9" * 5000),
     "changeset", "more than 15 digits"),
    ("duplicate key deep inside", "2026-11-22-dupdeep.json", GOOD.replace(b'"value": 100', b'"value": 100, "value": 100'),
     "changeset", "duplicate key 'value'"),
    ("deep nesting", "2026-11-22-deep.json", changeset(claims(apogee(), note_deep=deep(40))), "changeset", "nesting deeper than 32"),
    ("not an object", "2026-11-22-array.json", [1, 2], "changeset", "a changeset is a JSON object"),
    ("bad file name", "Bad Name.json", GOOD, "changeset", "file name must be YYYY-MM-DD-words.json"),
    ("stray file", "notes.txt", b"hello", "changeset", "only changeset .json files belong in events/"),
    ("missing recorded_at", "2026-11-22-norecorded.json", {k: v for k, v in changeset(claims(apogee())).items() if k != "recorded_at"}, "changeset: /recorded_at", "required field is missing"),
    ("local time", "2026-11-22-localtime.json", changeset(claims(apogee()), recorded_at="2026-11-22T12:00:00+09:00"), "changeset: /recorded_at", "instants are UTC"),
    ("recorded in the future", "2026-11-22-future.json", changeset(claims(apogee()), recorded_at="2999-01-01T00:00:00Z"), "changeset: /recorded_at", "is in the future"),
    ("no events", "2026-11-22-empty.json", changeset(), "changeset: /events", "0 items; minItems is 1"),
    ("unknown event type", "2026-11-22-unknown-type.json", changeset({"type": "rumour"}), "event 1: /type", "'rumour' is not one of: source"),
    ("unknown field", "2026-11-22-unknown-field.json", changeset(claims(apogee(), colour="red")), "event 1: /", "unknown field(s) 'colour'"),
    ("event not an object", "2026-11-22-event-string.json", changeset("launch"), "changeset: /events/0", "is not of type object"),
    ("wrong type", "2026-11-22-wrong-type.json", changeset(claims(apogee(value="high"))), "event 1: /claims/0/original/value", "'high' is not of type number"),
    ("negative figure", "2026-11-22-negative.json", changeset(claims(apogee(value=-5))), "event 1: /claims/0/original/value", "-5 is below the minimum 0"),
    ("impossible speed", "2026-11-22-mach.json", changeset(claims({"attribute": "max_speed_mach", "original": {"text": "Mach 500", "value": 500, "unit": "mach"}})), "event 1: /claims/0/original/value", "500 is above the maximum 100"),
    ("figure that rounds to nothing", "2026-11-22-tiny.json", changeset(claims(apogee(value=5e-324))), "event 1: /claims/0/original/value", "5e-324 km is 0.0 km: not a plausible apogee_km (0.1 to 10000)"),
    ("implausible range", "2026-11-22-far.json", changeset(claims({"attribute": "range_km", "original": {"text": "50,000 miles", "value": 50000, "unit": "mi"}})), "event 1: /claims/0/original/value", "not a plausible range_km (0.1 to 20000)"),
    ("unknown unit", "2026-11-22-feet.json", changeset(claims(apogee(unit="feet"))), "event 1: /claims/0/original/unit", "'feet' is not one of: km, m, mi, nmi"),
    ("value given for a figure", "2026-11-22-value.json", changeset(claims(apogee() | {"value": 1998.8})), "event 1: /claims/0/value", "measured figures go in original.value"),
    ("non-http url", "2026-11-22-ftp.json", changeset({"type": "source", "source_id": "ftp-source", "kind": "news_article", "publisher": "P", "published": "2022-01-01", "url": "ftp://example.org/x"}), "event 1: /url", "URLs must be http:// or https://"),
    ("javascript url", "2026-11-22-js-url.json", changeset({"type": "source", "source_id": "js-source", "kind": "news_article", "publisher": "P", "published": "2022-01-01", "url": "javascript:alert(1)"}), "event 1: /url", "URLs must be http:// or https://"),
    ("spreadsheet formula", "2026-11-22-formula.json", changeset(statement(summary="=HYPERLINK(\"http://x\")")), "event 1: /summary", "spreadsheet formula"),
    ("leading at sign", "2026-11-22-at.json", changeset(statement(role="@SUM(A1:A9)")), "event 1: /role", "spreadsheet formula"),
    ("formula after white space", "2026-11-22-formula-space.json", changeset(statement(summary="  =1+1")), "event 1: /summary", "spreadsheet formula"),
    ("formula starting with a minus", "2026-11-22-formula-minus.json", changeset(statement(summary="-2+3+cmd|' /C calc'!A0")), "event 1: /summary", "spreadsheet formula"),
    ("C1 control character", "2026-11-22-c1.json", changeset(statement(summary="next\u0085line")), "event 1: /summary", "control characters"),
    ("line separator", "2026-11-22-line-separator.json", changeset(statement(summary="one\u2028two")), "event 1: /summary", "line separators"),
    ("zero-width format character", "2026-11-22-zero-width.json", changeset(statement(speaker="Kim\u200bJong Un")), "event 1: /speaker", "format characters"),
    ("right-to-left override", "2026-11-22-rlo.json", changeset(statement(role="\u202eecnarf")), "event 1: /role", "format characters"),
    ("lone surrogate", "2026-11-22-surrogate.json", GOOD.replace(b"a test changeset", b"a test \\ud800 changeset"), "changeset", "half of a surrogate pair"),
    ("huge schema pointer", "2026-11-22-huge-schema.json", changeset(claims(apogee()), **{"$schema": "x" * 5000}), "changeset: /$schema", "maxLength is 200"),
    ("control character", "2026-11-22-control.json", changeset(statement(summary="bell\u0007here")), "event 1: /summary", "control characters"),
    ("impossible date", "2026-11-22-feb30.json", changeset(statement(date="2022-02-30")), "event 1: /date", "is not a valid date"),
    ("quote too long", "2026-11-22-long-quote.json", changeset(statement(quote="word " * 80)), "event 1: /quote", "maxLength is 300"),
    ("unknown source", "2026-11-22-nosource.json", changeset(claims(apogee(), source="no-such-source")), "event 1: /source", "unknown source 'no-such-source' (register it in an earlier event)"),
    ("unknown claimant", "2026-11-22-noclaimant.json", changeset(claims(apogee(claimant="kr-navy"))), "event 1: /claims/0/claimant", "unknown actor 'kr-navy'"),
    ("no claimant at all", "2026-11-22-anonymous.json", changeset({k: v for k, v in claims(apogee()).items() if k != "claimant"}), "event 1: /claims/0/claimant", "required field is missing (on the claim or the event)"),
    ("dangling launch link", "2026-11-22-dangling.json", changeset(statement(launches=["2022-02-30-1"])), "event 1: /launches/0", "unknown launch '2022-02-30-1'"),
    ("claims on a missing launch", "2026-11-22-nolaunch.json", changeset(claims(apogee(), launch="2022-01-31-1")), "event 1: /launch_id", "unknown launch '2022-01-31-1'"),
    ("duplicate launch", "2026-11-22-duplaunch.json", changeset(claims({"attribute": "korea_date", "value": "2022-01-30"}) | {"type": "launch"}), "event 1: /launch_id", "launch '2022-01-30-1' already exists"),
    ("duplicate source", "2026-11-22-dupsource.json", changeset({"type": "source", "source_id": SOURCE, "kind": "news_article", "publisher": "P", "published": "2022-01-01"}), "event 1: /source_id", f"source '{SOURCE}' is already registered by events/2026-11-22-epoch-times-2022-01-31.json event 1"),
    ("duplicate event id", "2026-11-22-dupid.json", changeset(claims(apogee(), id="same"), claims(apogee(), id="same")), "event 2: /id", "event ID '2026-11-22-dupid/same' is already used"),
    ("launch without a date", "2026-11-22-undated.json", changeset(claims(apogee(), launch="2022-02-01-1") | {"type": "launch"}), "event 1: /claims", "a new launch needs a korea_date or launched_at claim"),
    ("fact after recording", "2026-11-22-prophecy.json", changeset(statement(date="2026-12-25")), "event 1: /date", "is after the changeset was recorded"),
    ("month not on the 1st", "2026-11-22-month.json", changeset(statement(date="2022-01-15", date_precision="month")), "event 1: /date", "is the 1st of the month, not 2022-01-15"),
    ("week not on a Monday", "2026-11-22-week.json", changeset(statement(date="2022-01-05", date_precision="week")), "event 1: /date", "the Monday that starts it"),
    ("correction of nothing", "2026-11-22-fix-nothing.json", changeset({"type": "correction", "target": "claim:2026-11-22-nope/1.1", "claim": apogee(), "reason": "typo", "source": SOURCE}), "event 1: /target", "no claim '2026-11-22-nope/1.1' to act on"),
    ("correction without the claim", "2026-11-22-fix-empty.json", changeset({"type": "correction", "target": "claim:2026-11-22-epoch-times-2022-01-31/8.9", "set": {"value": 1}, "reason": "typo", "source": SOURCE}), "event 1: /claim", "gives the replacing claim in `claim`"),
    ("correction changing the attribute", "2026-11-22-fix-attr.json", changeset({"type": "correction", "target": "claim:2026-11-22-epoch-times-2022-01-31/8.9", "claim": {"attribute": "range_km", "original": {"text": "1 km", "value": 1, "unit": "km"}}, "reason": "typo", "source": SOURCE}), "event 1: /claim/attribute", "must be about 'apogee_km'"),
    ("retraction of nothing", "2026-11-22-retract-nothing.json", changeset({"type": "retraction", "target": "statement:no-such-statement", "reason": "gone"}), "event 1: /target", "unknown statement 'no-such-statement'"),
    ("retraction of an unknown kind", "2026-11-22-retract-rumour.json", changeset({"type": "retraction", "target": "rumour:x", "reason": "gone"}), "event 1: /target", "'rumour' is not a kind of record: one of source, actor"),
    ("correction setting the type", "2026-11-22-fix-type.json", changeset({"type": "correction", "target": "statement:2022-01-31-kr-moon-jae-in", "set": {"type": "sanction"}, "reason": "x", "source": SOURCE}), "event 1: /set/type", "the type of a record never changes"),
    ("individual merged into an entity", "2026-11-22-merge-kinds.json", changeset(
        {"type": "party", "party_id": "test-person", "name": "TEST PERSON", "kind": "individual", "source": SOURCE},
        {"type": "party", "party_id": "test-company", "name": "TEST COMPANY", "kind": "entity", "source": SOURCE},
        {"type": "merge", "record_type": "party", "from": "test-person", "into": "test-company", "reason": "same"}), "event 3: /into", "only parties of one kind merge"),
    ("merge back in a cycle", "2026-11-22-merge-cycle.json", changeset(
        {"type": "party", "party_id": "test-a", "name": "TEST A", "kind": "entity", "source": SOURCE},
        {"type": "party", "party_id": "test-b", "name": "TEST B", "kind": "entity", "source": SOURCE},
        {"type": "merge", "record_type": "party", "from": "test-a", "into": "test-b", "reason": "same"},
        {"type": "merge", "record_type": "party", "from": "test-b", "into": "test-a", "reason": "same"}), "event 4: /into", "unknown party 'test-a' (it was merged into test-b)"),
    ("merge making an action refer to itself", "2026-11-22-merge-loop.json", changeset({"type": "merge", "record_type": "sanction", "from": "unsc-blocked-us-proposal-six-north-koreans", "into": "us-unsc-proposal-six-north-koreans", "reason": "same"}), "event 1: /into", "one would refer to itself"),
    ("launch ID against its date", "2026-11-22-id-date.json", changeset(claims({"attribute": "korea_date", "value": "2022-02-02"}, launch="2022-02-01-1") | {"type": "launch"}), "event 1: /launch_id", "the launch ID's date 2022-02-01 is not the Korea date its claims give (2022-02-02)"),
    ("statement dated in year 1", "2026-11-22-year-one.json", changeset(statement(date="0001-01-01")), "event 1: /date", "is before 1900"),
    ("merge into itself", "2026-11-22-merge-self.json", changeset({"type": "merge", "record_type": "launch", "from": LAUNCH, "into": LAUNCH, "reason": "same"}), "event 1: /into", "cannot be merged into itself"),
    ("blocked without blocker", "2026-11-22-blocked.json", changeset({"type": "sanction", "action_id": "test-block", "action": "proposal_blocked", "authority": "unsc", "date": "2022-01-20", "source": SOURCE, "summary": "Blocked."}), "event 1: /blocked_by", "names who blocked it"),
    ("source published after recording", "2026-11-22-future-source.json", changeset({"type": "source", "source_id": "tomorrow", "kind": "news_article", "publisher": "P", "published": "2027-01-01"}), "event 1: /published", "published 2027-01-01 is after the changeset was recorded"),
    ("bad launch id", "2026-11-22-bad-launch-id.json", changeset(claims(apogee(), launch="launch-one")), "event 1: /launch_id", "launch IDs are the Korea date and a sequence number"),
]


@pytest.mark.parametrize("name,content,where,reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_changeset_is_refused_with_one_clear_line(founding, capsys, name, content, where, reason):
    before = snapshot(founding.root)
    founding.add(name, content)
    code = main(["build", "--root", str(founding.root)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.startswith("events/")]
    expected_start = f"events/{name}: {where}"
    matching = [line for line in lines if line.startswith(expected_start) and reason in line]
    assert matching, f"no line starting {expected_start!r} with {reason!r} in:\n{err}"
    assert "nothing was written" in err
    assert snapshot(founding.root) == before


def test_there_are_at_least_thirty_distinct_cases():
    assert len(CASES) >= 30
    assert len({c[4] for c in CASES}) >= 30, "cases should each test their own message"


FORMAT_CORPUS = {
    "date": ["2022-01-30", "2022-02-30", "2024-02-29", "2023-02-29", "2022-1-30", "20220130", "2022-01-30\n",
             "\uff12022-01-30", "2022-01-30T00:00:00Z", "", "0000-01-01"],
    "date-time": ["2022-01-30T07:52:00Z", "2022-01-30t07:52:00z", "2022-01-30T07:52:00+09:00", "2022-01-30T07:52:00",
                  "2022-01-30 07:52:00Z", "2016-12-31T23:59:60Z", "2022-01-30T24:00:00Z", "2022-02-30T00:00:00Z",
                  "2022-01-30T07:52:00.5Z", "2022-01-30T07:52:00Z\n"],
    "uri": ["https://example.org/a", "https://example.org/a b", "http://\u4f8b\u3048.jp/", "mailto:someone@example.org",
            "relative/path", "https://example.org/%zz", "https://[::1]/", "javascript:alert(1)", "https://example.org/a#b#c",
            ""],
}


@pytest.mark.parametrize("name", sorted(FORMAT_CORPUS))
def test_the_compiled_validator_checks_formats_as_jsonschema_does(name):
    """The pass path (jsonschema_rs) and the wording path (jsonschema) must judge every format alike."""
    from jsonschema import Draft202012Validator
    from dprk_timeline.checks.schema import FORMATS

    checker = Draft202012Validator.FORMAT_CHECKER
    verdicts = {value: FORMATS[name](value) for value in FORMAT_CORPUS[name]}
    assert verdicts == {value: checker.conforms(value, name) for value in FORMAT_CORPUS[name]}
    assert set(verdicts.values()) == {True, False}


def test_both_validators_agree_on_every_event_of_the_log_and_of_the_corpus():
    """The compiled validator decides, jsonschema words the problems: they must agree on what is valid."""
    from conftest import ROOT
    from dprk_timeline.checks import schema
    from dprk_timeline.jsonio import loads_strict
    from dprk_timeline.registry import EVENT_TYPES

    events = [event for path in sorted((ROOT / "events").glob("*.json"))
              for event in json.loads(path.read_text())["events"]]
    for _, _, content, _, _ in CASES:
        try:
            body = loads_strict(content) if isinstance(content, bytes) else content
            events += body["events"]
        except (ValueError, KeyError, TypeError):
            continue
    assert len(events) > 1300
    typed = [event for event in events if isinstance(event, dict) and event.get("type") in EVENT_TYPES]
    verdicts = [(schema.is_valid(EVENT_TYPES[e["type"]].schema_id, e),
                 schema.wording_validator(EVENT_TYPES[e["type"]].schema_id).is_valid(e)) for e in typed]
    assert [event for event, (fast, slow) in zip(typed, verdicts) if fast != slow] == []
    assert sum(not fast for fast, _ in verdicts) >= 15


def test_an_empty_or_missing_log_a_link_in_events_and_a_past_before_the_log_are_clear_errors(founding, tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "events").mkdir(parents=True)
    assert main(["build", "--root", str(empty)]) == 1
    assert "events/: the log is empty: no changeset to build from" in capsys.readouterr().err
    assert main(["build", "--root", str(tmp_path / "nothing")]) == 1
    assert "events/: changeset: no such folder: the log is the events/ folder" in capsys.readouterr().err
    assert main(["build", "--root", str(founding.root), "--as-of", "2020-01-01T00:00:00Z", "--out", str(tmp_path / "o")]) == 1
    assert "no changeset was recorded by --as-of 2020-01-01T00:00:00Z" in capsys.readouterr().err
    (founding.root / "events" / "2026-11-22-link.json").symlink_to(founding.root / "events" / f"{FOUNDING_FIRST}.json")
    before = snapshot(founding.root)
    assert main(["build", "--root", str(founding.root)]) == 1
    out, err = capsys.readouterr()
    assert "events/2026-11-22-link.json: changeset: is a link: only regular changeset files belong in events/" in err
    assert snapshot(founding.root) == before and "Traceback" not in out + err


def test_options_out_of_range_or_over_the_package_are_refused(founding, capsys):
    import pytest

    with pytest.raises(SystemExit) as usage:
        main(["build", "--root", str(founding.root), "--as-of", "9999-12-31T23:59:59-14:00", "--out", "/tmp/x"])
    assert usage.value.code == 2 and "is beyond the years a UTC time can hold" in capsys.readouterr().err
    before = snapshot(founding.root)
    assert main(["build", "--root", str(founding.root), "--as-of", NEXT, "--out", str(founding.root)]) == 2
    assert "is the checkout's own package; give another folder" in capsys.readouterr().err
    assert snapshot(founding.root) == before
