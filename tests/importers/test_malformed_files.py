"""A malformed file aborts its import with the file, row and column named, and changes nothing."""

import shutil

import pytest

from ingest.datasets import run_import
from ingest.importing import DataDirMissing, ImportFileError
from observatory.catalog.models import Run
from tests.importers.test_bootstrap_counts import _table_fingerprint

pytestmark = pytest.mark.django_db


def _daily(shared_data, tmp_path, transform):
    source = (shared_data / "downloads" / "download" / "Meta.csv").read_text(encoding="utf-8")
    path = tmp_path / "Meta.csv"
    path.write_bytes(transform(source))
    return path


def _lines(text):
    return text.splitlines(keepends=True)


def _replace_cell(text, row, column, value):
    lines = _lines(text)
    cells = lines[row - 1].rstrip("\n").split(",")
    cells[column] = value
    lines[row - 1] = ",".join(cells) + "\n"
    return "".join(lines)


CASES = {
    # name: (dataset, build(shared_data, tmp_path) -> path, expected fragments of the message)
    "empty file": ("daily_downloads", lambda d, t: _daily(d, t, lambda s: b""), ["Meta.csv", "empty file"]),
    "bad header (no model column)": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: s.replace("model,", "name,", 1).encode()),
        ["Meta.csv", "row 1", "column 'model'", "required column"]),
    "bad date in header": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: s.replace("2024-07-03 00:00:00", "2024-13-45", 1).encode()),
        ["Meta.csv", "row 1", "column '2024-13-45'", "not a date"]),
    "wrong type in a cell": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: _replace_cell(s, 3, 5, "lots").encode()),
        ["Meta.csv", "row 3", "not a number"]),
    "negative count": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: _replace_cell(s, 4, 2, "-5").encode()),
        ["Meta.csv", "row 4", "must be >= 0"]),
    "truncated line": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: ("".join(_lines(s)[:6]) + _lines(s)[6][:40]).encode()),
        ["Meta.csv", "row 7", "expected"]),
    "wrong encoding (UTF-16)": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: s.encode("utf-16")), ["Meta.csv", "not UTF-8"]),
    "wrong encoding (latin-1 bytes)": (
        "regions", lambda d, t: _write(t / "regions.csv", (d / "atom/metadata/organization_regions.csv")
                                       .read_text(encoding="utf-8").replace("01-ai", "01-\u00e4i").encode("latin-1")),
        ["regions.csv", "row 2", "not UTF-8"]),
    "binary garbage": ("regions", lambda d, t: _write(t / "regions.csv", b"\x00\x01\x02PK\x03\x04" * 50),
                       ["regions.csv", "row 1", "binary content"]),
    "unknown region": (
        "regions", lambda d, t: _write(t / "regions.csv", (d / "atom/metadata/organization_regions.csv")
                                       .read_text(encoding="utf-8").replace("01-ai,china", "01-ai,mars").encode()),
        ["regions.csv", "row 2", "column 'region'", "unknown region 'mars'"]),
    "hub id with path traversal": (
        "parameters", lambda d, t: _write(t / "p.csv", (d / "atom/metadata/model_parameters.csv").read_text(
            encoding="utf-8").replace("deepseek-ai/DeepSeek-R1,", "../../etc/passwd,", 1).encode()),
        ["p.csv", "row 2", "column 'model_id'", "not a Hub id"]),
    "bad date in corrections": (
        "release_corrections", lambda d, t: _write(t / "c.csv", (d / "atom/metadata/release_date_corrections.csv")
                                                   .read_text(encoding="utf-8").replace("2025-12-23", "23/12/2025")
                                                   .encode()),
        ["c.csv", "column 'actual_release_date'", "not a date"]),
    "YAML syntax error": ("policy", lambda d, t: _write(t / "policy.yml", b"global:\n  reject_name_patterns: [\n  - x\n:"),
                          ["policy.yml", "YAML syntax error"]),
    "YAML of the wrong shape": ("policy", lambda d, t: _write(t / "policy.yml", b"- just\n- a list\n"),
                                ["policy.yml", "must be a mapping"]),
    "YAML with a broken regex": (
        "policy", lambda d, t: _write(t / "policy.yml", b"global:\n  reject_name_patterns:\n    - '(unclosed'\n"),
        ["policy.yml", "bad pattern"]),
    "truncated Parquet": (
        "hubstats", lambda d, t: _write(t / "hub_stats_frozen_2026-06-05.parquet",
                                        next((d / "hub").glob("hub_stats_frozen_*.parquet")).read_bytes()[:200_000]),
        ["hub_stats_frozen_2026-06-05.parquet", "not a readable Parquet file"]),
    "Parquet missing columns": ("hubstats", lambda d, t: _parquet_without(d, t, "downloadsAllTime"),
                                ["missing columns", "downloadsAllTime"]),
    "Parquet row with a bad id": ("hubstats", lambda d, t: _parquet_with_bad_id(d, t),
                                  ["row 3", "id: not a Hub repo id"]),
    "leaderboard with a non-numeric score": (
        "leaderboards", lambda d, t: _leaderboards_with(d, t, "epoch/eci_scores.csv",
                                                        lambda s: s.replace("153.99290428017454", "high", 1)),
        ["eci_scores.csv", "row 2", "column 'eci'", "not a number"]),
}


def _write(path, data):
    path.write_bytes(data)
    return path


def _parquet_without(shared_data, tmp_path, column):
    import polars as pl

    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet")))
    path = tmp_path / "hub_stats_frozen_2026-06-05.parquet"
    frame.drop(column).write_parquet(path)
    return path


def _parquet_with_bad_id(shared_data, tmp_path):
    import polars as pl

    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet"))).head(10)
    ids = frame["id"].to_list()
    ids[2] = "../../evil id"
    path = tmp_path / "hub_stats_frozen_2026-06-05.parquet"
    frame.with_columns(pl.Series("id", ids)).write_parquet(path)
    return path


def _leaderboards_with(shared_data, tmp_path, relative, transform):
    root = tmp_path / "leaderboards"
    shutil.copytree(shared_data / "leaderboards", root)
    target = root / relative
    target.write_text(transform(target.read_text(encoding="utf-8")), encoding="utf-8")
    return root


@pytest.mark.parametrize("case", list(CASES))
def test_it_names_the_problem_and_leaves_the_database_as_it_was(case, loaded_db, tmp_path):
    dataset, build, fragments = CASES[case]
    path = build(loaded_db, tmp_path)
    before = _table_fingerprint()
    runs_before = Run.objects.count()
    with pytest.raises(ImportFileError) as raised:
        run_import(dataset, path=path)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"
    assert _table_fingerprint() == before
    failed = Run.objects.order_by("-id").first()
    assert Run.objects.count() == runs_before + 1
    assert failed.status == "failed" and str(path.name) in failed.error


def test_it_says_plainly_when_the_file_is_missing(db, tmp_path):
    with pytest.raises(DataDirMissing, match="not found"):
        run_import("regions", tmp_path)


def test_it_refuses_a_directory_where_a_file_belongs(db, tmp_path):
    (tmp_path / "regions.csv").mkdir()
    with pytest.raises(DataDirMissing, match="not a file"):
        run_import("regions", path=tmp_path / "regions.csv")
