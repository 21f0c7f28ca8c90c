"""Handlers of the events that register a record: lookups (source, actor, site, missile type), statements,
sanctions actions, parties and context. Each takes the replay engine and the event."""


def on_source(replay, event):
    replay.not_after_recording(event, "/published", event.body["published"], "published")
    if "retrieved" in event.body:
        replay.not_after_recording(event, "/retrieved", event.body["retrieved"], "retrieved")
    replay.register(event, "source")


def register(replay, event):
    """The handler of an event type whose records need no rule but their references: register the record."""
    replay.register(event, event.type)


def on_statement(replay, event):
    replay.check_dated(event, event.body)
    _register_linking(replay, event, "statement")


def on_sanction(replay, event):
    body = event.body
    replay.check_dated(event, body)
    if body["action"] in ("proposal_blocked", "veto") and not body.get("blocked_by"):
        replay.problem(event, "/blocked_by", f"a {body['action']} names who blocked it")
    if body.get("blocked_by") and body["action"] not in ("proposal_blocked", "veto"):
        replay.problem(event, "/blocked_by", "only proposal_blocked and veto actions have blocked_by")
    _register_linking(replay, event, "sanction")


def _register_linking(replay, event, kind: str) -> None:
    """Register a record that links to launches, sanctions actions or parties; with reported_by, or when a link
    does not resolve (a problem already), keep only the links that do."""
    found = len(replay.problems)
    record = replay.register(event, kind)
    if record is not None and (replay.reported_by or len(replay.problems) > found):
        replay.drop_hidden_links(record)


def on_context(replay, event):
    body = event.body
    for name in ("period_start", "period_end"):
        if name in body:
            replay.not_after_recording(event, "/" + name, body[name], name)
    if "period_start" in body and "period_end" in body and body["period_end"] < body["period_start"]:
        replay.problem(event, "/period_end", "period_end is before period_start")
    if ("value" in body) != ("unit" in body):
        replay.problem(event, "/unit" if "value" in body else "/value", "value and unit go together")
    replay.register(event, "context")


def on_nuclear_test(replay, event):
    """A nuclear test: its ID is its Korea date, and each claim names a known claimant and source, with a range's
    high end above its low end and no time after the recording."""
    body = event.body
    replay.not_after_recording(event, "/korea_date", body["korea_date"], "korea_date")
    if body["test_id"] != body["korea_date"]:
        replay.problem(event, "/test_id", f"a nuclear test's ID is its Korea date ({body['korea_date']})")
    for i, claim in enumerate(body["claims"]):
        pointer = f"/claims/{i}"
        replay.need(event, pointer + "/claimant", "actor", claim["claimant"])
        replay.need(event, pointer + "/source", "source", claim["source"])
        timed = claim["attribute"] == "detonated_at"
        if timed != isinstance(claim["value"], str):
            replay.problem(event, pointer + "/value", "detonated_at is a UTC time; magnitude and yield_kt are numbers")
        elif timed:
            replay.not_after_recording(event, pointer + "/value", claim["value"], "detonated_at")
        if (claim.get("qualifier") == "range") != ("value_high" in claim):
            replay.problem(event, pointer + "/value_high", "a range, and only a range, has value_high")
        elif "value_high" in claim and not timed and claim["value_high"] <= claim["value"]:
            replay.problem(event, pointer + "/value_high", "a range's high end is above its low end")
        if (claim["attribute"] == "yield_kt") != (claim.get("unit") == "kt"):
            replay.problem(event, pointer + "/unit", "a yield is in kt, and only a yield")
    replay.register(event, "nuclear_test")
