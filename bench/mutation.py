"""Mutation testing of the metrics, licences, lineage, tokens and exports against the fast tier.

`make mutation` (or `python bench/mutation.py [--module PATH ...]`) runs mutmut 3 on one module at
a time, each in a fresh scratch directory under var/mutation/ holding the tree of the current commit
(HEAD: commit first; uncommitted edits are not measured), where mutmut copies the packages into its
own `mutants/` folder and runs `pytest tests/fast` against each mutant, one child process at
a time). It then writes each module's figures into bench/results/mutation.json, keeping the entries
of modules not run this time:

    killed, survived, timeout, no_tests (a mutated function no fast test calls), other (suspicious,
    segfault), equivalent (survivors judged equivalent below, each checked against its mutated
    line), score = killed / (total - equivalent), and every survivor's changed line.

Why a scratch directory per module: mutmut reads its settings from the pyproject.toml of the folder
it runs in, and a fresh folder means every figure comes from a run of the current code and tests,
never from results cached against older ones.

Not part of CI: a module takes minutes on one core.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import difflib
import importlib.metadata
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "mutation.json"
SCRATCH = ROOT / "var" / "mutation"
FAST_TESTS = "tests/fast"
GOAL = 0.85

# In the order they are run: the metrics first, the licence and lineage rules last.
MODULES = [
    "observatory/analytics/filters.py",
    "observatory/analytics/shares.py",
    "observatory/analytics/gains.py",
    "observatory/analytics/releases.py",
    "observatory/analytics/adoption.py",
    "observatory/analytics/derivatives.py",
    "observatory/analytics/finetunes.py",
    "observatory/analytics/gap.py",
    "observatory/analytics/quality.py",
    "observatory/analytics/frames.py",
    "observatory/analytics/rollups.py",
    "observatory/analytics/arrow_pool.py",
    "observatory/labs/tokens.py",
    "observatory/exports/tables.py",
    "observatory/exports/images.py",
    "observatory/vocab.py",
    "observatory/analytics/licences.py",
    "ingest/licences.py",
    "ingest/lineage.py",
]

sys.path.insert(0, str(ROOT))  # run as a script: the repository root, for bench.*
from bench.mutation_equivalents import _SQL_CASE, EQUIVALENT, SQL_MODULES  # noqa: E402  (judged equivalent, with why)


def _status_by_exit_code():
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code


def _scratch_pyproject(module: str, path: Path) -> str:
    """The commit's pyproject (pytest's settings) with a [tool.mutmut] table for one module."""
    text = path.read_text()
    if "mutmut" in tomllib.loads(text).get("tool", {}):
        raise SystemExit("pyproject.toml has its own [tool.mutmut]; bench/mutation.py writes that table itself")
    table = {
        "source_paths": ["observatory/", "ingest/"],
        "only_mutate": [module],
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-x"],
        "pytest_add_cli_args_test_selection": [FAST_TESTS],
        "use_setproctitle": False,
        # polars' thread pool does not survive a fork once it has run a query (the child hangs):
        # mutants are forked from a server that has only collected the tests (imported modules and
        # built small frames), never from the process that ran them.
        "process_isolation": "forkserver",
        # pytest-django puts the folder of the first manage.py it finds above the tests on sys.path:
        # it must be the copy in mutants/, or the tests would import the unmutated checkout.
        "also_copy": ["manage.py"],
    }
    lines = ["", "[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return text + "\n".join(lines) + "\n"


COPIED = ("observatory", "ingest", "tests", "manage.py", "pyproject.toml")


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def _prepare(module: str, commit: str) -> Path:
    """A scratch folder holding the committed tree at `commit`: the working tree is shared with
    edits in progress, and a figure must belong to code and tests someone can check out."""
    work = SCRATCH / module.replace("/", ".").removesuffix(".py")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit, *COPIED], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    if not (work / module).is_file():
        raise SystemExit(f"{module} is not in commit {commit}")
    (work / "pyproject.toml").write_text(_scratch_pyproject(module, work / "pyproject.toml"))
    return work


def _functions(source: str) -> dict[str, ast.AST]:
    """Functions and methods of mutmut's mutated file, by name (originals and mutants)."""
    return {node.name: node for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


SQL_WORDS = ("select ", " from ", "join ", " where ", " and ", " in (", "is not null", "coalesce(", "group by",
             "max(", "julianday(", " - q.previous", " or ")


def _sql_case_only(lines: list[str], functions: dict[str, ast.AST], mutant: str) -> bool:
    """True when the mutant differs from the original only in the letter case of a SQL string."""
    local = mutant.rsplit(".", 1)[-1]
    original = local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"
    if local not in functions or original not in functions:
        return False

    def text(name):
        node = functions[name]
        return "\n".join(lines[node.body[0].lineno - 1:node.end_lineno])

    before, after = text(original), text(local)
    if before == after or before.lower() != after.lower():
        return False
    changed = [a for a, b in zip(after.splitlines(), before.splitlines()) if a != b]
    return bool(changed) and all(any(w in line.lower() for w in SQL_WORDS) for line in changed)


def _changed_line(lines: list[str], functions: dict[str, ast.AST], mutant: str) -> str:
    """The mutant's lines that differ from the original function's, as one short text."""
    local = mutant.rsplit(".", 1)[-1]
    original = local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"
    if local not in functions or original not in functions:
        return "?"

    def body(name):
        # The whole definition, signature included (a default can be mutated), under one name.
        node = functions[name]
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        return [line.strip().replace(name, "f") for line in lines[start - 1:node.end_lineno]]

    diff = [d[1:].strip() for d in difflib.unified_diff(body(original), body(local), lineterm="", n=0)
            if d.startswith("+") and not d.startswith("+++")]
    return " | ".join(diff)[:300] or "(no line changed: a removed line)"


def _collect(module: str, work: Path) -> dict:
    mutated = work / "mutants" / module
    meta = json.loads(Path(str(mutated) + ".meta").read_text())
    status = _status_by_exit_code()
    lines = mutated.read_text().splitlines()
    functions = _functions("\n".join(lines))
    counts = {"killed": 0, "survived": 0, "timeout": 0, "no_tests": 0, "other": 0}
    # (A timeout is a mutant whose tests hung until mutmut's limit: detected, but not counted as killed here.)
    survivors, equivalent, unmatched = [], [], []
    judged = {entry["mutant"]: entry for entry in EQUIVALENT.get(module, [])}
    for name, code in sorted(meta["exit_code_by_key"].items()):
        state = status[code]
        if state in ("killed", "caught by type check"):
            counts["killed"] += 1
            continue
        change = _changed_line(lines, functions, name)
        if state == "survived":
            entry = judged.get(name)
            if entry and entry["contains"] in change:
                equivalent.append({"mutant": name, "change": change, "why": entry["why"]})
                continue
            if module in SQL_MODULES and _sql_case_only(lines, functions, name):
                equivalent.append({"mutant": name, "change": change, "why": _SQL_CASE})
                continue
            if entry:
                unmatched.append(name)
            counts["survived"] += 1
        elif state == "timeout":
            counts["timeout"] += 1
        elif state == "no tests":
            counts["no_tests"] += 1
        else:
            counts["other"] += 1
        survivors.append({"mutant": name, "status": state, "change": change})
    total = sum(counts.values()) + len(equivalent)
    scored = total - len(equivalent)
    return {
        "mutants": total, **counts, "equivalent": len(equivalent),
        "score": round(counts["killed"] / scored, 4) if scored else None,
        "score_counting_timeouts": round((counts["killed"] + counts["timeout"]) / scored, 4) if scored else None,
        "meets_goal": bool(scored) and counts["killed"] / scored >= GOAL,
        "equivalent_survivors": equivalent, "survivors": survivors,
        "stale_equivalence_entries": unmatched,
    }


# What the survivors that are not equivalent are, module by module (judged by reading them).
SURVIVOR_NOTES: dict[str, str] = {
    "observatory/analytics/frames.py": (
        "PostgreSQL-only paths the fast tier cannot reach: COPY (_frame_copy, _inline) and ADBC (_frame_adbc, the "
        "postgresql branch of _frame, latest_created_date's timestamp branch) are 'no tests' or survivors here; "
        "`make test` runs them against PostgreSQL but is not mutation-tested. _adbc_available's ImportError branch "
        "needs the driver absent."),
    "observatory/analytics/rollups.py": (
        "The rollup is built and checked for freshness in PostgreSQL only (refresh, fresh, _source_version, the "
        "vendor test in available): on the embedded default's SQLite those return early, so their mutants survive "
        "the fast tier. Only the reader (daily_gains) is fast-testable."),
    "observatory/analytics/releases.py": "unique(keep='first') made keep='any': polars keeps the first row anyway "
                                         "single-threaded, so the difference is not observable in a test.",
    "observatory/analytics/derivatives.py": "unique(keep='first') made keep='any' (not observable, as for releases).",
    "observatory/analytics/finetunes.py": (
        "unique over (base, tracked) or keep='any' for the bases: equal results while each base has one tracked "
        "flag, which the loader gives (one HubModel per base id) but no constraint enforces."),
    "observatory/analytics/arrow_pool.py": (
        "pool()'s connect lambda runs only against PostgreSQL (ADBC); an idle connection expiring at exactly "
        "idle_seconds ('>' made '>=') cannot be timed apart. Timeouts are mutants whose tests hung (a wait that "
        "never ends): detected, listed apart from killed."),
    "observatory/exports/images.py": (
        "Everything after the Chromium check (starting kaleido's server, pio.to_image's arguments, the warning "
        "filter, stop_browser's flag) runs only with a real browser: the dashboards' browser tests render PNG/SVG/"
        "PDF, the fast tier does not. Only the slots, the format check and the missing-Chromium error are fast."),
    "ingest/lineage.py": (
        "LineageGraph.around's PostgreSQL branch (the recursive query) is not reached on SQLite; a batch step of "
        "501 with 500-id slices skips one id a slice, which a set's order may or may not expose; max_depth's "
        "default (32 vs 33) needs a 33-level stored chain."),
    "observatory/analytics/gap.py": "group_by without maintain_order and unique keep='any': polars keeps the "
                                    "order single-threaded, so not observable.",
}


def write_summary(results: dict) -> None:
    """bench/results/mutation.md: the figures as a table, the equivalent survivors with why, the notes."""
    out = ["# Mutation testing (mutmut) against the fast tier", "",
           f"Made by `{results.get('command', 'make mutation')}` with mutmut {results.get('mutmut_version')}; "
           f"{results.get('score_formula')}. Goal: {results.get('goal')}.", "",
           "| module | mutants | killed | survived | timeout | untested | equivalent | score | goal | commit |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for module, f in results["modules"].items():
        out.append(f"| {module} | {f['mutants']} | {f['killed']} | {f['survived']} | {f['timeout']} | {f['no_tests']} "
                   f"| {f['equivalent']} | {f['score']:.1%} | {'met' if f['meets_goal'] else 'NOT met'} "
                   f"| {str(f.get('commit', ''))[:10]} |")
    out += ["", "## Survivors that are not equivalent", ""]
    out += [f"- `{module}`: {note}" for module, note in SURVIVOR_NOTES.items() if module in results["modules"]]
    out += ["", "Every survivor is listed with its changed line in mutation.json.", "",
            "## Survivors judged equivalent", ""]
    for f in results["modules"].values():
        for e in f["equivalent_survivors"]:
            out.append(f"- `{e['mutant']}`: `{e['change'][:140]}`. {e['why']}")
    (RESULTS.parent / "mutation.md").write_text("\n".join(out) + "\n")


def run_module(module: str, commit: str) -> dict:
    work = _prepare(module, commit)
    env = dict(os.environ, POLARS_MAX_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    log = work / "mutmut.log"
    with log.open("w") as out:
        proc = subprocess.run([str(mutmut), "run", "--max-children", "1"], cwd=work, env=env, stdout=out,
                              stderr=subprocess.STDOUT)
    seconds = round(time.monotonic() - started, 1)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed on {module} (exit {proc.returncode}); log {log}:\n{tail}")
    figures = _collect(module, work)
    figures["seconds"] = seconds
    figures["commit"] = commit
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="a module path to run (default: all, in order)")
    parser.add_argument("--recount", action="store_true",
                        help="recount the last run's results in var/mutation/ (after editing EQUIVALENT) without running")
    args = parser.parse_args(argv)
    chosen = args.module or [m for m in MODULES if (ROOT / m).exists()]
    unknown = [m for m in chosen if not (ROOT / m).is_file()]  # (run from the commit, checked there too)
    if unknown:
        raise SystemExit(f"no such module: {', '.join(unknown)}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("modules", {})
    if args.recount:
        for module in chosen:
            work = SCRATCH / module.replace("/", ".").removesuffix(".py")
            if module not in results["modules"] or not (work / "mutants" / (module + ".meta")).exists():
                continue
            kept = {k: results["modules"][module].get(k) for k in ("seconds", "commit", "date", "command")}
            kept["command"] = kept["command"] or "make mutation MUTATION_ARGS=" + shlex.quote(f"--module {module}")
            results["modules"][module] = {**_collect(module, work), **kept}
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
        write_summary(results)
        return 0
    commit = _commit()
    for module in chosen:
        print(f"== {module} at {commit[:10]}", flush=True)
        figures = run_module(module, commit)
        figures["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        figures["command"] = "make mutation MUTATION_ARGS=" + shlex.quote(f"--module {module}")
        results["modules"][module] = figures
        print(f"   score {figures['score']} ({figures['killed']} killed of {figures['mutants']}, "
              f"{figures['equivalent']} equivalent, {figures['survived']} survived, {figures['timeout']} timeout, "
              f"{figures['no_tests']} untested) in {figures['seconds']} s", flush=True)
        results.update({
            "tool": "mutmut", "mutmut_version": importlib.metadata.version("mutmut"),
            "command": "make mutation  # = python bench/mutation.py: every module of MODULES in turn; each module's "
                       "own run is in its `command`",
            "per_module_command": "mutmut run --max-children 1  (in var/mutation/<module>/, "
                                  f"tests: pytest {FAST_TESTS}, settings: the embedded default)",
            "goal": f">= {GOAL:.0%} of non-equivalent mutants killed in each module",
            "score_formula": "killed / (mutants - equivalent); timeouts and untested mutants count as not killed",
        })
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
        write_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
