#!/usr/bin/env python3
"""Write the package as SQLite and JSON into dist/ (see --help)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dprk_timeline.cli import main  # noqa: E402

sys.exit(main(["export", *sys.argv[1:]]))
