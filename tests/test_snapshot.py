"""The fast path (a verified snapshot of the replayed state, plus the new changesets read and replayed in
full) finds exactly what the full path finds, and a snapshot is used only when every byte it covers is
unchanged."""
import json
import random
import shutil
import sys

import pytest

from conftest import FOUNDING, NEXT, ROOT, Scratch, changeset
from dprk_timeline import build, snapshot
from dprk_timeline.cli import main
from dprk_timeline.problems import CheckFailed
from dprk_timeline.tables import render
from test_bad_input import CASES

sys.path.insert(0, str(ROOT / "scripts"))
from benchmark import generate  # noqa: E402


def cache_of(root):
    return root / ".cache" / "snapshots"


def check(root, capsys, *flags):
    code = main(["check", "--root", str(root), *flags])
    out, err = capsys.readouterr()
    return code, [line for line in out.splitlines() if "FAILED" in line], err.splitlines()


@pytest.fixture(scope="module")
def founding_cache(tmp_path_factory):
    """The snapshot folder a check of the founding log leaves (it passes layers 1 and 2)."""
    scratch = Scratch(tmp_path_factory.mktemp("cache") / "founding", FOUNDING)
    main(["check", "--root", str(scratch.root)])
    assert len(list(cache_of(scratch.root).glob("*.pickle"))) == 1
    return cache_of(scratch.root)


def layers_1_2(root, cache):
    """What layers 1 and 2 say, and the tables of the replayed state when they pass."""
    try:
        _, resumed, _, state, problems = build.read_and_replay(root, build.Result(), cache, None, None)
    except CheckFailed as failed:
        return None, [str(p) for p in failed.problems], None
    return resumed, [str(p) for p in problems], None if problems else render(state)


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


def test_random_faults_in_a_large_log_get_the_same_problems_on_both_paths(tmp_path):
    """12 changesets of 500 synthetic events; snapshots after 4, 8 and 12 of them; faults of several kinds
    injected at random places; layers 1 and 2 and the tables compared."""
    log = tmp_path / "log"
    generate(log, 6000, per_changeset=500)
    names = sorted(p.name for p in (log / "events").glob("*.json"))
    assert len(names) == 12
    cache = tmp_path / "cache"
    for upto in (4, 8, 12):
        prefix = tmp_path / f"prefix-{upto}"
        (prefix / "events").mkdir(parents=True)
        for name in names[:upto]:
            shutil.copy(log / "events" / name, prefix / "events" / name)
        changesets, _, engine, _, problems = build.read_and_replay(prefix, build.Result(), None, None, None)
        assert problems == []
        snapshot.save(cache, prefix / "events", changesets, engine, 500 * upto)
    assert len(list(cache.glob("*.pickle"))) == 3

    rng = random.Random(20261122)
    faults = {
        "missing field": lambda e: e.pop(next(k for k in e if k != "type")),
        "unknown reference": lambda e: e.update({"source": "no-such-source"}) if "source" in e else e.update(type="rumour"),
        "wrong type": lambda e: e.update({"type": 7}),
        "duplicate id": lambda e: e.update({k: "src-0" for k in ("source_id",) if k in e}) or e.update(id="dup"),
        "unknown field": lambda e: e.update(colour="red"),
    }
    seen_paths, found = set(), 0
    for trial in range(10):
        root = tmp_path / f"trial-{trial}"
        shutil.copytree(log, root)
        target = root / "events" / rng.choice(names)
        body = json.loads(target.read_text())
        kind = rng.choice(sorted(faults))
        for _ in range(2 if kind == "duplicate id" else 1):
            faults[kind](body["events"][rng.randrange(len(body["events"]))])
        target.write_text(json.dumps(body))
        resumed, fast, fast_tables = layers_1_2(root, cache)
        _, full, full_tables = layers_1_2(root, None)
        seen_paths.add("snapshot" if resumed else "full")
        assert fast == full, f"trial {trial}: {kind} in {target.name}"
        assert fast_tables == full_tables
        found += bool(fast)
    assert seen_paths == {"snapshot", "full"} and found >= 8, (seen_paths, found)
    # the clean log: the longest snapshot covers it all and the tables are identical
    resumed, fast, fast_tables = layers_1_2(log, cache)
    assert resumed is not None and len(resumed.covered) == 12
    assert (fast, fast_tables) == layers_1_2(log, None)[1:]


def test_a_new_changeset_is_read_and_the_rest_comes_from_the_snapshot(founding, founding_cache, capsys):
    shutil.copytree(founding_cache, cache_of(founding.root))
    founding.add("2026-11-22-new-actor.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T",
                                                         "kind": "government"}))
    resumed, problems, tables = layers_1_2(founding.root, cache_of(founding.root))
    assert resumed is not None and [name for name, _, _ in resumed.covered] == FOUNDING
    assert problems == [] and b"test-actor" in tables["actors"]
    assert tables == layers_1_2(founding.root, None)[2]


def test_an_edited_covered_changeset_makes_the_snapshot_unusable(founding, founding_cache):
    shutil.copytree(founding_cache, cache_of(founding.root))
    path = founding.root / "events" / f"{FOUNDING[1]}.json"
    path.write_text(path.read_text().replace("Aldgra Fredly", "A. Fredly"))
    assert snapshot.find(cache_of(founding.root), founding.root / "events") is None


def test_other_code_or_a_damaged_file_makes_the_snapshot_unusable(founding, founding_cache, monkeypatch):
    shutil.copytree(founding_cache, cache_of(founding.root))
    events = founding.root / "events"
    assert snapshot.find(cache_of(founding.root), events) is not None
    monkeypatch.setattr(snapshot, "code_version", lambda: "0123456789abcdef")
    assert snapshot.find(cache_of(founding.root), events) is None
    monkeypatch.undo()
    pickle_file = next(cache_of(founding.root).glob("*.pickle"))
    pickle_file.write_bytes(pickle_file.read_bytes()[:-10])
    assert snapshot.find(cache_of(founding.root), events) is None


def test_a_new_changeset_sorting_inside_the_prefix_takes_the_full_path(founding, founding_cache):
    shutil.copytree(founding_cache, cache_of(founding.root))
    early = "2026-11-22T00:00:01Z"
    assert early < NEXT
    founding.add("2026-11-22-early.json", changeset({"type": "actor", "actor_id": "test-actor", "name": "T",
                                                     "kind": "government"}, recorded_at=early))
    resumed, problems, tables = layers_1_2(founding.root, cache_of(founding.root))
    assert resumed is None
    assert (problems, tables) == layers_1_2(founding.root, None)[1:]
