"""Public item sets: lm-eval's preprocessing, prompts and answer extraction, the seeded subsets,
their hashes, and clear errors for malformed files (no model runs here).

Expected strings are written out by hand from lm-eval 0.4's task definitions
(tasks/hellaswag/utils.py, tasks/mmlu/default/_default_template_yaml + mmlu_<subject>.yaml,
tasks/gsm8k/gsm8k.yaml)."""

from __future__ import annotations

import json

import pytest

from probes import registry
from probes.progress import Reporter
from probes.public_sets import (
    BenchmarkFileError,
    extract_flexible,
    extract_strict,
    gsm8k_exact,
    gsm8k_prompt,
    hellaswag_preprocess,
    load_public_set,
    mmlu_prompt,
    public_metrics,
    subset_indices,
)

pytestmark = pytest.mark.probes


def test_hellaswag_cleanup_is_lm_evals():
    assert hellaswag_preprocess("  Family Life: How to nap. [title] Lie down. [step] Close eyes.  ") == \
        "Family Life: How to nap.. Lie down. Close eyes."
    assert hellaswag_preprocess("Visit a site like [www.kiddio.org] to play.") == "Visit a site like to play."
    # One pass of replace("  ", " "): three spaces become two, as lm-eval leaves them.
    assert hellaswag_preprocess("a   b") == "a  b"


def test_mmlu_prompt_is_the_mmlu_template_with_its_subject_description():
    assert mmlu_prompt("high_school_us_history", "  Who?\n", ["x", "y", "z", "w"]) == (
        "The following are multiple choice questions (with answers) about high school us history.\n\n"
        "Who?\nA. x\nB. y\nC. z\nD. w\nAnswer:")


def test_gsm8k_prompt_joins_shots_with_blank_lines_and_ends_at_answer():
    shots = [{"question": "1+1?", "answer": "1+1=2\n#### 2"}, {"question": "2+2?", "answer": "#### 4"}]
    assert gsm8k_prompt(shots, "3+3?") == ("Question: 1+1?\nAnswer: 1+1=2\n#### 2\n\n"
                                           "Question: 2+2?\nAnswer: #### 4\n\nQuestion: 3+3?\nAnswer:")


@pytest.mark.parametrize(("output", "strict", "flexible"), [
    ("She pays 3 * $6 = $18.\n#### 18", "18", "18"),
    ("So the total is $1,234.50 dollars.", "[invalid]", "$1,234.50"),
    ("#### -7 and later 12", "-7", "12"),
    ("no digits here", "[invalid]", "[invalid]"),
    ("answer 5", "[invalid]", "5"),
])
def test_gsm8k_extractions_follow_the_strict_and_flexible_filters(output, strict, flexible):
    assert extract_strict(output) == strict
    assert extract_flexible(output) == flexible


def test_gsm8k_exact_match_normalises_both_sides_like_the_task():
    gold = "Janet sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n#### 1,018"
    assert gsm8k_exact("$1,018.", gold) == 1.0  # "," and "$" and a final "." are ignored
    assert gsm8k_exact("1018", gold) == 1.0
    assert gsm8k_exact("1017", gold) == 0.0
    assert gsm8k_exact("[invalid]", gold) == 0.0


def test_subsets_are_seeded_nested_in_file_order_and_sized():
    small, large = subset_indices(10_042, 200), subset_indices(10_042, 1000)
    assert len(small) == 200 and len(set(large)) == 1000
    assert set(small) <= set(large) and small == sorted(small)
    assert subset_indices(10_042, 200) == small  # same for every call (every model)
    assert small != list(range(200))  # spread over the file, not its head
    assert subset_indices(50, 80) == list(range(50))
    with pytest.raises(ValueError, match="at least 1"):
        subset_indices(50, 0)


def test_real_files_give_the_documented_item_counts(shared_data):
    bench = shared_data / "benchmarks"
    hs, mmlu, gsm = (load_public_set(n, bench) for n in ("hellaswag", "mmlu-redux", "gsm8k"))
    assert (len(hs.items), len(mmlu.items), len(gsm.items)) == (10_042, 5_700, 1_319)
    # gold counts from `awk 'NR%6==2' hellaswag_val_full.txt | sort | uniq -c`
    assert [sum(i["gold"] == g for i in hs.items) for g in range(4)] == [2515, 2485, 2584, 2458]
    assert hs.items[0]["context"] == "Roof shingle removal: A man is sitting on a roof. he"
    assert hs.items[0]["choices"][3] == "starts pulling up roofing on a roof."
    assert len({i["kind"] for i in mmlu.items}) == 57 and mmlu.items[0]["choices"] == ["A", "B", "C", "D"]
    assert gsm.items[0]["context"].startswith("Question: Natalia sold clips to 48 of her friends in April")
    assert gsm.items[0]["context"].count("Question: ") == 6 and gsm.items[0]["answer"].endswith("#### 18")
    subset = load_public_set("hellaswag", bench, limit=200)
    assert subset.name == "hellaswag[limit=200]" and len(subset.items) == 200
    assert len({hs.sha256, subset.sha256, load_public_set("hellaswag", bench, limit=201).sha256}) == 3
    assert load_public_set("hellaswag", bench, limit=200).sha256 == subset.sha256


def test_mmlu_redux_reports_accuracy_on_ok_items_case_insensitively():
    items = [{"id": "a", "error_type": "OK"}, {"id": "b", "error_type": "ok"}, {"id": "c", "error_type": "Wrong Groundtruth"}]
    rows = [{"id": "a", "acc": 1.0}, {"id": "b", "acc": 0.0}, {"id": "c", "acc": 1.0}]
    assert public_metrics("mmlu-redux[limit=3]", rows, items) == {"accuracy_ok": 0.5, "ok_items": 2}


def _write(folder, relative, content):
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


GOOD_HS = "Cats: A cat sits. it\n2\nsleeps.\nruns.\nmeows.\njumps.\n"


@pytest.mark.parametrize(("name", "relative", "content", "where", "message"), [
    ("hellaswag", "hellaswag/hellaswag_val_full.txt", GOOD_HS + "Dogs: A dog.\n1\n", ":8:", "6 per item"),
    ("hellaswag", "hellaswag/hellaswag_val_full.txt", GOOD_HS + "Dogs: A dog.\nfour\na\nb\nc\nd\n", ":8:", "not 0-3"),
    ("hellaswag", "hellaswag/hellaswag_val_full.txt", GOOD_HS.replace("runs.", " "), ":4:", "empty ending"),
    ("mmlu-redux", "mmlu_redux/mmlu_anatomy.csv",
     "question,choices,answer,error_type\nQ1,\"['a', 'b', 'c', 'd']\",1,OK\nQ2,\"['a', 'b'\",0,OK\n", ":3:",
     "not a list literal"),
    ("mmlu-redux", "mmlu_redux/mmlu_anatomy.csv",
     "question;choices;answer;error_type\nQ1;['a', 'b', 'c'];1;OK\n", ":2:", "4 strings"),
    ("mmlu-redux", "mmlu_redux/mmlu_anatomy.csv", b"question,choices,answer,error_type\nQ\xd5,x,1,OK\n", ":2:",
     "not UTF-8"),
    ("mmlu-redux", "mmlu_redux/mmlu_anatomy.csv", "question,choices,answer\nQ,x,1\n", ":1:", "header lacks"),
    ("gsm8k", "gsm8k/test.jsonl", '{"question": "q", "answer": "#### 1"}\n\n{"question": "q", "answer": "#', ":3:",
     "not JSON"),
    ("gsm8k", "gsm8k/test.jsonl", '{"question": "q", "answer": "1"}\n', ":1:", "lacks the final"),
])
def test_a_malformed_file_names_file_and_line(tmp_path, name, relative, content, where, message):
    _write(tmp_path, "gsm8k/train.jsonl", "".join(json.dumps({"question": f"t{k}", "answer": f"#### {k}"}) + "\n"
                                                  for k in range(5)))
    path = _write(tmp_path, relative, content)
    with pytest.raises(BenchmarkFileError) as caught:
        load_public_set(name, tmp_path)
    assert str(caught.value).startswith(f"{path}{where}") and message in str(caught.value)


def test_a_malformed_file_stops_the_probe_before_any_item_is_scored(tmp_path):
    _write(tmp_path, "hellaswag/hellaswag_val_full.txt", GOOD_HS + "garbage\n")
    probe = registry.get("benchmark")
    config = {**probe.default_config(), "item_set": "hellaswag", "limit": 1}
    context = registry.Context(spec="none", versions={}, benchmarks_dir=tmp_path)
    # loaded=None: were any item scored, this would fail with an AttributeError instead.
    with pytest.raises(BenchmarkFileError, match="hellaswag_val_full.txt:7: 7 lines"):
        probe.run(None, config, Reporter(None), context)


def test_a_missing_benchmarks_directory_or_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="no benchmarks directory .*OBSERVATORY_DATA_DIR"):
        load_public_set("gsm8k", None)
    with pytest.raises(BenchmarkFileError, match="train.jsonl: missing"):
        load_public_set("gsm8k", tmp_path)
    with pytest.raises(ValueError, match="limit must be a whole number"):
        load_public_set("gsm8k", tmp_path, limit="20")
