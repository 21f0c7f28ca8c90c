#!/usr/bin/env python3
"""Check events/ and the committed data/ without writing them (CI). --base REV enforces append-only."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dprk_timeline.cli import main  # noqa: E402

sys.exit(main(["check", *sys.argv[1:]]))
