"""Data integrity against the founding reports: quotes are verbatim, summaries are our own words."""
import re

import pytest

from conftest import ROOT, SHARED
from dprk_timeline.load import load

SOURCES = SHARED / "sources"
pytestmark = pytest.mark.skipif(not SOURCES.is_dir(), reason="../shared/sources (the founding reports) is not beside the checkout")


def text_of(source_id):
    path = SOURCES / f"{source_id}.txt"
    return path.read_text(encoding="utf-8").split("---", 1)[1] if path.exists() else None


def normalised(text):
    return re.sub(r"\s+", " ", text)


def quoted_cells():
    """(table, row key, source ID, quoted text) for every verbatim cell."""
    for table, key, columns in (("statements", "statement_id", ["quote"]), ("claims", "claim_id", ["original_text"]),
                                ("context", "context_id", ["original"])):
        frame = load(table, ROOT)
        for _, row in frame.iterrows():
            for column in columns:
                if row[column] is not None and str(row[column]) != "<NA>":
                    yield table, row[key], row["source_id"], str(row[column])


def test_every_quote_appears_verbatim_in_its_source():
    checked = 0
    for table, key, source_id, quote in quoted_cells():
        text = text_of(source_id)
        if text is None:
            continue
        assert normalised(quote) in normalised(text), f"{table} {key}: {quote!r} is not in {source_id}"
        checked += 1
    assert checked >= 30


def test_summaries_are_not_copied_from_the_source():
    """No summary shares a run of eight words with the report it summarises."""
    for table, key in (("statements", "statement_id"), ("sanctions", "action_id"), ("context", "context_id")):
        for _, row in load(table, ROOT).iterrows():
            text = text_of(row["source_id"])
            if text is None:
                continue
            words = re.findall(r"\w+", normalised(text).lower())
            runs = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
            summary = re.findall(r"\w+", str(row["summary"]).lower())
            copied = [" ".join(summary[i:i + 8]) for i in range(len(summary) - 7) if " ".join(summary[i:i + 8]) in runs]
            assert not copied, f"{table} {row[key]}: summary copies {copied[0]!r}"


def test_every_news_source_without_an_address_is_a_founding_report_we_hold():
    sources = load("sources", ROOT)
    for source_id in sources.loc[sources["url"].isna() & (sources["kind"] == "news_article"), "source_id"]:
        assert (SOURCES / f"{source_id}.txt").exists(), source_id
