"""Where things live in a checkout."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
DATA = ROOT / "data"
SCHEMAS = ROOT / "schemas"
EVENT_SCHEMAS = SCHEMAS / "events"
TABLE_SCHEMAS = SCHEMAS / "tables"
PACKAGE_BASE = SCHEMAS / "package.json"
DESCRIPTOR = ROOT / "datapackage.json"
UPSTREAM = ROOT.parent / "shared" / "upstream"  # the raw public snapshots beside the checkout (not in it)
