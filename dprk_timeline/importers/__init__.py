"""Importers: each reads one upstream (a file or folder), compares it with the replayed log, and plans one
changeset of what the log does not hold yet (common.Plan), reporting the upstream fields it does not
handle. Each module gives:

    DEFAULT                    the upstream's path in ../shared/upstream (None if there is no default)
    arguments(parser)          its own command-line options, if any
    plan(path, state, options) -> Plan, or raises common.UpstreamError

A new upstream is one module and one line below; scripts/import.py runs any of them
(dprk_timeline/importing.py writes the changeset).
"""
from . import cns, csis, ofac, un

IMPORTERS = {"cns": cns, "un": un, "ofac": ofac, "csis": csis}
