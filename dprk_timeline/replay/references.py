"""Which fields of which records name other records: what the replay resolves, indexes and repoints."""

# fields of record events that name other records: field -> the kind of record it names
REFERENCES = {
    "source": "source", "actor": "actor", "claimant": "actor", "authority": "actor", "parent": "actor",
    "refers_to": "sanction", "launches": "launch", "sanctions": "sanction", "parties": "party",
    "blocked_by": "actor", "site": "site", "missile_type": "missile_type", "nuclear_tests": "nuclear_test",
}
# lookups: records that others name, and that can be retracted only once nothing names them
LOOKUP_KINDS = {"source", "actor", "site", "missile_type"}
LOOKUP_FIELDS = {name for name, kind in REFERENCES.items() if kind in LOOKUP_KINDS}
# kind of record -> the field of statements and sanctions that links to it (a retraction or merge repoints it)
LINK_FIELDS = {"launch": "launches", "sanction": "sanctions", "party": "parties", "nuclear_test": "nuclear_tests"}
LINKING = {"statement", "sanction"}  # the kinds of record that hold links
