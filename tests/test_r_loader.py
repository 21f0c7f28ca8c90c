"""The R loader (scripts/load.R), tested with testthat. .ci/run installs R, so CI runs these."""
import shutil
import subprocess

import pytest

from conftest import ROOT

RSCRIPT = shutil.which("Rscript")


@pytest.mark.skipif(RSCRIPT is None, reason="R is not installed (.ci/run installs r-base-core, r-cran-jsonlite, "
                                            "r-cran-readr and r-cran-testthat)")
def test_r_loader_passes_its_testthat_suite():
    done = subprocess.run([RSCRIPT, "-e", "testthat::test_dir('tests/testthat', stop_on_failure = TRUE)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "FAIL 0" in done.stdout


@pytest.mark.skipif(RSCRIPT is None, reason="R is not installed")
def test_the_readme_r_example_runs_as_written():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```r\n", 1)[1].split("```", 1)[0]
    done = subprocess.run([RSCRIPT, "-e", example], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2022-01-30-1" in done.stdout


def test_the_readme_pandas_example_runs_as_written():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    assert len(namespace["launches"]) == (ROOT / "data" / "launches.csv").read_text().count("\n") - 1
