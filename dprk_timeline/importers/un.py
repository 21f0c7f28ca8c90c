"""Importer of the UN Security Council Consolidated List (XML): the DPRK (resolution 1718) entries.

Each entry becomes a party (names, aliases, kind, nationality, UN reference, date of birth, the list's
DESIGNATION and COMMENTS1 fields); parties listed on one day form one designation action, and those
updated on one day (LAST_DAY_UPDATED) one amendment action, both by the Security Council. An entry
already in the log from the OFAC list is linked to on evidence (parties.evidence), never on a name
alone. Importing the same list again gives nothing.
"""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from ..replay.state import State
from ..paths import UPSTREAM
from .common import Plan, UpstreamError
from .parties import country_code, find_match, folded

DEFAULT = UPSTREAM / "un-sc-consolidated" / "consolidated_2026-02-27.xml"
AUTHORITY = "unsc"
PROGRAMME = "UN 1718 (DPRK)"
HANDLED = {"DATAID", "VERSIONNUM", "FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "UN_LIST_TYPE", "REFERENCE_NUMBER",
           "LISTED_ON", "COMMENTS1", "DESIGNATION", "NATIONALITY", "LIST_TYPE", "LAST_DAY_UPDATED",
           "INDIVIDUAL_ALIAS", "ENTITY_ALIAS", "INDIVIDUAL_DATE_OF_BIRTH", "GENDER"}
NOT_IMPORTED = {"INDIVIDUAL_ADDRESS", "ENTITY_ADDRESS", "INDIVIDUAL_PLACE_OF_BIRTH", "INDIVIDUAL_DOCUMENT",
                "SORT_KEY", "SORT_KEY_LAST_MOD", "TITLE", "NAME_ORIGINAL_SCRIPT"}


def read_list(path: Path) -> tuple[str, list[dict], list[str]]:
    """(generation time, DPRK entries as party dicts with their dates, report lines)."""
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise UpstreamError(f"{path}: file not found") from None
    except ET.ParseError as err:
        raise UpstreamError(f"{path}: not valid XML ({err})") from None
    if root.tag != "CONSOLIDATED_LIST":
        raise UpstreamError(f"{path}: expected a CONSOLIDATED_LIST document, found {root.tag}")
    generated = root.get("dateGenerated", "")
    entries, unhandled, skipped = [], defaultdict(int), defaultdict(int)
    for group, kind in (("INDIVIDUALS", "individual"), ("ENTITIES", "entity")):
        for element in root.find(group) if root.find(group) is not None else []:
            if (element.findtext("UN_LIST_TYPE") or "").strip() != "DPRK":
                continue
            for child in element:
                if child.tag not in HANDLED:
                    (skipped if child.tag in NOT_IMPORTED else unhandled)[child.tag] += 1
            entries.append(_entry(element, kind))
    report = [f"{path.name}: field {tag} in {n} entries not handled by this importer" for tag, n in sorted(unhandled.items())]
    report += [f"{path.name}: field {tag} in {n} entries not imported (no column yet)" for tag, n in sorted(skipped.items())]
    return generated, entries, report


def _entry(element, kind: str) -> dict:
    text = lambda tag: folded(element.findtext(tag) or "")  # noqa: E731
    reference = text("REFERENCE_NUMBER")
    name = " ".join(p for p in (text("FIRST_NAME"), text("SECOND_NAME"), text("THIRD_NAME")) if p)
    party = {"party_id": reference.lower(), "name": name, "kind": kind, "un_reference": reference}
    aliases = []
    for alias in element.findall(f"{'INDIVIDUAL' if kind == 'individual' else 'ENTITY'}_ALIAS/ALIAS_NAME"):
        value = folded(alias.text or "")
        if value and value not in aliases and value != name:
            aliases.append(value)
    if aliases:
        party["aliases"] = aliases
    nationalities = [country_code(v.text or "") for v in element.findall("NATIONALITY/VALUE")]
    if nationalities and nationalities[0]:
        party["nationality"] = nationalities[0]
    birth = element.find("INDIVIDUAL_DATE_OF_BIRTH")
    if birth is not None:
        if birth.findtext("DATE"):
            party["date_of_birth"] = birth.findtext("DATE").strip()[:10]
        elif birth.findtext("YEAR"):
            party["date_of_birth"] = birth.findtext("YEAR").strip()
    titles = [folded(v.text or "") for v in element.findall("DESIGNATION/VALUE") if (v.text or "").strip()]
    if titles:
        party["title"] = "; ".join(titles)
    if text("COMMENTS1"):
        party["remarks"] = text("COMMENTS1")[:2000]
    return {"party": party, "listed_on": text("LISTED_ON"),
            "updated": sorted({folded(v.text or "") for v in element.findall("LAST_DAY_UPDATED/VALUE") if v.text})}


def arguments(parser) -> None:
    pass  # the list's generation time, in the file, dates it


def plan(path: Path, state: State, options=None) -> Plan:
    """The changeset that brings the log up to the DPRK entries of the list in the file at path."""
    generated, entries, report = read_list(path)
    if not generated:
        raise UpstreamError(f"{path}: the list has no dateGenerated")
    moment = dt.datetime.fromisoformat(generated.replace("Z", "+00:00"))
    moment = moment.replace(tzinfo=moment.tzinfo or dt.timezone.utc).astimezone(dt.timezone.utc)
    day = generated[:10]
    source = {"source_id": f"un-consolidated-list-{day}", "kind": "official_list_snapshot",
              "publisher": "United Nations Security Council",
              "title": "Security Council Consolidated List (XML)", "published": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "version": f"generated {generated}", "terms": "Official public list of the United Nations.",
              "attribution": "United Nations Security Council Consolidated List"}
    if getattr(options, "retrieved_at", None):  # downloaded by scripts/update.py
        source["retrieved"] = options.retrieved_at
    events, notes = plan_events(entries, state, source)
    return Plan(events, f"import-un-{day}", f"the {len(entries)} DPRK entries of the UN list generated {generated}",
                report=report, notes=notes)


def plan_events(entries: list[dict], state: State, source: dict) -> tuple[list[dict], list[str]]:
    source_id, events, body, notes = source["source_id"], [], [], []
    parties, sanctions = state.of("party"), state.of("sanction")
    by_reference = {p.get("un_reference"): pid for pid, p in parties.items() if p.get("un_reference")}
    ids = {}
    for entry in entries:
        party = entry["party"]
        existing = by_reference.get(party["un_reference"])
        if existing is None:
            match = find_match(party, parties, "un_reference")
            if match:
                existing, why = match
                party = dict(party, linked_on=f"UN {party['un_reference']} = OFAC entry: {why}")
                notes.append(f"{party['un_reference']}: linked to {existing} ({why})")
        if existing is None:
            body.append({"type": "party", **party, "source": source_id})
            ids[party["un_reference"]] = party["party_id"]
            continue
        ids[party["un_reference"]] = existing
        current = parties[existing]
        changed = {k: v for k, v in party.items() if k != "party_id" and current.get(k) != v}
        if existing != party["party_id"]:
            changed.pop("name", None)  # the OFAC entry keeps its own spelling; the UN's stays in aliases
            if party["name"] not in current.get("aliases", []) and party["name"] != current["name"]:
                changed["aliases"] = current.get("aliases", []) + [party["name"]]
            changed.pop("kind", None)
        if changed:
            body.append({"type": "correction", "target": f"party:{existing}", "set": changed,
                         "reason": party.get("linked_on") and "linked on evidence" or "revised upstream", "source": source_id})
    for action, dates in (("designation", lambda e: [e["listed_on"]]), ("amendment", lambda e: e["updated"])):
        grouped = defaultdict(list)
        for entry in entries:
            for date in dates(entry):
                grouped[date].append(ids[entry["party"]["un_reference"]])
        for date, parties in sorted(grouped.items()):
            action_id = f"unsc-1718-{'listing' if action == 'designation' else 'amendment'}-{date}"
            wanted = sorted(set(parties))
            if action_id not in sanctions:
                body.append({"type": "sanction", "action_id": action_id, "action": action, "authority": AUTHORITY,
                             "programme": PROGRAMME, "date": date, "parties": wanted, "source": source_id,
                             "summary": (f"The Security Council's 1718 Committee list {'adds' if action == 'designation' else 'updates the entries of'} "
                                         f"{len(wanted)} {'party' if len(wanted) == 1 else 'parties'} on this day.")})
            elif sorted(sanctions[action_id].get("parties", [])) != wanted:
                body.append({"type": "correction", "target": f"sanction:{action_id}", "set": {"parties": wanted},
                             "reason": "revised upstream", "source": source_id})
    if body:
        head = [] if source_id in state.of("source") else [{"type": "source", **source}]
        events = head + body
    return events, notes
