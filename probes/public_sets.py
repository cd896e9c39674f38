"""Public benchmark item sets (HellaSwag, MMLU-Redux, GSM8K), read from the data directory's
`benchmarks/` folder and prepared the way lm-evaluation-harness (0.4.x) prepares them.

- `hellaswag`: lm-eval's `hellaswag` task (tasks/hellaswag/utils.py): the query is
  `preprocess(activity_label + ": " + ctx)`, the choices `preprocess(ending)`, where preprocess
  strips, turns " [title]" into ". ", drops every `[...]` and folds double spaces. The file keeps
  `ctx` whole (llama.cpp's layout), so lm-eval's capitalisation of `ctx_b` cannot be redone: the
  context is scored as the file writes it (the bench hands lm-eval the same split, ctx_b empty).
- `mmlu-redux`: lm-eval's `mmlu` template (tasks/mmlu/default/_default_template_yaml), zero-shot:
  "The following are multiple choice questions (with answers) about {subject}.\\n\\n" then
  "{question.strip()}\\nA. ..\\nB. ..\\nC. ..\\nD. ..\\nAnswer:", scored over " A".." D".
- `gsm8k`: lm-eval's `gsm8k` task (tasks/gsm8k/gsm8k.yaml): five shots "Question: q\\nAnswer: a"
  joined by blank lines, fixed to the train file's first five (lm-eval's `first_n` sampler),
  greedy, at most 256 new tokens, cut at "Question:"; its strict (`#### n`) and flexible (last
  number) regex filters and its exact_match normalisation.

A subset (`limit=N`) is the first N of one fixed permutation (random.Random(SUBSET_SEED) over the
file order), so it is the same for every model and a smaller subset lies inside a larger one.
The hash covers the prepared items (prompts, choices, golds) and the set's version, so a change
of preprocessing changes it. A malformed file raises BenchmarkFileError naming file and line
before anything is scored.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import random
import re
from pathlib import Path

from probes.itemsets import ItemSet

VERSIONS = {"hellaswag": 1, "mmlu-redux": 1, "gsm8k": 1}
NAMES = tuple(VERSIONS)
TITLES = {"hellaswag": "HellaSwag", "mmlu-redux": "MMLU-Redux", "gsm8k": "GSM8K"}
# The one score of each set that a single-number view (the gap's `source=probe`) draws: the figure
# papers and model cards lead with (HellaSwag's length-normalised acc, as the Open LLM Leaderboard
# and the Llama and SmolLM reports give it; MMLU's acc; GSM8K's strict exact match), with its name.
HEADLINE = {"hellaswag": ("accuracy_norm", "acc_norm"), "mmlu-redux": ("accuracy", "acc"),
            "gsm8k": ("exact_match_strict", "exact match, strict")}
SUBSET_SEED = 20261201
GSM8K_SHOTS = 5
GSM8K_MAX_NEW_TOKENS = 256  # lm-eval HFLM's max_gen_toks default
GSM8K_UNTIL = ["Question:", "</s>", "<|im_end|>"]
# The one file of MMLU-Redux @ 4563cfa that is not UTF-8: a single 0xD5 (Mac Roman's "’").
LEGACY_ENCODINGS = {"mmlu_moral_scenarios.csv": "mac_roman"}


class BenchmarkFileError(ValueError):
    def __init__(self, path: Path, line: int | None, message: str):
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


# --- lm-eval's preprocessing, re-implemented -----------------------------------------------------

def hellaswag_preprocess(text: str) -> str:
    """lm_eval/tasks/hellaswag/utils.py `preprocess`."""
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


def mmlu_prompt(subject: str, question: str, choices: list[str]) -> str:
    """The mmlu task's description + doc_to_text, zero-shot."""
    lines = [question.strip(), *(f"{letter}. {choice}" for letter, choice in zip("ABCD", choices)), "Answer:"]
    return f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.\n\n" \
           + "\n".join(lines)


def gsm8k_prompt(shots: list[dict], question: str) -> str:
    """doc_to_text "Question: {{question}}\\nAnswer:", target_delimiter " ", fewshot_delimiter "\\n\\n"."""
    return "".join(f"Question: {s['question']}\nAnswer: {s['answer']}\n\n" for s in shots) + \
        f"Question: {question}\nAnswer:"


STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
IGNORE = (",", "\\$", "(?s).*#### ", "\\.$")  # gsm8k.yaml's regexes_to_ignore, in order


def extract_strict(text: str) -> str:
    """The `strict-match` filter: first `#### n`, else "[invalid]"."""
    found = STRICT.findall(text)
    return found[0].strip() if found else "[invalid]"


def extract_flexible(text: str) -> str:
    """The `flexible-extract` filter: the last number-like match (group_select -1)."""
    found = FLEXIBLE.findall(text)
    if not found:
        return "[invalid]"
    groups = [g for g in found[-1] if g]
    return groups[0].strip() if groups else "[invalid]"


def gsm8k_normalise(text: str) -> str:
    """exact_match's normalisation with ignore_case and the task's regexes_to_ignore."""
    for pattern in IGNORE:
        text = re.sub(pattern, "", text)
    return text.lower()


def gsm8k_exact(extracted: str, answer: str) -> float:
    return float(gsm8k_normalise(extracted) == gsm8k_normalise(answer))


def cut_at_stops(text: str, until: list[str]) -> str:
    """generate_until's stop sequences: keep the text before the first one."""
    for stop in until:
        if stop:
            text = text.split(stop)[0]
    return text


# --- file readers ------------------------------------------------------------------------------

def _need(path: Path) -> Path:
    if not path.is_file():
        raise BenchmarkFileError(path, None, "missing (the data directory's benchmarks/ folder must hold it)")
    return path


def read_hellaswag(folder: Path) -> list[dict]:
    path = _need(folder / "hellaswag" / "hellaswag_val_full.txt")
    lines = path.read_text(encoding="utf-8", errors="strict").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % 6:
        raise BenchmarkFileError(path, len(lines), f"{len(lines)} lines; expected 6 per item (context, gold, 4 endings)")
    items = []
    for start in range(0, len(lines), 6):
        context, gold, *endings = lines[start:start + 6]
        if ": " not in context:
            raise BenchmarkFileError(path, start + 1, "context line lacks 'activity_label: '")
        if gold.strip() not in {"0", "1", "2", "3"}:
            raise BenchmarkFileError(path, start + 2, f"gold index {gold[:20]!r} is not 0-3")
        for k, ending in enumerate(endings):
            if not ending.strip():
                raise BenchmarkFileError(path, start + 3 + k, "empty ending")
        label, ctx = context.split(": ", 1)
        items.append({"id": f"hellaswag-{start // 6:05d}", "kind": "hellaswag", "format": "mc",
                      "activity_label": label, "ctx": ctx, "endings": endings,
                      "context": hellaswag_preprocess(f"{label}: {ctx}"),
                      "choices": [hellaswag_preprocess(e) for e in endings], "gold": int(gold), "answer": ""})
    return items


def _mmlu_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode(LEGACY_ENCODINGS.get(path.name, "utf-8"))
    except UnicodeDecodeError as exc:
        raise BenchmarkFileError(path, raw[:exc.start].count(b"\n") + 1, f"not UTF-8 ({exc.reason})") from exc


def read_mmlu_redux(folder: Path) -> list[dict]:
    files = sorted((folder / "mmlu_redux").glob("mmlu_*.csv"))
    if not files:
        raise BenchmarkFileError(folder / "mmlu_redux", None, "no mmlu_*.csv files")
    items = []
    for path in files:
        subject = path.stem.removeprefix("mmlu_")
        text = _mmlu_text(path)
        # The upstream files differ: most are comma-separated, some `;`; column order varies.
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if text.startswith("question;") else ",")
        missing = {"question", "choices", "answer", "error_type"} - set(reader.fieldnames or [])
        if missing:
            raise BenchmarkFileError(path, 1, f"header lacks {sorted(missing)}")
        for n, row in enumerate(reader):
            line = reader.line_num
            try:
                choices = ast.literal_eval(row["choices"] or "")
            except (ValueError, SyntaxError) as exc:
                raise BenchmarkFileError(path, line, f"choices is not a list literal ({exc.__class__.__name__})") from exc
            if not (isinstance(choices, list) and len(choices) == 4 and all(isinstance(c, str) for c in choices)):
                raise BenchmarkFileError(path, line, "choices must be a list of 4 strings")
            if (row["answer"] or "").strip() not in {"0", "1", "2", "3"}:
                raise BenchmarkFileError(path, line, f"answer {str(row['answer'])[:20]!r} is not 0-3")
            if not (row["question"] or "").strip():
                raise BenchmarkFileError(path, line, "empty question")
            items.append({"id": f"mmlu-{subject}-{n:03d}", "kind": subject, "format": "mc",
                          "question": row["question"], "subject_choices": choices,
                          "context": mmlu_prompt(subject, row["question"], choices), "choices": ["A", "B", "C", "D"],
                          "gold": int(row["answer"]), "answer": "",
                          "error_type": (row["error_type"] or "").strip()})
    return items


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for line_no, line in enumerate(_need(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchmarkFileError(path, line_no, f"not JSON ({exc.msg})") from exc
        if not (isinstance(row, dict) and isinstance(row.get("question"), str) and isinstance(row.get("answer"), str)):
            raise BenchmarkFileError(path, line_no, "needs string fields 'question' and 'answer'")
        if "#### " not in row["answer"]:
            raise BenchmarkFileError(path, line_no, "answer lacks the final '#### <number>'")
        rows.append(row)
    return rows


def read_gsm8k(folder: Path) -> list[dict]:
    shots = _jsonl(folder / "gsm8k" / "train.jsonl")[:GSM8K_SHOTS]
    if len(shots) < GSM8K_SHOTS:
        raise BenchmarkFileError(folder / "gsm8k" / "train.jsonl", None, f"fewer than {GSM8K_SHOTS} examples")
    return [{"id": f"gsm8k-{n:04d}", "kind": "gsm8k", "format": "gen", "question": row["question"],
             "context": gsm8k_prompt(shots, row["question"]), "choices": [], "gold": -1, "answer": row["answer"],
             "until": GSM8K_UNTIL, "max_new_tokens": GSM8K_MAX_NEW_TOKENS, "scoring": "gsm8k"}
            for n, row in enumerate(_jsonl(folder / "gsm8k" / "test.jsonl"))]


READERS = {"hellaswag": read_hellaswag, "mmlu-redux": read_mmlu_redux, "gsm8k": read_gsm8k}


def subset_indices(n_items: int, limit: int | None) -> list[int]:
    """The first `limit` of a fixed permutation, back in file order (nested: 200 ⊂ 1000)."""
    if limit is None or limit >= n_items:
        return list(range(n_items))
    if limit < 1:
        raise ValueError(f"limit must be at least 1 (got {limit})")
    order = list(range(n_items))
    random.Random(SUBSET_SEED).shuffle(order)
    return sorted(order[:limit])


def items_hash(name: str, items: list[dict]) -> str:
    canonical = json.dumps({"item_set": name, "version": VERSIONS[name],
                            "items": [[i["id"], i["context"], i["choices"], i["gold"], i["answer"]] for i in items]},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_label(label: str) -> tuple[str, int | None] | None:
    """(set, limit) of an item-set label as load_public_set writes it ("hellaswag[limit=1000]" ->
    ("hellaswag", 1000), "gsm8k" -> ("gsm8k", None)); None for anything else (the project's own sets)."""
    match = re.fullmatch(r"([a-z0-9-]+)(?:\[limit=([1-9][0-9]*)\])?", label or "")
    if not match or match.group(1) not in VERSIONS:
        return None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def load_public_set(name: str, benchmarks_dir: str | Path | None, *, limit: int | None = None) -> ItemSet:
    if name not in READERS:
        raise ValueError(f"unknown public item set {name!r}; expected one of {', '.join(NAMES)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ValueError(f"limit must be a whole number or null (got {limit!r})")
    if not benchmarks_dir or not Path(benchmarks_dir).is_dir():
        raise ValueError(f"no benchmarks directory ({benchmarks_dir or 'not set'}): set OBSERVATORY_DATA_DIR "
                         "(its benchmarks/ folder) or OBSERVATORY_BENCHMARKS_DIR")
    items = READERS[name](Path(benchmarks_dir))
    picked = [items[i] for i in subset_indices(len(items), limit)]
    label = name if len(picked) == len(items) else f"{name}[limit={limit}]"
    return ItemSet(name=label, items=picked, sha256=items_hash(name, picked))


def public_metrics(name: str, per_item: list[dict], items: list[dict]) -> dict:
    """The set's own metrics beside the probe's accuracy/accuracy_norm/exact_match."""
    def mean(values):
        return round(sum(values) / len(values), 6) if values else None

    if name.startswith("mmlu-redux"):
        by_id = {i["id"]: i for i in items}
        ok = [r["acc"] for r in per_item if by_id[r["id"]]["error_type"].upper() == "OK"]
        return {"accuracy_ok": mean(ok), "ok_items": len(ok)}
    if name.startswith("gsm8k"):
        return {"exact_match_strict": mean([r["exact_match_strict"] for r in per_item]),
                "exact_match_flexible": mean([r["exact_match_flexible"] for r in per_item])}
    return {}
