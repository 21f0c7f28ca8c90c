#!/usr/bin/env python3
"""Append a changeset of what an upstream snapshot (cns, un, ofac) adds, changes or removes. --help for more."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dprk_timeline.cli import main  # noqa: E402

sys.exit(main(["import", *sys.argv[1:]]))
