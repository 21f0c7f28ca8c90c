"""Space launches carry their payload and whether it reached orbit, as claims like any other figure."""
import json

import pandas as pd

from conftest import ROOT, SHARED
import pytest


def test_every_satellite_the_cns_file_lists_is_the_payload_of_a_space_launch_that_reached_orbit():
    launches = pd.read_csv(ROOT / "data" / "launches.csv", dtype=str).set_index("launch_id")
    with_payload = launches.dropna(subset=["payload"])
    assert len(with_payload) >= 3 and set(with_payload["missile_class"]) == {"SLV"}
    assert launches.loc["2023-11-21-1", "payload"] == "Malligyong-1" and launches.loc["2023-11-21-1", "orbit"] == "reached"
    claims = pd.read_csv(ROOT / "data" / "claims.csv", dtype=str)
    orbit = claims[(claims.attribute == "orbit") & (claims.claimant_id == "cns")]
    assert set(orbit.launch_id) >= {"2012-12-12-1", "2016-02-07-1", "2023-11-21-1"}


@pytest.mark.skipif(not (SHARED / "upstream").is_dir(), reason="../shared/upstream (the CNS snapshot) is not beside the checkout")
def test_the_payloads_are_the_satellites_of_the_snapshot():
    satellites = json.loads((SHARED / "upstream" / "cns-via-nagix" / "satellite.en.json").read_text(encoding="utf-8"))
    launches = pd.read_csv(ROOT / "data" / "launches.csv", dtype=str).set_index("launch_id")
    assert {(s["launchdate"], s["name"]) for s in satellites} <= {
        (launch_id[:10], payload) for launch_id, payload in launches["payload"].dropna().items()}
