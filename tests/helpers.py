"""Replay a checkout's log in-process (no table checks), for tests of the replay's semantics."""
from pathlib import Path

from dprk_timeline.build import read_log
from dprk_timeline.render.tables import table_rows
from dprk_timeline.replay.engine import replay
from dprk_timeline.table_schemas import field_names, table_schema


def replayed(root: Path, reported_by=None, as_of=None):
    changesets, problems = read_log(root)
    assert not problems, [str(p) for p in problems]
    if as_of:
        changesets = [c for c in changesets if c.recorded_at <= as_of]
    return replay(changesets, reported_by=reported_by)


def tables(root: Path, **kw) -> dict[str, dict]:
    """Every table as {primary key: row as a dict}; fails the test on integrity problems."""
    state, problems = replayed(root, **kw)
    assert not problems, [str(p) for p in problems]
    out = {}
    for name, rows in table_rows(state).items():
        names, key = field_names(name), table_schema(name)["primaryKey"]
        records = [dict(zip(names, row)) for row in rows]
        out[name] = {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r for r in records}
    return out
