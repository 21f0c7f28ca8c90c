"""Handlers of launch and claims events: a launch is its claims, each checked for its references and values."""
from ..dates import korea_date_of
from ..units import MEASURES, PLAUSIBLE, normalise
from .state import Change, Claim

DEFAULT_PRECISION = {"launched_at": "minute", "korea_date": "day"}


def on_launch(replay, event):
    launch_id = event.body["launch_id"]
    key = "launch:" + launch_id
    if replay.exists("launch", launch_id) or key in replay.state.retired:
        first = replay.registered("launch", launch_id)
        replay.problem(event, "/launch_id", f"launch {launch_id!r} already exists ({first.changeset.file} "
                                            f"{first.label}); add to it with a claims event")
        return
    if not any(claim["attribute"] in ("korea_date", "launched_at") for claim in event.body["claims"]):
        replay.problem(event, "/claims", "a new launch needs a korea_date or launched_at claim")
        return
    claims = add_claims(replay, event, launch_id)
    _id_agrees_with_date(replay, event, launch_id, claims)
    if claims:
        _launch_made_public(replay, event, launch_id, claims)
    elif key not in replay.hidden:
        replay.hidden[key] = event  # reported_by: no claim of it is public yet


def on_claims(replay, event):
    launch_id = event.body["launch_id"]
    if not replay.exists("launch", launch_id):
        if f"launch:{launch_id}" in replay.hidden:  # reported_by: the launch becomes public with these claims
            claims = add_claims(replay, event, launch_id)
            if claims:
                del replay.hidden[f"launch:{launch_id}"]
                _launch_made_public(replay, event, launch_id, claims)
            return
        replay.need(event, "/launch_id", "launch", launch_id)
        return
    claims = add_claims(replay, event, launch_id)
    if claims:
        _claims_change(replay, event, launch_id, "claims_added", claims)


def _id_agrees_with_date(replay, event, launch_id: str, claims: list[Claim]) -> None:
    """A new launch's ID starts with the Korea date its first claims give (day 00 for a month)."""
    dates = [(c.value[:8] + "00" if c.precision == "month" else c.value) for c in claims
             if c.attribute == "korea_date" and c.missile is None]
    if not dates:
        dates = [korea_date_of(c.value) for c in claims if c.attribute == "launched_at"][:1]
    wrong = sorted({date for date in dates if date != launch_id[:10]})
    if wrong:
        replay.problem(event, "/launch_id", f"the launch ID's date {launch_id[:10]} is not the Korea date its claims "
                                            f"give ({', '.join(wrong)})")


def _launch_made_public(replay, event, launch_id: str, claims: list[Claim]) -> None:
    replay.state.of("launch")[launch_id] = {"event": event}
    _claims_change(replay, event, launch_id, "created", claims)


def _claims_change(replay, event, launch_id: str, change: str, claims: list[Claim]) -> None:
    detail = ", ".join(sorted({c.attribute for c in claims}))
    replay.state.changes.append(Change(event, "launch", launch_id, change, detail, "", event.body["source"]))


def add_claims(replay, event, launch_id: str) -> list[Claim]:
    """Make and store the event's claims; those with problems (or not public yet) are left out."""
    body = event.body
    made = []
    for n, raw in enumerate(body["claims"], start=1):
        claim = make_claim(replay, event, f"/claims/{n - 1}", raw, launch_id, body["source"], body.get("claimant"), n)
        if claim is not None:
            made.append(claim)
    counts = [c for c in made if c.attribute == "missile_count"]
    for claim in made:
        if claim.missile and any(claim.missile > c.value for c in counts if c.claimant == claim.claimant):
            replay.problem(event, "/claims", f"missile {claim.missile} is beyond the count its claimant gives")
    for claim in made:
        replay.state.claims[claim.id] = claim
    replay.state.claims_of.setdefault(launch_id, []).extend(made)
    return made


def make_claim(replay, event, pointer: str, raw: dict, launch_id: str, default_source: str,
               default_claimant: str | None, position: int = 1) -> Claim | None:
    """Check one claim of the event (at pointer) for its references and values, and make it (None if it has
    problems or is not public yet)."""
    source = raw.get("source", default_source)
    claimant = raw.get("claimant", default_claimant)
    attribute = raw["attribute"]
    original = raw.get("original", {})
    if attribute in MEASURES:
        value, unit = normalise(attribute, original["value"], original["unit"])
    else:
        value, unit = raw["value"], ""
    if not _claim_checks(replay, event, pointer, raw, source, claimant, attribute, value):
        return None
    if replay.reported_by and not replay.public(source):
        return None
    return Claim(f"{event.id}.{position}", launch_id, raw.get("missile"), attribute, value, unit,
                 original.get("text", ""), original.get("value"), original.get("unit", ""),
                 raw.get("qualifier", "exact"), raw.get("precision", DEFAULT_PRECISION.get(attribute, "")),
                 claimant, source, event, replay.order, position, raw.get("note", ""), raw.get("source_record", ""),
                 converted=raw.get("converted", False))


def _claim_checks(replay, event, pointer: str, raw: dict, source: str, claimant: str | None, attribute: str,
                  value) -> bool:
    """Word the problems of a claim; can it be made?"""
    ok = True
    if claimant is None:
        replay.problem(event, pointer + "/claimant", "required field is missing (on the claim or the event)")
        ok = False
    elif not replay.exists("actor", claimant):
        ok = replay.need(event, pointer + "/claimant", "actor", claimant)
    if not replay.exists("source", source):
        ok &= replay.need(event, pointer + "/source" if "source" in raw else "/source", "source", source)
    if attribute in PLAUSIBLE and not PLAUSIBLE[attribute][0] <= value <= PLAUSIBLE[attribute][1]:
        low, high = PLAUSIBLE[attribute]
        replay.problem(event, pointer + "/original/value", f"{raw['original']['value']} {raw['original']['unit']} is "
                                                           f"{value} {MEASURES[attribute][0]}: not a plausible {attribute} "
                                                           f"({low} to {high})")
        ok = False
    if attribute in ("missile_type", "site"):
        if not replay.exists(attribute, value):
            ok &= replay.need(event, pointer + "/value", attribute, value)
    elif attribute in ("launched_at", "korea_date"):
        replay.not_after_recording(event, pointer + "/value", value, attribute)
        if raw.get("precision") == "month" and not value.endswith("-01"):
            replay.problem(event, pointer + "/value", "with precision month, the value is the 1st of the month")
            ok = False
    sources = replay.state.of("source")
    if ok and source in sources:
        replay.not_after_recording(event, pointer + "/source", sources[source]["published"],
                                   f"source {source!r} published")
    return ok
