"""datapackage.json, the Table Schemas and CITATION.cff against the official specifications."""
import json
import subprocess

import jsonschema
import pytest
import yaml

from conftest import ROOT, SHARED
from dprk_timeline.registry import TABLES

SPEC = SHARED / "spec"
needs_spec = pytest.mark.skipif(not SPEC.is_dir(), reason="../shared/spec (official profiles) is not beside the checkout")


def descriptor():
    return json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))


def official(*parts):
    return json.loads(SPEC.joinpath(*parts).read_text(encoding="utf-8"))


@needs_spec
def test_descriptor_validates_against_the_official_data_package_2_profiles():
    package = descriptor()
    jsonschema.Draft7Validator(official("datapackage-2.0", "datapackage.json")).validate(package)
    for resource in package["resources"]:
        jsonschema.Draft7Validator(official("datapackage-2.0", "dataresource.json")).validate(resource)
        jsonschema.Draft7Validator(official("datapackage-2.0", "tableschema.json")).validate(resource["schema"])


def test_frictionless_reports_the_package_valid():
    from frictionless import validate
    report = validate(str(ROOT / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_descriptor_carries_the_metadata_users_need():
    package = descriptor()
    for key in ("name", "title", "description", "version", "licenses", "sources", "created", "keywords"):
        assert package.get(key), f"datapackage.json lacks {key}"
    assert [r["name"] for r in package["resources"]] == TABLES
    for resource in package["resources"]:
        assert resource["type"] == "table" and resource["profile"] == "tabular-data-resource"
        schema = resource["schema"]
        assert schema["primaryKey"]
        for field in schema["fields"]:
            assert field.get("description"), f"{resource['name']}.{field['name']} has no description"
            unit = field["name"].rsplit("_", 1)[-1]
            if unit in ("km", "s", "mach"):
                assert field["type"] == "number"


def test_foreign_keys_point_at_existing_resources_and_fields():
    package = descriptor()
    fields = {r["name"]: {f["name"] for f in r["schema"]["fields"]} for r in package["resources"]}
    for resource in package["resources"]:
        for key in resource["schema"].get("foreignKeys", []):
            assert set(key["fields"]) <= fields[resource["name"]]
            assert set(key["reference"]["fields"]) <= fields[key["reference"]["resource"]]


@needs_spec
def test_citation_cff_is_valid_and_matches_the_package():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    schema = official("citation-cff-1.2.0", "schema.json")
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(citation)
    assert citation["type"] == "dataset"
    package = descriptor()
    assert citation["version"] == package["version"]
    # the date of the release the package's version names (the log may have grown since: `created` is later)
    released = json.loads((ROOT / "schemas" / "released.json").read_text(encoding="utf-8"))
    assert released["version"] == package["version"] and str(citation["date-released"]) == released["date"]
    assert released["date"] <= package["created"][:10]
    assert citation["license"] == package["licenses"][0]["name"]


def test_readme_quickstart_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in commands:
        assert command in ci


def test_no_column_is_always_empty():
    import csv

    empty = []
    for path in sorted((ROOT / "data").glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        empty += [f"{path.stem}.{name}" for name in (rows[0] if rows else {}) if not any(row[name] for row in rows)]
    assert empty == []


CFFCONVERT = ROOT / ".venv-cff" / "bin" / "cffconvert"


@pytest.mark.skipif(not CFFCONVERT.exists(), reason="cffconvert is not installed: .ci/run installs it in .venv-cff "
                                                    "from requirements-cffconvert.txt")
def test_cffconvert_validates_citation_cff():
    done = subprocess.run([str(CFFCONVERT), "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True)
    assert done.returncode == 0 and "Citation metadata are valid" in done.stdout, done.stdout + done.stderr
