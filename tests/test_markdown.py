"""Text from the log quoted in CODEBOOK.md and the CI job summary shows as written, never as markup."""
import pytest
from markdown_it import MarkdownIt  # pinned in requirements.txt; renders as GitHub's tables do

from conftest import changeset
from dprk_timeline.cli import main
from dprk_timeline.render.markdown import code_span, plain

HOSTILE = ["</code><script>alert(1)</script>", "a ` b `` c", "`starts and ends`", "x | y", "![p](http://x/p.png)",
           "[link](javascript:alert(1))", "**bold** _it_ # h", "line\nbreak", " padded ", "=1+2"]


def rendered_cells(cell: str) -> str:
    html = MarkdownIt("commonmark").enable("table").render(f"| a | b |\n|---|---|\n| {cell} | end |\n")
    assert html.count("<td>") == 2, html   # still one cell: nothing split the row
    return html


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_literal_text_in_one_table_cell(text):
    for cell, wrapper in ((code_span(text), "code"), (plain(text), None)):
        html = rendered_cells(cell)
        for tag in ("<script", "<a ", "<img", "<strong", "<em", "<h1"):
            assert tag not in html, (cell, html)
        if wrapper:
            assert html.count("<code>") == 1


def test_failed_checks_quote_hostile_values_literally_in_the_job_summary(founding, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    founding.add("2026-11-22-bad.json", changeset({"type": "statement", "statement_id": "x", "source": "nowhere",
                                                   "actor": "kr-gov", "date": "2022-01-30",
                                                   "stance": "<img src=x onerror=alert(1)>|`", "summary": "A test."}))
    assert main(["check", "--root", str(founding.root)]) == 1
    rows = [line for line in summary.read_text().splitlines() if line.startswith("| `events/")]
    assert rows and all("<img" not in rendered_cells(row.strip("| ").split(" | ", 3)[3]) for row in rows)


def test_a_non_regular_file_in_events_is_refused_without_being_opened(founding, capsys):
    import os
    os.mkfifo(founding.root / "events" / "2026-11-22-pipe.json")  # reading it would block for ever
    assert main(["check", "--root", str(founding.root)]) == 1
    assert "events/2026-11-22-pipe.json: changeset: only changeset .json files belong in events/" in capsys.readouterr().err
