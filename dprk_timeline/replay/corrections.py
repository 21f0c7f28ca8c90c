"""Handlers of the events that fix what the log holds: corrections, retractions and merges."""
from .launches import make_claim
from .references import LOOKUP_KINDS, REFERENCES
from .state import Change


def _target(replay, event, target: str) -> tuple[str, str] | None:
    """The (kind, ID) of a correction's or retraction's target, if it exists (a problem if not)."""
    kind, _, record_id = target.partition(":")
    if kind == "claim":
        if record_id in replay.state.claims:
            return kind, record_id
        if not replay.reported_by:
            replay.problem(event, "/target", f"no claim {record_id!r} to act on")
        return None
    if not replay.is_record_kind(kind):
        replay.problem(event, "/target", f"{kind!r} is not a kind of record: one of {replay.record_kinds()}, or claim")
        return None
    if replay.need(event, "/target", kind, record_id):
        return kind, record_id
    return None


def _source_known_and_public(replay, event) -> bool | None:
    """Does the event's optional source exist (a problem if not), and is it public (with reported_by)? None
    when it names one that does not exist."""
    source = event.body.get("source")
    if source is None:
        return True
    if not replay.need(event, "/source", "source", source):
        return None
    return replay.public(source)


def on_correction(replay, event):
    body = event.body
    if _source_known_and_public(replay, event) is None:
        return
    target = _target(replay, event, body["target"])
    if target is None or not replay.public(body["source"]):
        return
    kind, record_id = target
    if kind == "claim":
        _correct_claim(replay, event, record_id)
    elif not ("set" in body or "unset" in body) or "claim" in body:
        replay.problem(event, "/set", f"a correction of a {kind} gives the changed fields in `set` or `unset` "
                                      "(and no `claim`)")
    elif kind == "launch":
        replay.problem(event, "/target", "a launch is corrected through its claims: target claim:<id>, "
                                         "or add claims with a claims event")
    else:
        _correct_record(replay, event, kind, record_id)


def _correct_claim(replay, event, claim_id: str) -> None:
    body = event.body
    if "claim" not in body or "set" in body or "unset" in body:
        replay.problem(event, "/claim", "a correction of a claim gives the replacing claim in `claim` (and no `set`)")
        return
    old = replay.state.claims[claim_id]
    if old.status != "current":
        replay.problem(event, "/target", f"claim {claim_id!r} is already {old.status}")
        return
    if body["claim"]["attribute"] != old.attribute:
        replay.problem(event, "/claim/attribute", f"the replacing claim must be about {old.attribute!r}")
        return
    new = make_claim(replay, event, "/claim", body["claim"], old.launch_id, body["source"], old.claimant)
    if new is None:
        return
    new.missile = body["claim"].get("missile", old.missile)
    old.status, old.replaced_by = "superseded", new.id
    replay.state.claims[new.id] = new
    replay.state.claims_of[new.launch_id].append(new)
    replay.state.changes.append(Change(event, "launch", old.launch_id, "corrected",
                                       detail=f"{old.attribute}: claim {old.id} replaced by {new.id}",
                                       reason=body["reason"], source=body["source"]))


def _correct_record(replay, event, kind: str, record_id: str) -> None:
    body = event.body
    record = replay.state.of(kind)[record_id]
    fields, removed = body.get("set", {}), body.get("unset", [])
    id_field = replay.id_field(kind)
    if id_field in fields or id_field in removed:
        replay.problem(event, f"/set/{id_field}" if id_field in fields else "/unset",
                       "an ID never changes; retract the record and register a new one")
        return
    if "type" in fields or "type" in removed:
        replay.problem(event, "/set/type", "the type of a record never changes; retract it and register a new one")
        return
    if set(fields) & set(removed):
        replay.problem(event, "/unset", "a field is either set or unset")
        return
    merged = {k: v for k, v in record.items() if k != "event" and k not in removed}
    merged.update(fields)
    merged.update({"type": kind})
    found = replay.schema_problems(event, merged)  # the record must stay schema-valid
    for p in found:
        replay.problem(event, "/set" + (p.pointer if p.pointer != "/" else ""), p.reason)
    if found:
        return
    before = len(replay.problems)
    for name, ref_kind in REFERENCES.items():
        if name in fields:
            for value in fields[name] if isinstance(fields[name], list) else [fields[name]]:
                replay.need(event, f"/set/{name}", ref_kind, value)
    if "date" in fields or "date_precision" in fields:
        replay.check_dated(event, merged)
    if len(replay.problems) > before:
        return
    record.update(fields)
    for name in removed:
        record.pop(name, None)
    replay.index_links(kind, record_id, fields)
    replay.state.changes.append(Change(event, kind, record_id, "corrected", detail=", ".join(sorted([*fields, *removed])),
                                       reason=body["reason"], source=body["source"]))


def on_retraction(replay, event):
    body = event.body
    known = _source_known_and_public(replay, event)
    if known is None:
        return
    target = _target(replay, event, body["target"])
    if target is None or not known:
        return
    kind, record_id = target
    if kind == "claim":
        _retract_claim(replay, event, record_id)
        return
    if kind in LOOKUP_KINDS:
        users = replay.users_of(kind, record_id)
        if users:
            more = f" and {len(users) - 1} more" if len(users) > 1 else ""
            replay.problem(event, "/target", f"{kind.replace('_', ' ')} {record_id!r} is still used by {users[0]}{more}; "
                                             "it can be corrected, not retracted")
            return
    first = replay.registered(kind, record_id)
    del replay.state.of(kind)[record_id]
    if kind == "launch":
        for claim in replay.state.claims_of.pop(record_id, []):
            del replay.state.claims[claim.id]
    replay.state.retired[f"{kind}:{record_id}"] = ("retracted", "", first)
    replay.unlink(kind, record_id)
    replay.state.changes.append(Change(event, kind, record_id, "retracted", reason=body["reason"],
                                       source=body.get("source", "")))


def _retract_claim(replay, event, claim_id: str) -> None:
    body = event.body
    claim = replay.state.claims[claim_id]
    if claim.status != "current":
        replay.problem(event, "/target", f"claim {claim_id!r} is already {claim.status}")
        return
    claim.status = "retracted"
    replay.state.changes.append(Change(event, "launch", claim.launch_id, "corrected",
                                       detail=f"{claim.attribute}: claim {claim.id} retracted",
                                       reason=body["reason"], source=body.get("source", "")))


def on_merge(replay, event):
    body = event.body
    kind, old, new = body["record_type"], body["from"], body["into"]
    if "source" in body and not replay.need(event, "/source", "source", body["source"]):
        return
    if old == new:
        replay.problem(event, "/into", "a record cannot be merged into itself")
        return
    if not (replay.need(event, "/from", kind, old) & replay.need(event, "/into", kind, new)):
        return
    if "source" in body and not replay.public(body["source"]):
        return
    if not _mergeable(replay, event, kind, old, new):
        return
    first = replay.registered(kind, old)
    absorbed = replay.state.of(kind).pop(old)
    if kind == "launch":
        moved = replay.state.claims_of.pop(old, [])
        for claim in moved:
            claim.launch_id = new
        replay.state.claims_of.setdefault(new, []).extend(moved)
    elif kind == "sanction":
        kept = replay.state.of("sanction")[new]
        for name in ("launches", "parties"):
            merged = kept.get(name, []) + [v for v in absorbed.get(name, []) if v not in kept.get(name, [])]
            if merged:
                kept[name] = merged
        replay.index_links("sanction", new, kept)
    replay.state.retired[f"{kind}:{old}"] = ("merged", new, first)
    replay.unlink(kind, old, into=new)
    reason, source = body["reason"], body.get("source", "")
    replay.state.changes.append(Change(event, kind, old, "merged", detail=f"into {new}", reason=reason, source=source))
    replay.state.changes.append(Change(event, kind, new, "merged", detail=f"absorbed {old}", reason=reason,
                                       source=source))


def _mergeable(replay, event, kind: str, old: str, new: str) -> bool:
    """Only records of one kind merge (an individual never into an entity), and never so that one would refer to
    itself."""
    absorbed, kept = replay.state.of(kind)[old], replay.state.of(kind)[new]
    if kind == "party" and absorbed["kind"] != kept["kind"]:
        replay.problem(event, "/into", f"party {old!r} is a {absorbed['kind']}, {new!r} a {kept['kind']}: only parties "
                                       "of one kind merge")
        return False
    if kind == "sanction" and (kept.get("refers_to") == old or absorbed.get("refers_to") == new):
        replay.problem(event, "/into", f"sanctions actions {old!r} and {new!r} refer to each other: merged, one would "
                                       "refer to itself")
        return False
    return True
