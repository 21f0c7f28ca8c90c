"""The rows each record of the replayed state makes, table by table (a launch makes its launches row, its
firings rows and its claims rows; a statement its row and its link rows; and so on). The registry says
which function makes the rows of each kind of record; the history of changes makes the changes table.
Rows are tuples in the order of their table's fields; tables.py sorts and writes them."""
from __future__ import annotations

from ..dates import day_of, korea_date_of, period_end
from ..replay.state import Change, Claim, State
from ..table_schemas import field_names
from ..units import format_number
from .reconcile import VAGUE_CLASSES, disagree, pick

LIST_SEPARATOR = "; "
LAUNCH_ATTRIBUTES = ["launched_at", "korea_date", "site", "launch_area", "landing_area", "missile_type",
                     "missile_class", "missile_count", "apogee_km", "range_km", "max_speed_mach",
                     "flight_time_s", "trajectory", "outcome", "payload", "orbit"]
FIRING_ATTRIBUTES = ["launched_at", "missile_type", "missile_class", "apogee_km", "range_km", "max_speed_mach",
                     "flight_time_s", "bearing_deg", "landing_area", "outcome"]
COLUMN = {"launched_at": "launched_at_utc", "site": "site_id", "missile_type": "missile_type_id"}
# the figures whose hedging ("about", "or more", "up to") goes with the reconciled value, and its column
QUALIFIED = {"apogee_km": "apogee_qualifier", "range_km": "range_qualifier", "max_speed_mach": "max_speed_qualifier",
             "flight_time_s": "flight_time_qualifier"}
SALVO_SHARED = ("missile_type_id", "landing_area", "outcome")
# a salvo of several classes counts as a launch of its longest-range class (an ICBM and two SRBMs: ICBM)
CLASSES_BY_RANGE = ["ICBM", "IRBM", "MRBM", "SRBM"]
COMPILATIONS = {"research_dataset", "official_compilation"}  # kinds of source that compile, later, what was reported


def ordered(table: str, row: dict) -> tuple:
    """A row given by field name, as a tuple in the order of the table's fields."""
    return tuple(row[name] for name in field_names(table))


def listed(values) -> str | None:
    return LIST_SEPARATOR.join(values or []) or None


def dated(record: dict) -> dict:
    """The date columns of a statement or sanctions action."""
    precision = record.get("date_precision", "day")
    date = record["date"]
    # a date stands for itself (period_end gives it back) unless it starts a week or a month
    return {"date": None if precision == "on_or_before" else date,
            "date_latest": period_end(date, precision) if precision in ("week", "month") else date,
            "date_precision": precision, "date_text": record.get("date_text")}


class Projection:
    """Makes the rows of the records of one replayed state."""

    def __init__(self, state: State):
        self.state = state
        actors, sources = state.of("actor"), state.of("source")
        self.actor_kind = {actor_id: actor["kind"] for actor_id, actor in actors.items()}
        self.country = {actor_id: actor.get("country") for actor_id, actor in actors.items()}
        self.published = {source_id: source["published"] for source_id, source in sources.items()}
        self.source_kind = {source_id: source["kind"] for source_id, source in sources.items()}
        self.answered_in = {}  # launch ID -> the sources of the statements that answer it (they report it too)
        for statement in state.of("statement").values():
            for launch_id in statement.get("launches", []):
                self.answered_in.setdefault(launch_id, set()).add(statement["source"])

    # -- launches: reconciled from their claims ---------------------------------------------------
    def launch(self, launch_id: str) -> dict[str, list[tuple]]:
        """The launch's row, its firings rows and the rows of all its claims."""
        claims = self.state.claims_of.get(launch_id, [])
        current = [claim for claim in claims if claim.status == "current"]
        scopes = {}  # missile position (None: the launch as a whole) -> attribute -> current claims
        for claim in current:
            scopes.setdefault(claim.missile, {}).setdefault(claim.attribute, []).append(claim)
        used = set()  # id() of each claim that gives a value
        launch_level = scopes.get(None, {})
        counts, disagreeing = self.reconcile({"missile_count": launch_level["missile_count"]}
                                             if "missile_count" in launch_level else {}, used)
        count = counts["missile_count"].value if counts else None
        positions = max([count or 0] + [position for position in scopes if position])
        pooled = launch_level
        if positions == 1:  # for one missile, "the launch" and "missile 1" are the same thing: pool their claims
            pooled = {}
            for scope in (launch_level, scopes.get(1, {})):
                for attribute, group in scope.items():
                    pooled[attribute] = pooled.get(attribute, []) + group
        chosen, differ = self.reconcile({a: g for a, g in pooled.items() if a != "missile_count"}, used)
        chosen.update(counts)
        disagreeing |= differ
        firings = []
        for position in range(1, positions + 1):
            if positions == 1:  # its claims are all the launch's, reconciled above
                picked, claim_count = chosen, len(current)
            else:
                own = scopes.get(position, {})
                picked, differ = self.reconcile({a: g for a, g in own.items() if a in FIRING_ATTRIBUTES}, used)
                disagreeing |= differ
                claim_count = sum(map(len, own.values()))
            firings.append({"launch_id": launch_id, "position": position, "claim_count": claim_count,
                            **self.values(picked, FIRING_ATTRIBUTES)})
        launch = self.launch_row(launch_id, current, chosen, disagreeing, count, firings)
        return {"launches": [ordered("launches", launch)], "firings": [ordered("firings", f) for f in firings],
                "claims": [self.claim_row(claim, id(claim) in used) for claim in claims]}

    def reconcile(self, groups: dict[str, list[Claim]], used: set) -> tuple[dict[str, Claim], set[str]]:
        """The winning claim of each attribute, and the attributes whose claims disagree (groups: attribute ->
        its current claims; the winners are added to used)."""
        chosen, disagreeing = {}, set()
        for attribute, group in groups.items():
            winner = chosen[attribute] = pick(group, self.actor_kind, self.published)
            if disagree(group):
                disagreeing.add(attribute)
            used.add(id(winner))
        return chosen, disagreeing

    def values(self, picked: dict[str, Claim], attributes: list[str]) -> dict:
        """The columns of a launch or missile from its winning claims: values, the figures' qualifiers, and the
        class of its missile type where the type is known (else the class a claim gives)."""
        row = {COLUMN.get(a, a): winner.value if (winner := picked.get(a)) else None for a in attributes}
        row.update({column: winner.qualifier if (winner := picked.get(figure)) else None
                    for figure, column in QUALIFIED.items()})
        row["missile_class"] = self.type_class(row["missile_type_id"]) or row["missile_class"]
        return row

    def type_class(self, missile_type_id: str | None) -> str | None:
        missile_type = self.state.of("missile_type").get(missile_type_id) if missile_type_id else None
        return missile_type.get("class") if missile_type else None

    def launch_row(self, launch_id, claims, chosen, disagreeing, count, firings) -> dict:
        row = {"launch_id": launch_id, **self.values(chosen, LAUNCH_ATTRIBUTES)}
        if firings:
            self.from_salvo(row, firings, claims, chosen)
        if row["launched_at_utc"]:
            row["time_precision"] = chosen["launched_at"].precision
            if row["korea_date"] is None:
                row["korea_date"] = korea_date_of(row["launched_at_utc"])
        elif row["korea_date"]:
            row["time_precision"] = chosen["korea_date"].precision
        else:
            row["time_precision"] = "unknown"
        row["missile_count"] = count
        countries = {self.country[c.claimant] for c in claims}
        dprk, others = "KP" in countries, bool(countries - {"KP"})
        row["confirmation"] = "dprk_and_others" if dprk and others else ("dprk_only" if dprk else "others_only")
        row["claim_count"] = len(claims)
        sources = {c.source for c in claims}
        row["source_count"] = len(sources)
        row["sources_disagree"] = bool(disagreeing)
        row["disagreements"] = listed(sorted(disagreeing))
        reporting = sources | self.answered_in.get(launch_id, set())
        reported = [day_of(self.published[s]) for s in reporting if self.source_kind[s] not in COMPILATIONS]
        row["first_reported"] = min(reported, default=None)
        return row

    def from_salvo(self, row: dict, firings: list[dict], claims: list[Claim], chosen: dict) -> None:
        """Fill what no launch-wide claim gives from the missiles: the salvo's highest figures (with their
        qualifiers), its first time, what all its missiles have in common, and its longest-range class."""
        for column, qualifier in QUALIFIED.items():
            given = [f for f in firings if f[column] is not None]
            if row[column] is None and given:
                highest = max(given, key=lambda f: f[column])
                row[column], row[qualifier] = highest[column], highest[qualifier]
        times = [f["launched_at_utc"] for f in firings if f["launched_at_utc"]]
        if row["launched_at_utc"] is None and times:
            row["launched_at_utc"] = min(times)
            chosen.setdefault("launched_at", next(c for c in claims if c.value == min(times)
                                                  and c.attribute == "launched_at"))
        for column in SALVO_SHARED:
            shared = {f[column] for f in firings if f[column]}
            if row[column] is None and len(shared) == 1:
                row[column] = shared.pop()
            elif row[column] is None and column == "outcome" and len(shared) > 1:
                row[column] = "mixed"
        stated = row["missile_class"] if row["missile_class"] not in VAGUE_CLASSES else None  # ("BM" says little)
        row["missile_class"] = (self.type_class(row["missile_type_id"]) or stated or salvo_class(firings)
                                or row["missile_class"])

    def claim_row(self, c: Claim, used: bool) -> tuple:
        number = c.value if isinstance(c.value, (int, float)) else None
        return ordered("claims", {
            "claim_id": c.id, "launch_id": c.launch_id, "missile": c.missile, "attribute": c.attribute,
            "value": c.value if number is None else format_number(number), "value_number": number,
            "unit": c.unit or None, "original_text": c.original_text or None, "original_value": c.original_value,
            "original_unit": c.original_unit or None, "qualifier": c.qualifier, "converted": c.converted,
            "precision": c.precision or None,
            "claimant_id": c.claimant, "source_id": c.source, "source_published": day_of(self.published[c.source]),
            "source_record": c.source_record or None, "event_id": c.event.id,
            "recorded_at": c.event.changeset.recorded_at, "status": c.status, "replaced_by": c.replaced_by or None,
            "used": c.status == "current" and used, "note": c.note or None})

    # -- statements and sanctions actions, with their links ----------------------------------------
    def statement(self, statement_id: str) -> dict[str, list[tuple]]:
        s = self.state.of("statement")[statement_id]
        row = {"statement_id": statement_id, **dated(s), "actor_id": s["actor"], "country": self.country[s["actor"]],
               "speaker": s.get("speaker"), "role": s.get("role"), "channel": s.get("channel", "unknown"),
               "stance": s["stance"], "quote": s.get("quote"), "summary": s["summary"], "source_id": s["source"],
               "event_id": s["event"].id}
        return {"statements": [ordered("statements", row)],
                "launch_statements": [(x, statement_id, s["source"]) for x in s.get("launches", [])],
                "statement_sanctions": [(statement_id, x, s["source"]) for x in s.get("sanctions", [])],
                "nuclear_test_statements": [(x, statement_id, s["source"]) for x in s.get("nuclear_tests", [])]}

    def sanction(self, action_id: str) -> dict[str, list[tuple]]:
        a = self.state.of("sanction")[action_id]
        named = len(a.get("parties", []))
        row = {"action_id": action_id, **dated(a), "action": a["action"], "authority_id": a["authority"],
               "programme": a.get("programme"), "parties_named": named,
               "parties_count": a.get("parties_count", named or None),
               "blocked_by": listed(a.get("blocked_by")), "refers_to": a.get("refers_to"),
               "summary": a["summary"], "source_id": a["source"], "event_id": a["event"].id}
        return {"sanctions": [ordered("sanctions", row)],
                "launch_sanctions": [(x, action_id, a["source"]) for x in a.get("launches", [])],
                "sanction_parties": [(action_id, x, a["source"]) for x in a.get("parties", [])],
                "nuclear_test_sanctions": [(x, action_id, a["source"]) for x in a.get("nuclear_tests", [])]}

    def nuclear_test(self, test_id: str) -> dict[str, list[tuple]]:
        """Its row, with the range of the figures its claimants gave, and a row per figure."""
        t = self.state.of("nuclear_test")[test_id]
        claims = t["claims"]

        def figures(name: str) -> list[float]:  # every figure given, the high ends of ranges too
            given = [c for c in claims if c["attribute"] == name]
            return [c["value"] for c in given] + [c["value_high"] for c in given if "value_high" in c]

        def claim_row(n: int, c: dict) -> tuple:  # a time is a text; a magnitude or yield also a number
            timed = c["attribute"] == "detonated_at"
            return (f"{t['event'].id}.{n}", test_id, c["attribute"], c["value"] if timed else format_number(c["value"]),
                    None if timed else c["value"], c.get("value_high"), c.get("unit"), c.get("qualifier", "exact"),
                    c["text"], c["claimant"], c["source"], t["event"].id)

        times = [c["value"] for c in claims if c["attribute"] == "detonated_at"]
        row = {"test_id": test_id, "korea_date": t["korea_date"],
               "detonated_at_utc": times[0] if len({time[:16] for time in times}) == 1 else None,  # agreed to the minute
               "site_id": t.get("site"),
               "magnitude_min": min(figures("magnitude"), default=None), "magnitude_max": max(figures("magnitude"), default=None),
               "yield_kt_min": min(figures("yield_kt"), default=None), "yield_kt_max": max(figures("yield_kt"), default=None),
               "claimant_count": len({c["claimant"] for c in claims}), "claim_count": len(claims),
               "summary": t["summary"], "source_id": t["source"], "event_id": t["event"].id}
        return {"nuclear_tests": [ordered("nuclear_tests", row)],
                "nuclear_test_claims": [claim_row(n, c) for n, c in enumerate(claims, start=1)]}

    # -- one row each ------------------------------------------------------------------------------
    def party(self, party_id: str) -> dict[str, list[tuple]]:
        p = self.state.of("party")[party_id]
        return {"parties": [(party_id, p["name"], p["kind"], listed(p.get("aliases")), p.get("nationality"),
                             p.get("un_reference"), p.get("ofac_ent_num"), p.get("date_of_birth"), p.get("title"),
                             p.get("remarks"), p.get("linked_on"), p["source"])]}

    def context(self, context_id: str) -> dict[str, list[tuple]]:
        c = self.state.of("context")[context_id]
        return {"context": [(context_id, c["topic"], c.get("period_start"), c.get("period_end"), c.get("value"),
                             c.get("unit"), c.get("original"), c["summary"], c["claimant"], c["source"])]}

    def site(self, site_id: str) -> dict[str, list[tuple]]:
        s = self.state.of("site")[site_id]
        return {"sites": [(site_id, s["name"], s.get("country"), s.get("latitude"), s.get("longitude"), s["source"])]}

    def missile_type(self, missile_type_id: str) -> dict[str, list[tuple]]:
        m = self.state.of("missile_type")[missile_type_id]
        return {"missile_types": [(missile_type_id, m["name"], m.get("class"), m.get("maneuver"),
                                   listed(m.get("aliases")), m["source"])]}

    def actor(self, actor_id: str) -> dict[str, list[tuple]]:
        a = self.state.of("actor")[actor_id]
        return {"actors": [(actor_id, a["name"], a["kind"], a.get("country"), a.get("parent"))]}

    def source(self, source_id: str) -> dict[str, list[tuple]]:
        s = self.state.of("source")[source_id]
        published = s["published"]
        return {"sources": [(source_id, s["kind"], s["publisher"], s.get("title"), s.get("author"), day_of(published),
                             published if "T" in published else None, s.get("retrieved"), s.get("url"), s.get("version"),
                             s.get("terms"), s.get("attribution"))]}


def salvo_class(firings: list[dict]) -> str | None:
    """The class of a salvo: its missiles' one class, else the longest-range class among them (None when they
    are of classes that range does not order, or of none)."""
    classes = {f["missile_class"] for f in firings if f["missile_class"]}
    if len(classes) > 1:
        classes -= VAGUE_CLASSES
    if len(classes) == 1:
        return classes.pop()
    return next((c for c in CLASSES_BY_RANGE if c in classes), None) if classes <= set(CLASSES_BY_RANGE) else None


def change_row(change: Change) -> tuple:
    changeset = change.event.changeset
    return (change.event.id, change.record_type, change.record_id, change.change, change.detail or None,
            change.reason or None, change.source or None, changeset.recorded_at, changeset.name,
            changeset.body["author"])
