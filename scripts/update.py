#!/usr/bin/env python3
"""Fetch the upstreams (UN list, OFAC SDN list, CNS database) and append a changeset for each one that changed. --help for more."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dprk_timeline.cli import main  # noqa: E402

sys.exit(main(["update", *sys.argv[1:]]))
