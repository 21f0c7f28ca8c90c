"""Sanctioned parties shared by the list importers: one party, one row, linked only on evidence."""
from __future__ import annotations

import re
import unicodedata

# Country names as the UN and OFAC lists write them -> ISO 3166-1 alpha-2.
COUNTRIES = {
    "democratic people's republic of korea": "KP", "korea, north": "KP", "china": "CN", "russia": "RU",
    "taiwan": "TW", "turkey": "TR", "singapore": "SG", "india": "IN", "united kingdom": "GB",
}


def country_code(name: str) -> str | None:
    return COUNTRIES.get(" ".join(name.split()).lower())


def folded(text: str) -> str:
    """White space folded to single spaces (list fields carry line breaks)."""
    return " ".join(text.split())


def name_key(name: str) -> frozenset[str]:
    """Order- and punctuation-blind key: 'YUN HO-JIN' and 'YUN, Ho Jin' give the same key."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    return frozenset(t for t in re.split(r"[^A-Z0-9]+", text) if t)


def names_of(party: dict) -> set[frozenset[str]]:
    return {name_key(n) for n in [party["name"], *party.get("aliases", [])] if name_key(n)}


def evidence(a: dict, b: dict) -> str | None:
    """Why two list entries are one party, or None. A name alone is never enough."""
    if a["kind"] != b["kind"]:
        return None
    shared = names_of(a) & names_of(b)
    if not shared:
        return None
    if a["kind"] == "individual":
        if a.get("date_of_birth") and a.get("date_of_birth") == b.get("date_of_birth"):
            return f"same name and date of birth {a['date_of_birth']}"
        return None
    if name_key(a["name"]) == name_key(b["name"]) and len(shared) >= 2:
        others = sorted(" ".join(sorted(k)) for k in shared if k != name_key(a["name"]))
        return f"same name and shared alias {others[0]}"
    return None


def find_match(candidate: dict, parties: dict[str, dict], field: str) -> tuple[str, str] | None:
    """An existing party (not yet carrying `field`) that the candidate is on evidence: (party ID, evidence)."""
    found = []
    for party_id, party in parties.items():
        if party.get(field) is None:
            why = evidence(candidate, party)
            if why:
                found.append((party_id, why))
    return found[0] if len(found) == 1 else None
