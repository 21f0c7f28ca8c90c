"""Text from the log quoted in Markdown (CODEBOOK.md, the CI job summary), so that it shows as written.

A contributor's text can hold backticks, pipes, HTML or Markdown links; quoted with these it stays one table
cell of literal text and never becomes markup.
"""
from __future__ import annotations

import re

# every ASCII character that Markdown or HTML could read as markup, written as a numeric entity
_MARKUP = re.compile(r"[&<>\"'`*_\[\]()!#|~\\{}+\-.:=@$^]")


def code_span(text: str) -> str:
    """A code span in a table cell: its fence is longer than any run of backticks in the text (CommonMark),
    and its pipes are escaped (GitHub tables split on them first)."""
    text = " ".join(str(text).splitlines())
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    if text[:1] in ("`", " ") or text[-1:] in ("`", " "):
        text = f" {text} "
    return fence + text.replace("|", "\\|") + fence


def plain(text: str) -> str:
    """Literal text in a table cell, on one line."""
    return _MARKUP.sub(lambda m: f"&#{ord(m.group())};", " ".join(str(text).splitlines()))
