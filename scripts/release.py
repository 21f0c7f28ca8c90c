#!/usr/bin/env python3
"""Cut a release: scripts/release.py X.Y.Z (see --help)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dprk_timeline.cli import main  # noqa: E402

sys.exit(main(["release", *sys.argv[1:]]))
