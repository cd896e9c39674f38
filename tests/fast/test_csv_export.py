"""CSV export: formula neutralisation cell by cell, the comment header, and the row layout,
against hand-written expected text."""

from __future__ import annotations

import pytest

from observatory.exports.tables import neutralise, rows_to_csv


@pytest.mark.parametrize(("value", "expected"), [
    ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-12.5", "-12.5"),  # a negative number stays a number
    ("+7", "+7"),
    ("-inf", "-inf"),  # float() reads it: left as it is
    ("plain", "plain"),
    ("a=b", "a=b"),  # only a leading prefix is a formula
    ("", ""),
    (None, ""),
    (0, "0"),
    (-3, "-3"),
    (2.5, "2.5"),
])
def test_it_defuses_exactly_the_cells_a_spreadsheet_would_run(value, expected):
    assert neutralise(value) == expected


def test_it_writes_the_comments_then_the_header_then_one_line_per_row():
    rows = [{"model": "=evil()", "downloads": 5, "share": None}, {"model": "org/a", "downloads": -1, "share": 0.5}]
    text = rows_to_csv(rows, comments=["metric: downloads", "as of\n2025-01-01  (daily)"])
    assert text == ("# metric: downloads\n"
                    "# as of 2025-01-01 (daily)\n"
                    "model,downloads,share\n"
                    "'=evil(),5,\n"
                    "org/a,-1,0.5\n")


def test_it_neutralises_the_header_and_keeps_the_first_rows_column_order():
    rows = [{"=h": "x", "b": "y"}, {"b": "z", "=h": "w"}]
    assert rows_to_csv(rows) == "'=h,b\nx,y\nw,z\n"


def test_it_leaves_a_missing_key_empty():
    assert rows_to_csv([{"a": 1, "b": 2}, {"a": 3}]) == "a,b\n1,2\n3,\n"


def test_it_gives_only_the_comments_for_no_rows():
    assert rows_to_csv([], comments=["metric: x"]) == "# metric: x\n"
    assert rows_to_csv([]) == ""
    assert rows_to_csv([], comments=None) == ""


def test_it_quotes_a_cell_holding_the_separator():
    assert rows_to_csv([{"a": "x,y", "b": 'say "hi"'}]) == 'a,b\n"x,y","say ""hi"""\n'
