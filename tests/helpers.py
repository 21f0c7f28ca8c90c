"""Replay a checkout's log in-process (no table checks), for tests of the replay's semantics."""
from pathlib import Path

from dprk_timeline.build import read_log
from dprk_timeline.replay import replay
from dprk_timeline.tables import project


def replayed(root: Path, reported_by=None, as_of=None):
    changesets, problems = read_log(root)
    assert not problems, [str(p) for p in problems]
    if as_of:
        changesets = [c for c in changesets if c.recorded_at <= as_of]
    state, problems = replay(changesets, reported_by=reported_by)
    return state, problems


def tables(root: Path, **kw) -> dict[str, dict]:
    """Every table as {primary key: row}; fails the test on integrity problems."""
    from dprk_timeline.tables import table_schema
    state, problems = replayed(root, **kw)
    assert not problems, [str(p) for p in problems]
    out = {}
    for name, rows in project(state):
        key = table_schema(name)["primaryKey"]
        out[name] = {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r for r in rows}
    return out
