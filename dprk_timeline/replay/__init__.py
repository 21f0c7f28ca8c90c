"""The replay: a pure fold of the log's events, in log order, into the current state (engine.py); the
handlers of each event type fold one event in (records.py, launches.py, corrections.py)."""
