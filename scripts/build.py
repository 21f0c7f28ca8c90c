#!/usr/bin/env python3
"""Rebuild data/ and datapackage.json from events/ and run every check. --help for time travel."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dprk_timeline.cli import main  # noqa: E402

sys.exit(main(["build", *sys.argv[1:]]))
