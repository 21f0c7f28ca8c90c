"""Reconciliation: which claim gives a launch's value, and do the claims disagree?

The rule (also in the README):
1. Only current claims count (not superseded, not retracted).
2. For each attribute, claimants are ranked by their kind. Observed flight facts (time, place,
   figures, count) prefer militaries, then governments, international bodies, research datasets,
   state media, news media. Names of the missile (missile_type, missile_class) prefer the launching
   state's own media, then research datasets, militaries, governments, international bodies, news.
   Outcome prefers research datasets, then militaries, governments, international bodies, state
   media, news.
3. Among the claims of the best-ranked kind, a claimant's own figure beats one the source converted
   into another unit (a news report's miles for a military's kilometres); then the one from the
   latest-published source wins; ties go to the claim recorded last (log order).
   A bare class ("BM", "Unknown") yields to any claim that names a class.
4. Claims disagree when two current claims differ: figures by more than 10 % of the larger, times by
   more than 30 minutes, dates, counts, IDs and categories by any difference (a bare "BM" or
   "Unknown" class agrees with any class). Free-text areas are never compared.
"""
from __future__ import annotations

import datetime as dt

from ..replay.state import Claim

KINDS_OBSERVED = ["military", "government", "international_organisation", "research_dataset", "research_group",
                  "state_media", "news_media"]
KINDS_NAMING = ["state_media", "research_dataset", "research_group", "military", "government", "international_organisation",
                "news_media"]
KINDS_OUTCOME = ["research_dataset", "research_group", "military", "government", "international_organisation", "state_media",
                 "news_media"]
RANKING = {"missile_type": KINDS_NAMING, "missile_class": KINDS_NAMING, "payload": KINDS_NAMING, "outcome": KINDS_OUTCOME,
           "orbit": KINDS_OUTCOME}

RELATIVE_TOLERANCE = 0.10
TIME_TOLERANCE = dt.timedelta(minutes=30)
NUMERIC = {"apogee_km", "range_km", "max_speed_mach", "flight_time_s", "bearing_deg"}
NOT_COMPARED = {"launch_area", "landing_area", "payload"}  # (words for one place or satellite differ)
VAGUE_CLASSES = {"BM", "Unknown"}


def pick(claims: list[Claim], actor_kinds: dict[str, str], published: dict[str, str]) -> Claim | None:
    """The claim that gives the reconciled value (claims are current and all about one attribute)."""
    if not claims:
        return None
    if claims[0].attribute == "missile_class":  # a bare "ballistic missile" yields to any class that says more
        claims = [c for c in claims if c.value not in VAGUE_CLASSES] or claims
    ranking = RANKING.get(claims[0].attribute, KINDS_OBSERVED)

    def key(claim: Claim):
        rank = ranking.index(actor_kinds[claim.claimant])
        return (-rank, not claim.converted, published[claim.source], claim.order, claim.position)
    return max(claims, key=key)


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def disagree(claims: list[Claim]) -> bool:
    """Do the current claims about one attribute disagree beyond the tolerance?"""
    if len(claims) < 2 or claims[0].attribute in NOT_COMPARED:
        return False
    attribute = claims[0].attribute
    if attribute in NUMERIC:
        values = [float(c.value) for c in claims]
        return max(values) - min(values) > RELATIVE_TOLERANCE * max(values)
    if attribute == "launched_at":
        times = [_instant(c.value) for c in claims]
        return max(times) - min(times) > TIME_TOLERANCE
    values = {c.value for c in claims}
    if attribute == "missile_class":
        values -= VAGUE_CLASSES
    return len(values) > 1
