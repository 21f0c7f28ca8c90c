"""The fast path (a verified snapshot: its replayed state read lazily, the new changesets read and replayed in
full, only the rows of touched records rendered and checked) finds exactly what the full path finds and
writes the same bytes; a snapshot is used only when every byte it covers is unchanged."""
import datetime as dt
import io
import json
import random
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import FOUNDING, NEXT, ROOT, Scratch, changeset
from dprk_timeline import build, incremental, package, snapshot
from dprk_timeline.cli import main
from dprk_timeline.problems import CheckFailed
from test_bad_input import CASES

sys.path.insert(0, str(ROOT / "scripts"))
from benchmark import generate, synthetic_bounds  # noqa: E402

SOURCE = "epoch-times-2022-01-31-hwasong-12"
LATER = (dt.datetime.fromisoformat(NEXT.replace("Z", "+00:00")) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cache_of(root):
    return root / ".cache" / "snapshots"


def check(root, capsys, *flags):
    code = main(["check", "--root", str(root), *flags])
    out, err = capsys.readouterr()
    return code, [line for line in out.splitlines() if "FAILED" in line], err.splitlines()


def outcome(root, cache, out):
    """What a build of root into out says: the layer that failed and its problems, or the files written.
    Also whether it took the fast path."""
    try:
        result = build.run(root, out=out, cache=cache)
    except CheckFailed as failed:
        return None, (failed.layer, [str(p) for p in failed.problems])
    fast = "from a verified snapshot" in result.layers[0][2]
    return fast, ("ok", {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(Path(out).rglob("*")) if p.is_file()},
                  result.rows)


@pytest.fixture(scope="module")
def founding_cache(tmp_path_factory):
    """The snapshot folder a check of the founding log leaves (it passes layers 1 to 4; drift fails)."""
    scratch = Scratch(tmp_path_factory.mktemp("cache") / "founding", FOUNDING)
    main(["check", "--root", str(scratch.root)])
    assert len(list(cache_of(scratch.root).glob("*.sqlite"))) == 1
    return cache_of(scratch.root)


@pytest.mark.parametrize("name,content", [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_the_bad_input_corpus_gets_the_same_problems_on_both_paths(founding, founding_cache, capsys, monkeypatch,
                                                                    name, content):
    shutil.copytree(founding_cache, cache_of(founding.root))
    founding.add(name, content)
    used = []
    find = snapshot.find
    monkeypatch.setattr(snapshot, "find", lambda *args: used.append(find(*args)) or used[-1])
    fast = check(founding.root, capsys)
    full = check(founding.root, capsys, "--full")
    assert used and used[0] is not None, "the fast path did not find the founding snapshot"
    assert fast[0] == 1
    assert fast == full


def test_expectation_faults_get_the_same_problems_on_both_paths(founding, founding_cache, tmp_path):
    """Rows that break expectations: the fast path cannot word the problems, so it hands over to the full path."""
    shutil.copytree(founding_cache, cache_of(founding.root))
    founding.add("2026-11-22-faults.json", changeset(
        {"type": "claims", "launch_id": "2022-01-30-1", "source": SOURCE, "claimant": "kr-jcs",
         "claims": [{"attribute": "korea_date", "value": "2022-01-31"}]},
        {"type": "statement", "statement_id": "test-early", "source": SOURCE, "actor": "kr-gov", "date": "2022-01-20",
         "stance": "concern", "summary": "Too early.", "launches": ["2022-01-30-1"]}))
    fast = outcome(founding.root, cache_of(founding.root), tmp_path / "fast")
    full = outcome(founding.root, None, tmp_path / "full")
    assert fast[1][0] == "expectations" and fast == full
    assert "launch_statements: no statement is dated before the launch it answers: fails for 2022-01-30-1/test-early" \
        in fast[1][1]


def test_a_full_run_makes_its_snapshot_only_once_layers_3_and_4_pass(founding, tmp_path, monkeypatch):
    """The snapshot is written while the replayed state is at hand, before layers 3 and 4 run, in a temporary
    file: a run whose expectations fail leaves nothing in the cache; one that passes leaves a snapshot."""
    cache = tmp_path / "cache"
    in_cache_at_layer_3 = []
    validate = build.validate_package
    monkeypatch.setattr(build, "validate_package", lambda *args, **kwargs: in_cache_at_layer_3.append(
        sorted(p.name for p in cache.iterdir())) or validate(*args, **kwargs))
    fault = founding.add("2026-11-22-faults.json", changeset(
        {"type": "statement", "statement_id": "test-early", "source": SOURCE, "actor": "kr-gov", "date": "2022-01-20",
         "stance": "concern", "summary": "Too early.", "launches": ["2022-01-30-1"]}))
    assert outcome(founding.root, cache, tmp_path / "failed")[1][0] == "expectations"
    assert len(in_cache_at_layer_3) == 1 and re.fullmatch(r"\..*\.sqlite\.[0-9]+", *in_cache_at_layer_3[0])
    assert list(cache.iterdir()) == []
    fault.unlink()
    assert outcome(founding.root, cache, tmp_path / "passed")[1][0] == "ok"
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".sqlite"]
    assert outcome(founding.root, cache, tmp_path / "again")[0] is True


def test_a_changed_korea_date_checks_the_statements_that_answer_the_launch_again(founding, founding_cache, tmp_path):
    """A statement already in the snapshot answers a launch whose date a new claim moves after it."""
    shutil.copytree(founding_cache, cache_of(founding.root))
    founding.add("2026-11-22-moved.json", changeset(
        {"type": "claims", "launch_id": "2022-01-30-1", "source": SOURCE, "claimant": "kr-jcs",
         "claims": [{"attribute": "korea_date", "value": "2022-02-05"},
                    {"attribute": "launched_at", "value": "2022-02-04T22:52:00Z"}]}))
    fast = outcome(founding.root, cache_of(founding.root), tmp_path / "fast")
    assert fast == outcome(founding.root, None, tmp_path / "full")
    assert fast[1][0] == "expectations" and any("no statement is dated before the launch" in p for p in fast[1][1])


@pytest.mark.parametrize("date,fails", [("2022-01-11", False), ("2022-02-15", True)], ids=["earlier", "after"])
def test_a_redated_sanctions_action_checks_the_statements_that_answer_it_again(tmp_path, date, fails):
    """A statement of the snapshot (the whole real log) answers a sanctions action that a correction redates:
    to before the statement, the fast path passes; to after it, the statement's row, unchanged, fails."""
    log = Scratch(tmp_path / "log")
    cache = tmp_path / "cache"
    assert outcome(log.root, cache, tmp_path / "first")[1][0] == "ok"
    log.add("2026-11-23-redated.json", changeset({"type": "correction", "target": "sanction:ofac-designation-2022-01-12",
                                                  "set": {"date": date}, "reason": "Test.", "source": SOURCE}))
    fast = outcome(log.root, cache, tmp_path / "fast")
    assert fast[1] == outcome(log.root, None, tmp_path / "full")[1]
    if fails:
        assert fast[1][0] == "expectations" and any(
            "no statement is dated before the sanctions action it answers" in p for p in fast[1][1])
    else:
        assert fast[0] is True and fast[1][0] == "ok"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A synthetic log of 12 changesets of 500 events, and snapshots after 4, 8 and 12 of them."""
    folder = tmp_path_factory.mktemp("synthetic")
    log = folder / "log"
    generate(log, 6000, per_changeset=500)
    names = sorted(p.name for p in (log / "events").glob("*.json"))
    assert len(names) == 12
    cache = folder / "cache"
    cache.mkdir()
    with synthetic_bounds(6000):
        for upto in (4, 8, 12):
            prefix = folder / f"prefix-{upto}"
            (prefix / "events").mkdir(parents=True)
            for name in names[:upto]:
                shutil.copy(log / "events" / name, prefix / "events" / name)
            # each read in full (a run on a snapshot saves none): its snapshot joins the others
            fast, (layer, *_) = outcome(prefix, prefix / "cache", prefix / "out")
            assert layer == "ok" and not fast
            for saved in (prefix / "cache").iterdir():
                shutil.copy(saved, cache / saved.name)
    assert len(list(cache.glob("*.sqlite"))) == 3
    return log, names, cache


def test_random_faults_in_a_large_log_get_the_same_problems_on_both_paths(synthetic, tmp_path):
    """Faults of several kinds injected at random places of the synthetic log: every layer compared."""
    log, names, cache = synthetic
    rng = random.Random(20261122)
    faults = {
        "missing field": lambda e: e.pop(next(k for k in e if k != "type")),
        "unknown reference": lambda e: e.update({"source": "no-such-source"}) if "source" in e else e.update(type="rumour"),
        "wrong type": lambda e: e.update({"type": 7}),
        "duplicate id": lambda e: e.update({k: "src-0" for k in ("source_id",) if k in e}) or e.update(id="dup"),
        "unknown field": lambda e: e.update(colour="red"),
    }
    seen_paths, found = set(), 0
    with synthetic_bounds(6000):
        for trial in range(10):
            root = tmp_path / f"trial-{trial}"
            shutil.copytree(log, root)
            target = root / "events" / (names[1] if trial == 0 else rng.choice(names))  # trial 0: before every snapshot
            body = json.loads(target.read_text())
            kind = rng.choice(sorted(faults))
            for _ in range(2 if kind == "duplicate id" else 1):
                faults[kind](body["events"][rng.randrange(len(body["events"]))])
            target.write_text(json.dumps(body))
            fast = outcome(root, cache, tmp_path / f"fast-{trial}")
            full = outcome(root, None, tmp_path / f"full-{trial}")
            assert fast[1] == full[1], f"trial {trial}: {kind} in {target.name}"
            seen_paths.add("snapshot" if target.name > names[3] else "full")
            found += fast[1][0] != "ok"
        # the clean log: the longest snapshot covers it all, and the files are identical
        fast = outcome(log, cache, tmp_path / "fast")
        assert fast[0] and fast[1] == outcome(log, None, tmp_path / "full")[1]
    assert seen_paths == {"snapshot", "full"} and found >= 8, (seen_paths, found)


def contributions(rng: random.Random, log) -> list[dict]:
    """Valid changesets a contributor might add on top of the synthetic log: claims on existing launches, a
    new launch and statements answering launches, corrections, retractions and merges."""
    events = [json.loads(p.read_text())["events"] for p in sorted((log / "events").glob("*.json"))]
    launches = [e["launch_id"] for cs in events for e in cs if e["type"] == "launch"]
    launch_dates = {e["launch_id"]: e["claims"][0]["value"] for cs in events for e in cs if e["type"] == "launch"}
    statements = [e["statement_id"] for cs in events for e in cs if e["type"] == "statement"]
    sanctions = [e["action_id"] for cs in events for e in cs if e["type"] == "sanction"]
    parties = [e["party_id"] for cs in events for e in cs if e["type"] == "party"]
    retired = {e["target"].split(":", 1)[1] for cs in events for e in cs if e["type"] == "retraction"}
    retired |= {e["from"] for cs in events for e in cs if e["type"] == "merge"}
    launches = [x for x in launches if x not in retired]
    statements, sanctions, parties = ([x for x in ids if x not in retired] for ids in (statements, sanctions, parties))
    named = {p for cs in events for e in cs if e["type"] == "sanction" for p in e.get("parties", [])}
    answering = next(e["statement_id"] for cs in events for e in cs if e["type"] == "statement" and e.get("launches")
                     and e["statement_id"] not in retired and e["launches"][0] not in retired)
    source = {"type": "source", "source_id": "contributed", "kind": "news_article", "publisher": "Synthetic News",
              "title": "A contributed report", "published": "2026-01-02", "url": "https://example.org/contributed"}
    launch = rng.choice(launches)
    kinds = {
        "claims on a launch": lambda: [{"type": "claims", "launch_id": launch, "source": "src-0", "claimant": "actor-0",
                                        "claims": [{"attribute": "apogee_km", "original": {"text": "90 km", "value": 90, "unit": "km"}},
                                                   {"attribute": "missile_count", "original": {"text": "3", "value": 3, "unit": "missiles"}}]}],
        "a new launch and a statement": lambda: [source, {
            "type": "launch", "launch_id": "2025-12-30-999", "source": "contributed", "claimant": "actor-1",
            "claims": [{"attribute": "korea_date", "value": "2025-12-30"}]}, {
            "type": "statement", "statement_id": "contributed-statement", "source": "contributed", "actor": "actor-2",
            "date": "2025-12-31", "stance": "condemnation", "summary": "A contributed statement.",
            "launches": ["2025-12-30-999", launch]}],
        "a statement corrected": lambda: [{"type": "correction", "target": f"statement:{rng.choice(statements)}",
                                           "set": {"stance": "threat"}, "reason": "Misread.", "source": "src-1"}],
        # fails: the statement now comes before the launches it answers (its link rows did not change)
        "a statement redated": lambda: [{"type": "correction", "target": f"statement:{answering}", "set": {"date": "1984-01-01"},
                                         "reason": "Misdated.", "source": "src-1"}],
        "a source redated": lambda: [{"type": "correction", "target": "source:src-3", "set": {"published": "2023-01-02"},
                                      "reason": "Misdated.", "source": "src-1"}],
        "an actor's kind corrected": lambda: [{"type": "correction", "target": "actor:actor-5", "set": {"kind": "military"},
                                               "reason": "Misfiled.", "source": "src-1"}],
        "a launch retracted": lambda: [{"type": "retraction", "target": f"launch:{launch}", "reason": "Not a launch."}],
        "a launch merged": lambda: [{"type": "merge", "record_type": "launch", "from": launch,
                                     "into": rng.choice([x for x in launches if x != launch and launch_dates[x] == launch_dates[launch]]
                                                        or [x for x in launches if x != launch]),
                                     "reason": "The same launch."}],
        "a statement retracted": lambda: [{"type": "retraction", "target": f"statement:{answering}", "reason": "Not said."}],
        "a sanction retracted": lambda: [{"type": "retraction", "target": f"sanction:{rng.choice(sanctions)}",
                                          "reason": "Not taken."}],
        "a sanction merged": lambda: [{"type": "merge", "record_type": "sanction", "from": sanctions[0],
                                       "into": sanctions[1], "reason": "The same action."}],
        "a party merged": lambda: [{"type": "merge", "record_type": "party", "from": min(named & set(parties)),
                                    "into": parties[0], "reason": "The same party."}],
        "a party retracted": lambda: [{"type": "retraction", "target": f"party:{max(named & set(parties))}",
                                       "reason": "Not designated."}],
    }
    return [(kind, make()) for kind, make in kinds.items()]


def test_contributions_on_a_large_log_give_the_same_bytes_on_both_paths(synthetic, tmp_path):
    """Each contribution gives the same outcome on both paths; all but the one that fails take the fast path
    (retractions and merges too: check_keys finds that no row left as it was points to a removed row)."""
    log, _, cache = synthetic
    rng = random.Random(7)
    slow, failed = [], []
    with synthetic_bounds(6000):
        for n, (kind, events) in enumerate(contributions(rng, log)):
            root = tmp_path / f"contribution-{n}"
            shutil.copytree(log, root)
            (root / "events" / "2026-06-01-contribution.json").write_text(json.dumps(
                changeset(*events, recorded_at="2026-06-01T00:00:00Z")))
            fast = outcome(root, cache, tmp_path / f"fast-{n}")
            full = outcome(root, None, tmp_path / f"full-{n}")
            assert fast[1] == full[1], kind
            slow += [] if fast[0] else [kind]
            failed += [] if fast[1][0] == "ok" else [kind]
    assert failed == ["a statement redated"] and slow == failed


def test_a_row_left_as_it_was_that_names_a_removed_row_takes_the_full_path(founding, founding_cache):
    """check_keys on hand-made deltas of the founding snapshot: a launch's row goes while rows that name it
    stay (what a replay that forgot to unlink would leave); once every row naming it goes too, it passes."""
    shutil.copytree(founding_cache, cache_of(founding.root))
    snap = snapshot.open_snapshot(snapshot.find(cache_of(founding.root), founding.root / "events"))
    launch = "2022-01-30-1"

    def dropping(deltas, name, owner):
        delta = deltas.setdefault(name, incremental.TableDelta(name))
        for k, start, length in snap.db.execute(f"SELECT k, start, length FROM rows_{name} WHERE owner = ?", (owner,)):
            delta.rows[k], delta.owners[k], delta.old[k] = None, owner, (start, length)

    def naming(name):
        """Owners of the rows of a link table that name the launch."""
        frame = pd.read_csv(io.BytesIO(snap.file(f"data/{name}.csv")), dtype=str)
        return set(frame.loc[frame["launch_id"] == launch, "statement_id" if "statement_id" in frame else "action_id"])

    deltas = {}
    dropping(deltas, "launches", launch)
    for name, owners in (("firings", [launch]), ("claims", [launch]), ("launch_statements", naming("launch_statements"))):
        assert owners
        message = f"^a row of {name} left as it was names a removed row of launches in launch_id$"
        with pytest.raises(incremental.Fallback, match=message):
            incremental.check_keys(snap, deltas)
        for owner in owners:
            dropping(deltas, name, owner)
    assert not naming("launch_sanctions")
    incremental.check_keys(snap, deltas)


def test_the_snapshots_engine_finds_the_users_of_each_lookup_as_the_full_replay_does(founding, founding_cache):
    """Replay.users_of on the engine restored from the founding snapshot (stored_names, lazy maps) and on a full
    replay of the founding log: the same users of every source, actor, site and missile type, and of none."""
    from dprk_timeline.replay import Replay

    shutil.copytree(founding_cache, cache_of(founding.root))
    restored = snapshot.open_snapshot(snapshot.find(cache_of(founding.root), founding.root / "events")).engine
    full = Replay()
    build.read_and_fold(founding.root, set(), lambda c: full.run([c]))
    lookups = {name for name, _ in full.mentions()} | {"actor:nobody", "source:nothing"}
    assert len(lookups) >= 20
    for name in sorted(lookups):
        kind, record_id = name.split(":", 1)
        assert sorted(restored.users_of(kind, record_id)) == sorted(full.users_of(kind, record_id)), name
    assert full.users_of("actor", "kr-gov") and not restored.users_of("actor", "nobody")


# a claim of this run on a launch of the founding log, naming the unused source
NEW_USER = {"type": "claims", "launch_id": "2022-01-30-1", "source": "test-source", "claimant": "kr-jcs",
            "claims": [{"attribute": "apogee_km", "original": {"text": "2000 km", "value": 2000, "unit": "km"}}]}


@pytest.mark.parametrize("target,before,used", [
    ("actor:test-actor", [], False), ("source:test-source", [], False), ("actor:kr-gov", [], True),
    ("source:test-source", [NEW_USER], True)], ids=["unused actor", "unused source", "used actor", "used by this run"])
def test_a_retracted_lookup_takes_the_fast_path_when_nothing_uses_it(founding, tmp_path, target, before, used):
    """A snapshot of the founding log and a changeset registering an actor and a source that nothing uses; then
    one of them retracted (fast, the same bytes as in full), or one in use, in the snapshot or by a claim of
    the same run (Replay.users_of reads only what the run loaded when the snapshot's state names it nowhere):
    the same problem."""
    founding.add("2026-11-22-unused.json", changeset(
        {"type": "actor", "actor_id": "test-actor", "name": "T", "kind": "government"},
        {"type": "source", "source_id": "test-source", "kind": "news_article", "publisher": "Test News",
         "published": "2022-01-01", "url": "https://example.org/test-source"}))
    cache = cache_of(founding.root)
    assert outcome(founding.root, cache, tmp_path / "first")[1][0] == "ok"
    founding.add("2026-11-22-retraction.json", changeset(*before, {"type": "retraction", "target": target, "reason": "Test."},
                                                         recorded_at=LATER))
    fast = outcome(founding.root, cache, tmp_path / "fast")
    full = outcome(founding.root, None, tmp_path / "full")
    assert fast[1] == full[1]
    if used:
        assert fast[1][0] == "log integrity" and "is still used by" in fast[1][1][0]
    else:
        kind, record_id = target.split(":")
        assert fast[0] is True and fast[1][0] == "ok" and record_id.encode() not in fast[1][1][f"data/{kind}s.csv"]


def test_a_new_changeset_is_read_and_the_rest_comes_from_the_snapshot(founding, founding_cache, tmp_path):
    shutil.copytree(founding_cache, cache_of(founding.root))
    founding.add("2026-11-22-new-actor.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T",
                                                         "kind": "government"}))
    fast = outcome(founding.root, cache_of(founding.root), tmp_path / "fast")
    assert fast[0] is True and b"test-actor" in fast[1][1]["data/actors.csv"]
    assert fast[1] == outcome(founding.root, None, tmp_path / "full")[1]


def test_the_descriptor_keeps_the_snapshots_entries_of_the_sources_it_did_not_touch(founding, founding_cache, tmp_path,
                                                                                  monkeypatch):
    """On the fast path, datapackage.json is the snapshot's with the entries of the sources the run touched made
    again: here only the new one is (every other source is neither read nor written again), and the bytes are
    those of the full path."""
    shutil.copytree(founding_cache, cache_of(founding.root))
    founding.add("2026-11-22-new-source.json", changeset({
        "type": "source", "source_id": "test-source", "kind": "news_article", "publisher": "Test News",
        "title": "A test report", "published": "2026-11-01", "url": "https://example.org/test"}))
    made = []
    original = package.source_entry
    monkeypatch.setattr(package, "source_entry", lambda source: made.append(source["publisher"]) or original(source))
    fast = outcome(founding.root, cache_of(founding.root), tmp_path / "fast")
    assert fast[0] is True and set(made) == {"Test News"}  # (layer 3 makes it too, for the new row it checks)
    made.clear()
    full = outcome(founding.root, None, tmp_path / "full")
    assert fast[1] == full[1] and len(made) == len(json.loads(full[1][1]["datapackage.json"])["sources"]) == 3
    assert b"Test News: A test report (2026-11-01)" in fast[1][1]["datapackage.json"]


@pytest.mark.parametrize("target,fields,shown_in", [
    (f"source:{SOURCE}", {"published": "2022-01-30"}, "claims"),  # source_published, and the launch's first report
    ("actor:kr-gov", {"kind": "military"}, "claims"),              # which claims give the launch its apogee and range
    ("actor:kr-gov", {"country": "US"}, "statements"),             # its statements' country
    ("missile_type:hwasong-12", {"class": "MRBM"}, "launches"),    # the launch's missile class
    ("actor:kr-gov", {"name": "Government of the Republic of Korea"}, "actors"),  # its own row only
], ids=["source date", "actor kind", "actor country", "missile class", "actor name"])
def test_a_corrected_lookup_renders_the_records_that_show_it_again(founding, founding_cache, tmp_path, target, fields,
                                                                    shown_in):
    """A correction of a source, actor or missile type takes the fast path, which renders again the rows of the
    snapshot's records that show more of it than its ID (tables.lookup_dependents): the same bytes as in full."""
    before = outcome(founding.root, None, tmp_path / "before")[1][1]
    shutil.copytree(founding_cache, cache_of(founding.root))
    founding.add("2026-11-22-correction.json", changeset({"type": "correction", "target": target, "set": fields,
                                                          "reason": "Test.", "source": SOURCE}))
    fast = outcome(founding.root, cache_of(founding.root), tmp_path / "fast")
    full = outcome(founding.root, None, tmp_path / "full")
    assert fast[0] is True and fast[1][0] == "ok"
    assert fast[1] == full[1]
    assert fast[1][1][f"data/{shown_in}.csv"] != before[f"data/{shown_in}.csv"]


def test_an_edited_covered_changeset_makes_the_snapshot_unusable(founding, founding_cache):
    shutil.copytree(founding_cache, cache_of(founding.root))
    path = founding.root / "events" / f"{FOUNDING[1]}.json"
    path.write_text(path.read_text().replace("Aldgra Fredly", "A. Fredly"))
    assert snapshot.find(cache_of(founding.root), founding.root / "events") is None


def test_other_code_or_a_damaged_file_makes_the_snapshot_unusable(founding, founding_cache, monkeypatch, tmp_path):
    shutil.copytree(founding_cache, cache_of(founding.root))
    events = founding.root / "events"
    assert snapshot.find(cache_of(founding.root), events) is not None
    monkeypatch.setattr(snapshot, "code_version", lambda: "0123456789abcdef")
    assert snapshot.find(cache_of(founding.root), events) is None
    monkeypatch.undo()
    stored = next(cache_of(founding.root).glob("*.sqlite"))
    content = stored.read_bytes()
    stored.write_bytes(content[:-10])
    assert snapshot.find(cache_of(founding.root), events) is None  # shorter than the header says
    # one byte changed, the same length: found, but the run sees that its hash differs and reads the log in full,
    # wherever the byte is (a damaged page may also break the reading of the snapshot itself)
    for at in (len(content) // 4, len(content) // 2, 3 * len(content) // 4, len(content) - 100):
        stored.write_bytes(content[:at] + bytes([content[at] ^ 1]) + content[at + 1:])
        opened = snapshot.open_snapshot(snapshot.find(cache_of(founding.root), events))
        assert opened is None or opened.intact() is False
        result = build.run(founding.root, out=tmp_path / f"out-{at}", cache=cache_of(founding.root))
        assert "read in full: the snapshot file" in result.layers[0][2], at


def test_a_new_changeset_sorting_inside_the_prefix_takes_the_full_path(founding, founding_cache, tmp_path):
    shutil.copytree(founding_cache, cache_of(founding.root))
    early = "2026-11-22T00:00:01Z"
    assert early < NEXT
    founding.add("2026-11-22-early.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T",
                                                     "kind": "government"}, recorded_at=early))
    fast = outcome(founding.root, cache_of(founding.root), tmp_path / "fast")
    assert fast[0] is False and fast[1] == outcome(founding.root, None, tmp_path / "full")[1]


def test_claims_and_changes_are_stored_as_their_values_without_field_names(founding):
    """A snapshot holds millions of claims and changes: each is pickled as its class and field values (no field
    names), and reads back equal, its event's changeset restored from the snapshot's."""
    engine = build.read_and_replay(founding.root, build.Result(), None, None, None)[1]
    claim, change = next(iter(engine.state.claims.values())), engine.state.changes[-1]
    changesets = {claim.event.changeset.name: claim.event.changeset, change.event.changeset.name: change.event.changeset}
    for value in (claim, change):
        raw = snapshot._Dumper()(value)
        assert b"original_text" not in raw and b"record_type" not in raw and b"explicit_id" not in raw
        back = snapshot._Unpickler(io.BytesIO(raw), changesets).load()
        assert back == value and back.event.changeset is value.event.changeset


def test_a_lazy_map_behaves_as_a_dict(tmp_path):
    """Random reads, writes, deletions and iterations on a LazyMap over a stored dict and on the dict itself."""
    import pickle
    import sqlite3

    rng = random.Random(3)
    stored = {f"k{n}": n for n in range(50)}
    db = sqlite3.connect(tmp_path / "map.sqlite")
    db.execute("CREATE TABLE m (seq INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, v BLOB NOT NULL)")
    db.executemany("INSERT INTO m (k, v) VALUES (?, ?)", ((k, pickle.dumps(v)) for k, v in stored.items()))
    lazy, plain = snapshot.LazyMap(db, "m", pickle.loads), dict(stored)
    for step in range(2000):
        key = f"k{rng.randrange(70)}"
        action = rng.choice(["get", "set", "del", "in", "pop", "setdefault", "iter"])
        if action == "get":
            assert lazy.get(key) == plain.get(key)
        elif action == "set":
            lazy[key] = plain[key] = step
        elif action == "del" and key in plain:
            del lazy[key], plain[key]
        elif action == "in":
            assert (key in lazy) == (key in plain)
        elif action == "pop":
            assert lazy.pop(key, None) == plain.pop(key, None)
        elif action == "setdefault":
            assert lazy.setdefault(key, -1) == plain.setdefault(key, -1)
        else:
            assert list(lazy.items()) == list(plain.items()) and len(lazy) == len(plain)
    assert "k60" in lazy.touched or "k60" not in plain


@pytest.mark.parametrize("covered", [1, 6, 8])
def test_the_real_log_on_a_snapshot_of_its_first_changesets_gives_the_same_bytes(covered, tmp_path):
    """A snapshot of the first changesets of the real log (in log order), the rest read on top of it: the
    founding reports with every import on top, or the last reactions."""
    order = sorted((json.loads(p.read_text())["recorded_at"], p.stem) for p in (ROOT / "events").glob("*.json"))
    prefix = Scratch(tmp_path / "prefix", [name for _, name in order[:covered]])
    cache = tmp_path / "cache"
    assert outcome(prefix.root, cache, tmp_path / "prefix-out")[1][0] == "ok"
    fast = outcome(ROOT, cache, tmp_path / "fast")
    assert fast[0] is True
    assert fast[1] == outcome(ROOT, None, tmp_path / "full")[1]
