"""The pull request workflow: valid YAML, least privilege, the same check command as CI, a readable summary."""
import os
import re
import subprocess

import yaml

from conftest import ROOT, changeset
from dprk_timeline.cli import main


def workflow_steps():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "check.yml").read_text())
    return workflow, workflow["jobs"]["check"]["steps"]


def test_workflow_runs_the_base_branchs_checker_on_the_pull_requests_files_with_least_privilege():
    workflow, steps = workflow_steps()
    assert workflow["permissions"] == {"contents": "read"}
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads the key `on` as True
    assert "pull_request_target" in triggers and "pull_request" not in triggers
    checkouts = [step for step in steps if step.get("uses", "").startswith("actions/checkout")]
    assert checkouts[0]["with"] == {"fetch-depth": 0, "persist-credentials": False}     # the checker: base branch
    assert checkouts[1]["with"]["path"] == "pr" and checkouts[1]["with"]["persist-credentials"] is False
    assert "pull_request.head.sha" in checkouts[1]["with"]["ref"]
    commands = " ".join(step.get("run", "") for step in steps)
    assert 'scripts/check.py --root pr --base "$BASE_SHA"' in commands   # the pull request's code is never run
    assert "pip install -q --require-hashes -r requirements.txt" in commands and "-e ." not in commands
    assert "${{" not in commands  # values from the event reach the shell through env, never pasted into it
    assert "scripts/check.py" in (ROOT / ".ci" / "run").read_text()


def test_actions_are_pinned_by_commit():
    _, steps = workflow_steps()
    pinned = [step["uses"] for step in steps if "uses" in step]
    assert pinned and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", uses) for uses in pinned), pinned


def refusal(tmp_path, changed):
    """Run the workflow's refusal step on a pull request (pr/) that changes these files."""
    [step] = [step for step in workflow_steps()[1] if step.get("name", "").startswith("Refuse")]
    pr = tmp_path / "pr"
    pr.mkdir(parents=True)
    git = lambda *args: subprocess.run(["git", "-C", str(pr), *args], check=True, capture_output=True, text=True)  # noqa: E731
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "base")
    base = git("rev-parse", "HEAD").stdout.strip()
    for name in changed:
        (pr / name).parent.mkdir(parents=True, exist_ok=True)
        (pr / name).write_text("x")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "head")
    return subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env={**os.environ, "BASE_SHA": base},
                          capture_output=True, text=True)


def test_a_pull_request_changing_events_and_the_checker_is_refused(tmp_path):
    done = refusal(tmp_path, ["events/2026-12-06-x.json", "data/launches.csv", "dprk_timeline/checks/schema.py"])
    assert done.returncode == 1 and "changes events/ and also: dprk_timeline/checks/schema.py" in done.stdout


def test_a_pull_request_of_events_and_their_outputs_goes_on_to_the_check(tmp_path):
    assert refusal(tmp_path, ["events/2026-12-06-x.json", "data/launches.csv", "CODEBOOK.md", "README.md"]).returncode == 0
    assert refusal(tmp_path / "code", ["dprk_timeline/cli.py"]).returncode == 0   # code alone: the maintainers review it


def test_failed_checks_are_listed_in_the_job_summary(founding, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    founding.add("2026-11-22-bad.json", changeset({"type": "statement", "statement_id": "x", "source": "nowhere",
                                                   "actor": "kr-gov", "date": "2022-01-30", "stance": "angry",
                                                   "summary": "A test."}))
    assert main(["check", "--root", str(founding.root)]) == 1
    text = summary.read_text()
    assert "| file | event | field | reason |" in text
    assert "| `events/2026-11-22-bad.json` | `event 1` | `/stance` | &#39;angry&#39; is not one of&#58;" in text


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
