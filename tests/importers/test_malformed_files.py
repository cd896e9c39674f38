"""A malformed file aborts its import with the file, row and column named, and changes nothing.

Each case starts from a real shared file, damages it one way, and imports it over the fully
bootstrapped database: the error must say where the problem is, every table must hold exactly
the rows it held before (compared by a digest of whole rows), and the failure is recorded as a run.
"""

import shutil

import pytest

from ingest.datasets import run_import
from ingest.importing import DataDirMissing, ImportFileError
from observatory.catalog.models import Run
from tests.importers import table_contents

pytestmark = pytest.mark.django_db


def _write(path, data):
    path.write_bytes(data)
    return path


def _lines(text):
    return text.splitlines(keepends=True)


def _replace_cell(text, row, column, value):
    lines = _lines(text)
    cells = lines[row - 1].rstrip("\n").split(",")
    cells[column] = value
    lines[row - 1] = ",".join(cells) + "\n"
    return "".join(lines)


def _daily(shared_data, tmp_path, transform):
    source = (shared_data / "downloads" / "download" / "Meta.csv").read_text(encoding="utf-8")
    return _write(tmp_path / "Meta.csv", transform(source))


def _atom_file(shared_data, tmp_path, relative, name, transform):
    text = (shared_data / "atom" / relative).read_text(encoding="utf-8")
    return _write(tmp_path / name, transform(text))


def _atom_lists(shared_data, tmp_path, transform_extra):
    root = tmp_path / "atom"
    root.mkdir()
    shutil.copy(shared_data / "atom" / "models.csv", root / "models.csv")
    text = (shared_data / "atom" / "extra_models.csv").read_text(encoding="utf-8")
    (root / "extra_models.csv").write_text(transform_extra(text), encoding="utf-8")
    return root


def _leaderboards_with(shared_data, tmp_path, relative, transform, *, also=()):
    """A leaderboards folder holding only the damaged file's source (others are skipped unread)."""
    root = tmp_path / "leaderboards"
    for folder in (relative.split("/")[0], *also):
        shutil.copytree(shared_data / "leaderboards" / folder, root / folder)
    target = root / relative
    target.write_text(transform(target.read_text(encoding="utf-8")), encoding="utf-8")
    return root


def _finetune(shared_data, tmp_path, transform):
    root = tmp_path / "finetune"
    root.mkdir()
    text = (shared_data / "downloads" / "finetune" / "Meta.csv").read_text(encoding="utf-8")
    _write(root / "Meta.csv", transform(text).encode())
    return root


def _parquet(shared_data, tmp_path, change):
    import polars as pl

    frame = change(pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet"))))
    path = tmp_path / "hub_stats_frozen_2026-06-05.parquet"
    frame.write_parquet(path)
    return path


def _bad_id_at_row_3(frame):
    import polars as pl

    frame = frame.head(10)
    ids = frame["id"].to_list()
    ids[2] = "../../evil id"
    return frame.with_columns(pl.Series("id", ids))


REGIONS = "metadata/organization_regions.csv"
PARAMETERS = "metadata/model_parameters.csv"
CORRECTIONS = "metadata/release_date_corrections.csv"

CASES = {
    # name: (dataset, build(shared_data, tmp_path) -> path, fragments the message must contain)
    "empty file": ("daily_downloads", lambda d, t: _daily(d, t, lambda s: b""), ["Meta.csv", "row 1", "empty file"]),
    "whitespace-only file": ("regions", lambda d, t: _write(t / "regions.csv", b"  \n\n \n"),
                             ["regions.csv", "row 1", "empty file"]),
    "bad header (no model column)": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: s.replace("model,", "name,", 1).encode()),
        ["Meta.csv", "row 1", "column 'model'", "required column"]),
    "missing column": (
        "parameters", lambda d, t: _atom_file(d, t, PARAMETERS, "p.csv",
                                              lambda s: s.replace("total_params_b", "total", 1).encode()),
        ["p.csv", "row 1", "column 'total_params_b'", "required column"]),
    "bad date in header": (
        "daily_downloads",
        lambda d, t: _daily(d, t, lambda s: s.replace("2024-07-03 00:00:00", "2024-13-45", 1).encode()),
        ["Meta.csv", "row 1", "column '2024-13-45'", "not a date"]),
    "non-numeric downloads": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: _replace_cell(s, 3, 5, "lots").encode()),
        ["Meta.csv", "row 3", "column '2024-07-06 00:00:00'", "not a number"]),
    "fractional download count": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: _replace_cell(s, 3, 5, "12.5").encode()),
        ["Meta.csv", "row 3", "column '2024-07-06 00:00:00'", "not a whole count"]),
    "negative count": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: _replace_cell(s, 4, 2, "-5").encode()),
        ["Meta.csv", "row 4", "column '2024-07-03 00:00:00'", "must be >= 0"]),
    "duplicate row": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: (s + _lines(s)[2]).encode()),
        # The copy of row 3 is the file's last line.
        ["Meta.csv", "row 102", "column 'model'", "duplicate row", "first at Meta.csv row 3"]),
    "truncated line": (
        "daily_downloads",
        lambda d, t: _daily(d, t, lambda s: ("".join(_lines(s)[:6]) + _lines(s)[6][:40]).encode()),
        ["Meta.csv", "row 7", "expected 234 fields, found"]),
    "unterminated quote": (
        "tracked_lists", lambda d, t: _atom_lists(d, t, lambda s: s + 'acme,"Chat-7B,acme/Chat-7B\n'),
        ["extra_models.csv", "row 188", "malformed CSV"]),
    "wrong encoding (UTF-16)": (
        "daily_downloads", lambda d, t: _daily(d, t, lambda s: s.encode("utf-16")), ["Meta.csv", "row 1", "not UTF-8"]),
    "wrong encoding (latin-1 bytes)": (
        "regions", lambda d, t: _atom_file(d, t, REGIONS, "regions.csv",
                                           lambda s: s.replace("01-ai", "01-\u00e4i").encode("latin-1")),
        ["regions.csv", "row 2", "not UTF-8"]),
    "binary garbage": ("regions", lambda d, t: _write(t / "regions.csv", b"\x00\x01\x02PK\x03\x04" * 50),
                       ["regions.csv", "row 1", "binary content"]),
    "unknown region": (
        "regions", lambda d, t: _atom_file(d, t, REGIONS, "regions.csv",
                                           lambda s: s.replace("01-ai,china", "01-ai,mars").encode()),
        ["regions.csv", "row 2", "column 'region'", "unknown region 'mars'"]),
    "hub id with path traversal": (
        "parameters", lambda d, t: _atom_file(d, t, PARAMETERS, "p.csv", lambda s: s.replace(
            "deepseek-ai/DeepSeek-R1,", "../../etc/passwd,", 1).encode()),
        ["p.csv", "row 2", "column 'model_id'", "not a Hub id"]),
    "not a Hub id in a tracked list": (
        "tracked_lists", lambda d, t: _atom_lists(d, t, lambda s: s + "acme,Chat 7B,acme Chat 7B\n"),
        ["extra_models.csv", "row 188", "column 'modelId'", "not a Hub id"]),
    "bad date in corrections (after the # comments)": (
        "release_corrections", lambda d, t: _atom_file(d, t, CORRECTIONS, "c.csv",
                                                       lambda s: s.replace("2025-12-23", "23/12/2025").encode()),
        ["c.csv", "row 5", "column 'actual_release_date'", "not a date"]),
    "non-numeric fine-tune count": (
        "finetune_counts", lambda d, t: _finetune(d, t, lambda s: _replace_cell(s, 2, 3, "many")),
        ["Meta.csv", "row 2", "column '2-month'", "not a number"]),
    "YAML syntax error": ("policy", lambda d, t: _write(t / "policy.yml", b"global:\n  reject_name_patterns: [\n  - x\n:"),
                          ["policy.yml", "row 3", "YAML syntax error"]),
    "YAML of the wrong shape": ("policy", lambda d, t: _write(t / "policy.yml", b"- just\n- a list\n"),
                                ["policy.yml", "column '(document)'", "must be a mapping"]),
    "YAML with a string where a list belongs": (
        "policy", lambda d, t: _write(t / "policy.yml", b"global:\n  reject_name_patterns: gguf\n"),
        ["policy.yml", "column 'global.reject_name_patterns'", "must be a list"]),
    "YAML with a broken regex": (
        "policy", lambda d, t: _write(t / "policy.yml", b"global:\n  reject_name_patterns:\n    - '(unclosed'\n"),
        ["policy.yml", "column 'global.reject_name_patterns'", "bad pattern"]),
    "empty YAML": ("policy", lambda d, t: _write(t / "policy.yml", b""), ["policy.yml", "row 1", "empty file"]),
    "bad JSON": (
        "leaderboards", lambda d, t: _leaderboards_with(d, t, "epoch/data.json", lambda s: s[:5000]),
        ["data.json", "row 163", "not valid JSON"]),
    "JSON of the wrong shape": (
        "leaderboards", lambda d, t: _leaderboards_with(
            d, t, "lmarena_2023/max_elo_by_category_2024-06-29_to_2025-05-11.json", lambda s: '{"rows": []}',
            also=["lmarena"]),
        ["max_elo_by_category_2024-06-29_to_2025-05-11.json", "expected a list of records"]),
    "JSON with a non-numeric score": (
        "leaderboards", lambda d, t: _leaderboards_with(
            d, t, "epoch/data.json", lambda s: s.replace('"score": 35.73', '"score": "high"', 1)),
        ["data.json", "column 'benchmarks.gpqa_diamond.models[0].score'", "not a number"]),
    "leaderboard with a non-numeric score": (
        "leaderboards", lambda d, t: _leaderboards_with(d, t, "epoch/eci_scores.csv",
                                                        lambda s: s.replace("153.99290428017454", "high", 1)),
        ["eci_scores.csv", "row 2", "column 'eci'", "not a number"]),
    "leaderboard score for an unknown model": (
        "leaderboards", lambda d, t: _leaderboards_with(d, t, "llm_stats/model_benchmark_scores.csv",
                                                        lambda s: s.replace(",jamba-1.5-large,", ",ghost-model,", 1)),
        ["model_benchmark_scores.csv", "row 2", "column 'model_id'", "unknown model_id 'ghost-model'"]),
    "truncated Parquet": (
        "hubstats", lambda d, t: _write(t / "hub_stats_frozen_2026-06-05.parquet",
                                        next((d / "hub").glob("hub_stats_frozen_*.parquet")).read_bytes()[:200_000]),
        ["hub_stats_frozen_2026-06-05.parquet", "Parquet"]),
    "Parquet missing a column": ("hubstats", lambda d, t: _parquet(d, t, lambda f: f.drop("downloadsAllTime")),
                                 ["hub_stats_frozen_2026-06-05.parquet", "downloadsAllTime"]),
    "Parquet row with a bad id": ("hubstats", lambda d, t: _parquet(d, t, _bad_id_at_row_3),
                                  ["hub_stats_frozen_2026-06-05.parquet", "row 3", "id"]),
}


@pytest.fixture(scope="module")
def digest_before(loaded_db, django_db_blocker):
    with django_db_blocker.unblock():
        return table_contents.exact_rows()


@pytest.mark.parametrize("case", list(CASES))
def test_it_names_the_problem_and_leaves_the_database_as_it_was(case, loaded_db, digest_before, tmp_path):
    dataset, build, fragments = CASES[case]
    path = build(loaded_db, tmp_path)
    runs_before = Run.objects.count()
    with pytest.raises(ImportFileError) as raised:
        run_import(dataset, path=path)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"
    assert table_contents.exact_rows() == digest_before
    failed = Run.objects.order_by("-id").first()
    assert Run.objects.count() == runs_before + 1
    assert failed.status == "failed" and message in failed.error


def test_there_are_at_least_twelve_malformed_variants():
    assert len(CASES) >= 12


def test_it_says_plainly_when_the_file_is_missing(db, tmp_path):
    with pytest.raises(DataDirMissing, match="not found"):
        run_import("regions", tmp_path)


def test_it_refuses_a_directory_where_a_file_belongs(db, tmp_path):
    (tmp_path / "regions.csv").mkdir()
    with pytest.raises(DataDirMissing, match="regions.csv: not a file"):
        run_import("regions", path=tmp_path / "regions.csv")
