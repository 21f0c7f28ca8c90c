"""The release workbook: every table as a sheet of typed cells that convert back to the CSVs exactly."""
import csv
import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from conftest import ROOT
from dprk_timeline.export import to_xlsx


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "dprk-timeline.xlsx"
    to_xlsx(ROOT, path, ["About this workbook", "second line"], dt.datetime(2026, 12, 6))
    return load_workbook(path, read_only=True)


def as_csv_cell(value, kind: str) -> str:
    """A cell as the CSV writes it."""
    if value is None:
        return ""
    if kind == "date":
        assert isinstance(value, dt.datetime)  # a real date cell, not text
        return value.date().isoformat()
    if kind == "datetime":
        assert isinstance(value, dt.datetime)
        return value.isoformat() + "Z"
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("integer", "number"):
        assert isinstance(value, (int, float)) and not isinstance(value, bool)
        return value
    assert isinstance(value, str)
    return value


def test_every_sheet_converts_back_to_its_csv(workbook):
    package = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    assert workbook.sheetnames == ["README"] + [r["name"] for r in package["resources"]]
    for resource in package["resources"]:
        fields = resource["schema"]["fields"]
        sheet = list(workbook[resource["name"]].iter_rows(values_only=True))
        with open(ROOT / resource["path"], encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert [h.removesuffix(" (UTC)") for h in sheet[0]] == rows[0]
        assert len(sheet) == len(rows), resource["name"]
        for got, want in zip(sheet[1:], rows[1:]):
            for field, value, text in zip(fields, got, want):
                back = as_csv_cell(value, field["type"])
                if field["type"] in ("integer", "number") and text:
                    assert back == float(text), (resource["name"], field["name"], text)
                else:
                    assert back == text, (resource["name"], field["name"], text)


def test_accents_dates_and_texts_that_look_like_dates_stay_as_written(workbook):
    statements = list(workbook["statements"].iter_rows(values_only=True))
    roles = {row[statements[0].index("role")] for row in statements[1:]}
    assert "Spokesman for UN Secretary-General António Guterres" in roles
    parties = list(workbook["parties"].iter_rows(values_only=True))
    born = [row[parties[0].index("date_of_birth")] for row in parties[1:] if row[parties[0].index("date_of_birth")]]
    assert born and all(isinstance(value, str) for value in born)  # a date or a bare year, as text
    readme = [row[0] for row in workbook["README"].iter_rows(values_only=True)]
    assert readme == ["About this workbook", "second line"]
