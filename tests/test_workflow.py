"""The pull request workflow: valid YAML, least privilege, the same check command as CI, a readable summary."""
import yaml

from conftest import ROOT, changeset
from dprk_timeline.cli import main


def test_workflow_is_valid_yaml_with_least_privilege_running_the_ci_check():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "check.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers
    steps = workflow["jobs"]["check"]["steps"]
    commands = " ".join(step.get("run", "") for step in steps)
    assert 'scripts/check.py --base "$BASE"' in commands
    assert "pip install -q -r requirements.txt -e ." in commands
    checkout = next(step for step in steps if step.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch must be there for the append-only check
    assert "scripts/check.py" in (ROOT / ".ci" / "run").read_text()


def test_failed_checks_are_listed_in_the_job_summary(founding, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    founding.add("2026-11-22-bad.json", changeset({"type": "statement", "statement_id": "x", "source": "nowhere",
                                                   "actor": "kr-gov", "date": "2022-01-30", "stance": "angry",
                                                   "summary": "A test."}))
    assert main(["check", "--root", str(founding.root)]) == 1
    text = summary.read_text()
    assert "| file | event | field | reason |" in text
    assert "| events/2026-11-22-bad.json | event 1 | /stance | 'angry' is not one of:" in text


def json_blocks(path):
    import json
    text = path.read_text(encoding="utf-8")
    return [json.loads(block.split("```", 1)[0]) for block in text.split("```json\n")[1:]]


def test_the_example_changesets_of_readme_and_contributing_are_valid(scratch):
    from conftest import NEXT
    from helpers import replayed
    examples = [example for path in (ROOT / "README.md", ROOT / "CONTRIBUTING.md") for example in json_blocks(path)]
    assert examples, "CONTRIBUTING.md shows an example changeset"
    for example in examples:
        example["recorded_at"] = NEXT
        scratch.add("2026-11-22-example.json", example)
        _, problems = replayed(scratch.root)
        assert problems == [], [str(p) for p in problems]
