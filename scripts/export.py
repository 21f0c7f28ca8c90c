#!/usr/bin/env python3
"""Write the package as SQLite and JSON (dist/ by default). --help for options."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dprk_timeline.cli import main  # noqa: E402

if __name__ == "__main__":  # not when a spawned process (the checks of a large package) imports it
    sys.exit(main(["export", *sys.argv[1:]]))
