"""Releases, on a copy of the checkout: the bump follows the Data Package versioning recipe, the
metadata follow the version, and dist/ is the same bytes every time."""
import json
import shutil
import subprocess

import pytest
import yaml

from conftest import NEXT, PYTHON, ROOT, changeset

IGNORED = shutil.ignore_patterns(".git", ".venv", "dist", "__pycache__", ".pytest_cache", "*.egg-info", ".build-*")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    copy = tmp_path_factory.mktemp("release") / "checkout"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    (copy / "schemas" / "released.json").unlink(missing_ok=True)
    done = release(copy, "9.0.0", "--date", DAY)
    assert done.returncode == 0, done.stdout + done.stderr
    return copy, done


DAY = "2026-12-06"  # the release's own date, after the newest changeset


def release(copy, version, *options):
    return subprocess.run([PYTHON, str(copy / "scripts" / "release.py"), version, *options], cwd=copy,
                          capture_output=True, text=True)


def test_a_release_sets_the_version_and_date_everywhere(released):
    copy, _ = released
    package = json.loads((copy / "datapackage.json").read_text())
    citation = yaml.safe_load((copy / "CITATION.cff").read_text())
    zenodo = json.loads((copy / ".zenodo.json").read_text())
    assert package["version"] == citation["version"] == zenodo["version"] == "9.0.0"
    assert str(citation["date-released"]) == zenodo["publication_date"] == DAY != package["created"][:10]
    changelog = (copy / "CHANGELOG.md").read_text()
    assert f"## [Unreleased]\n\n## [9.0.0] - {DAY}" in changelog
    assert "### Records" in changelog and "launches added: 177" in changelog
    assert json.loads((copy / "schemas" / "released.json").read_text())["version"] == "9.0.0"


def test_dist_is_reproducible_byte_for_byte(released):
    copy, _ = released
    sums = (copy / "dist" / "SHA256SUMS").read_text()
    assert {line.split()[1] for line in sums.splitlines()} == {
        "dprk-timeline-9.0.0.zip", "dprk-timeline-9.0.0.xlsx", "dprk-timeline-9.0.0.sqlite", "dprk-timeline-9.0.0.json",
        "dprk-timeline-9.0.0.datasette.json"}
    again = release(copy, "9.0.0")
    assert again.returncode == 0 and "rebuilt the files of 9.0.0" in again.stdout
    assert (copy / "dist" / "SHA256SUMS").read_text() == sums
    import zipfile
    names = zipfile.ZipFile(copy / "dist" / "dprk-timeline-9.0.0.zip").namelist()
    assert "dprk-timeline-9.0.0/data/launches.csv" in names and "dprk-timeline-9.0.0/CITATION.cff" in names
    assert not [n for n in names if "/tests/" in n or "__pycache__" in n or "/.github/" in n]


def test_the_zip_stands_alone_with_checksums_and_zenodo_credits_the_upstreams(released, tmp_path):
    import hashlib
    import zipfile
    copy, _ = released
    zipfile.ZipFile(copy / "dist" / "dprk-timeline-9.0.0.zip").extractall(tmp_path)
    unpacked = tmp_path / "dprk-timeline-9.0.0"
    for needed in ["events", "charts/launches-per-year.svg", "scripts/load.R", "dprk_timeline/load.py", "requirements.txt",
                   "CODEBOOK.md", "LICENSE-DATA.md", "schemas/tables/launches.json", "dprk-timeline-9.0.0.xlsx"]:
        assert (unpacked / needed).exists(), needed
    assert len(list((unpacked / "events").glob("*.json"))) == len(list((ROOT / "events").glob("*.json")))
    listed = dict(reversed(line.split("  ", 1)) for line in (unpacked / "SHA256SUMS").read_text().splitlines())
    files = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == files
    assert all(hashlib.sha256((unpacked / name).read_bytes()).hexdigest() == digest for name, digest in listed.items())
    zenodo = json.loads((copy / ".zenodo.json").read_text())
    assert "This file is generated" not in zenodo["description"]
    assert all(name in zenodo["description"] for name in ("Nonproliferation Studies", "United Nations", "OFAC"))
    assert {r["identifier"] for r in zenodo["related_identifiers"]} >= {"https://github.com/nagix/nk-missile-tests"}


def test_the_unpacked_zip_runs_the_readmes_pandas_and_r_examples(released, tmp_path):
    import zipfile
    copy, _ = released
    zipfile.ZipFile(copy / "dist" / "dprk-timeline-9.0.0.zip").extractall(tmp_path)
    unpacked = tmp_path / "dprk-timeline-9.0.0"
    readme = (unpacked / "README.md").read_text(encoding="utf-8")
    python = readme.split("```python\n", 1)[1].split("```", 1)[0]
    done = subprocess.run([PYTHON, "-c", python + "\nprint(len(launches), len(tables))"], cwd=unpacked,
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    launches = (ROOT / "data" / "launches.csv").read_text().count("\n") - 1
    resources = len(json.loads((unpacked / "datapackage.json").read_text())["resources"])
    assert done.returncode == 0 and done.stdout.split()[-2:] == [str(launches), str(resources)], done.stderr[-2000:]
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("R is not installed (.ci/run installs it): the R example was not run")
    r = readme.split("```r\n", 1)[1].split("```", 1)[0]
    done = subprocess.run([rscript, "-e", r], cwd=unpacked, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "2022-01-30-1" in done.stdout, done.stderr[-2000:]


def test_the_bump_must_match_the_changes(released):
    copy, _ = released
    assert "nothing changed since 9.0.0" in release(copy, "9.0.1").stderr
    # a correction only: PATCH
    fix = {"type": "correction", "target": "statement:2022-01-31-kr-moon-jae-in", "set": {"stance": "concern"},
           "reason": "Reclassified.", "source": "epoch-times-2022-01-31-hwasong-12"}
    (copy / "events" / "2026-11-22-fix.json").write_text(json.dumps(changeset(fix, recorded_at=NEXT)))
    assert subprocess.run([PYTHON, str(copy / "scripts" / "build.py")], cwd=copy, capture_output=True).returncode == 0
    wrong = release(copy, "9.1.0")
    assert wrong.returncode == 1 and "a PATCH release, 9.0.1, is required" in wrong.stderr
    # a tightened constraint: MAJOR
    schema_path = copy / "schemas" / "tables" / "launches.json"
    schema = json.loads(schema_path.read_text())
    next(f for f in schema["fields"] if f["name"] == "apogee_km")["constraints"]["maximum"] = 9000
    schema_path.write_text(json.dumps(schema))
    assert subprocess.run([PYTHON, str(copy / "scripts" / "build.py")], cwd=copy, capture_output=True).returncode == 0
    wrong = release(copy, "9.0.1")
    assert "a MAJOR release, 10.0.0, is required (launches.apogee_km: constraints tightened)" in wrong.stderr
