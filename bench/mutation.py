"""Mutation testing of the metrics, licences, lineage, tokens and exports, one test tier at a time.

`make mutation` (or `python bench/mutation.py [--module PATH ...] [--database-url URL]`) runs mutmut 3
on one module at a time. Each module has its tiers (MODULES), run in order:

    fast      tests/fast in the embedded default's settings (DATABASE_URL, REDIS_URL unset): no servers;
    postgres  a short, named list of test files against the real PostgreSQL of --database-url (or
              MUTATION_DATABASE_URL), pytest-django keeping its test database between mutants
              (--reuse-db: each mutant's pytest session would otherwise create and migrate it anew);
              --redis-url/--cache-redis-url (MUTATION_REDIS_URL, MUTATION_CACHE_REDIS_URL) where a
              tier needs Redis;
    browser   named test files that drive the Chromium at /usr/bin/chromium, no servers otherwise.

A later tier runs only the mutants the earlier ones left alive (by name), and a mutant counts as
killed when any tier kills it: the PostgreSQL-only paths (COPY, ADBC, the rollup's refresh) are
reached by the postgres tier, the SQLite branches by the fast one. Each tier runs in a fresh scratch
directory var/mutation/<module>/<tier>/ holding the tree of the current commit (HEAD: commit first;
uncommitted edits are not measured), where mutmut copies the packages into its own `mutants/` folder
and runs the tier's tests against each mutant, one child process at a time. The figures go into
bench/results/mutation.json (under a lock: several `--module` runs may finish at once), keeping the
entries of modules not run this time:

    killed, survived, timeout, no_tests (a mutated function no test of any tier calls), other
    (suspicious, segfault), equivalent (survivors judged equivalent in bench/mutation_equivalents*.py,
    each checked against its mutated line), score = killed / (total - equivalent), and every
    survivor's changed line.

Why a scratch directory per module and tier: mutmut reads its settings from the pyproject.toml of the
folder it runs in, and a fresh folder means every figure comes from a run of the current code and
tests, never from results cached against older ones.

Not part of CI: a module takes minutes on one core. Two runs of postgres-tier modules on one
database at once share pytest-django's test database: give each its own --database-url.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import difflib
import fcntl
import importlib.metadata
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "mutation.json"
SCRATCH = ROOT / "var" / "mutation"
GOAL = 0.85
CHROMIUM = Path("/usr/bin/chromium")
SECRET = "test-only-not-secret"


@dataclass(frozen=True)
class Tier:
    """One way of running tests against the mutants: its name (the environment) and its tests."""

    name: str  # "fast", "postgres" or "browser"
    tests: tuple[str, ...]
    redis: bool = False  # the tests need REDIS_URL and CACHE_REDIS_URL too


FAST = Tier("fast", ("tests/fast",))


def postgres(*tests: str, redis: bool = False) -> Tier:
    return Tier("postgres", tests, redis)


def browser(*tests: str) -> Tier:
    return Tier("browser", tests)


# Module -> its tiers, in the order they are run (the metrics first, the licence and lineage rules last).
# Keep each postgres or browser tier's list short: mutmut runs a mutant's covering tests from it.
MODULES: dict[str, tuple[Tier, ...]] = {
    "observatory/analytics/filters.py": (FAST,),
    "observatory/analytics/shares.py": (FAST,),
    "observatory/analytics/gains.py": (FAST,),
    "observatory/analytics/releases.py": (FAST,),
    "observatory/analytics/adoption.py": (FAST,),
    "observatory/analytics/forecast.py": (FAST,),
    "observatory/analytics/concentration.py": (FAST,),
    "observatory/analytics/derivatives.py": (FAST,),
    "observatory/analytics/finetunes.py": (FAST,),
    "observatory/analytics/fine_tunability.py": (FAST,),
    "observatory/analytics/release_events.py": (FAST,),
    "observatory/analytics/tooling_readiness.py": (FAST,),
    "observatory/analytics/gap.py": (FAST,),
    "observatory/analytics/quality.py": (FAST,),
    "observatory/analytics/frames.py": (FAST, postgres("tests/fast/test_catalogue_frames.py",
                                                       "tests/analytics_postgres/test_frames_paths.py")),
    "observatory/analytics/probe_frames.py": (FAST,),  # ORM reads: SQLite reaches every line
    "observatory/analytics/probe_gap.py": (FAST,),
    "observatory/analytics/on_track.py": (FAST,),
    "observatory/analytics/rollups.py": (FAST, postgres("tests/analytics_postgres/test_rollup_refresh.py",
                                                           "tests/dashboards/test_rollup_fold_cases.py")),
    "observatory/analytics/arrow_pool.py": (FAST, postgres("tests/analytics_postgres/test_frames_paths.py")),
    "observatory/labs/tokens.py": (FAST,),
    "observatory/exports/tables.py": (FAST,),
    "observatory/exports/images.py": (FAST, browser("tests/export_images/test_rendering.py")),
    "observatory/vocab.py": (FAST,),
    "observatory/analytics/licences.py": (FAST,),
    "ingest/licences.py": (FAST,),
    "ingest/lineage.py": (FAST,),
}

sys.path.insert(0, str(ROOT))  # run as a script: the repository root, for bench.*
from bench.mutation_equivalents import _SQL_CASE, EQUIVALENT, SQL_MODULES, SURVIVOR_NOTES  # noqa: E402  (judged, with why)


def _status_by_exit_code():
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code


def _scratch_pyproject(module: str, tier: Tier, path: Path) -> str:
    """The commit's pyproject (pytest's settings) with a [tool.mutmut] table for one module and tier."""
    text = path.read_text()
    if "mutmut" in tomllib.loads(text).get("tool", {}):
        raise SystemExit("pyproject.toml has its own [tool.mutmut]; bench/mutation.py writes that table itself")
    table = {
        "source_paths": ["observatory/", "ingest/"],
        "only_mutate": [module],
        # --reuse-db: every mutant is a pytest session of its own (pytest.main in a forked child), and
        # each would otherwise drop, create and migrate the test database (harmless off PostgreSQL).
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-x", "--reuse-db"],
        "pytest_add_cli_args_test_selection": list(tier.tests),
        # Each mutant's pytest session also sets up its test database (migrating SQLite's, opening
        # PostgreSQL's) before its tests, which mutmut's per-test estimate leaves out: a larger
        # constant in the time limit (wall limit = 15 * (estimate + constant)), so a loaded machine
        # does not turn that setup into timeouts. The tests' own waits are bounded well below it.
        "timeout_constant": 5.0,
        "use_setproctitle": False,
        # polars' thread pool does not survive a fork once it has run a query (the child hangs):
        # mutants are forked from a server that has only collected the tests (imported modules and
        # built small frames), never from the process that ran them.
        "process_isolation": "forkserver",
        # pytest-django puts the folder of the first manage.py it finds above the tests on sys.path:
        # it must be the copy in mutants/, or the tests would import the unmutated checkout. The other
        # packages and the templates come along, or the editable install would import them from the
        # live working tree, whose uncommitted edits are not the commit being measured.
        "also_copy": ["manage.py", "gpu_workers/", "probes/", "templates/"],
    }
    lines = ["", "[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return text + "\n".join(lines) + "\n"


COPIED = ("observatory", "ingest", "gpu_workers", "probes", "templates", "tests", "manage.py", "pyproject.toml")


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def _module_dir(module: str) -> Path:
    return SCRATCH / module.replace("/", ".").removesuffix(".py")


def _prepare(module: str, tier: Tier, commit: str) -> Path:
    """A scratch folder holding the committed tree at `commit`: the working tree is shared with
    edits in progress, and a figure must belong to code and tests someone can check out."""
    work = _module_dir(module) / tier.name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit, *COPIED], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    if not (work / module).is_file():
        raise SystemExit(f"{module} is not in commit {commit}")
    missing = [t for t in tier.tests if not (work / t).exists()]
    if missing:
        raise SystemExit(f"{module}'s {tier.name} tier names tests not in commit {commit[:10]}: {', '.join(missing)}")
    (work / "pyproject.toml").write_text(_scratch_pyproject(module, tier, work / "pyproject.toml"))
    return work


def _functions(source: str) -> dict[str, ast.AST]:
    """Functions and methods of mutmut's mutated file, by name (originals and mutants)."""
    return {node.name: node for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


SQL_WORDS = ("select ", " from ", "join ", " where ", " and ", " in (", "is not null", "coalesce(", "group by",
             "max(", "julianday(", " - q.previous", " or ",
             # the rollup fold's statements (temporary tables, upserts, its session settings)
             "create temporary table", "on commit drop", "insert into", "on conflict", "excluded.", "drop table",
             "analyze ", "set transaction", "set local", "double precision", "union all")


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


# A mutant's state over its tiers: the first of these any tier gave it (killed by any tier is killed).
# A tier that ran the mutant's tests to the end and saw them pass outranks another's timeout (on a
# loaded machine, a slow start), so the survivor is judged on its line; its every tier's state is kept.
STATE_ORDER = ("killed", "caught by type check", "survived", "timeout", "suspicious", "segfault", "no tests")


def _tier_states(module: str, work: Path) -> dict[str, str]:
    meta = json.loads((work / "mutants" / (module + ".meta")).read_text())
    status = _status_by_exit_code()
    return {name: status[code] for name, code in meta["exit_code_by_key"].items()}


def _merged_states(per_tier: list[dict[str, str]]) -> dict[str, str]:
    """Every mutant of the first tier (which runs them all), with its best state over the tiers."""
    rank = {state: i for i, state in enumerate(STATE_ORDER)}
    merged = dict(per_tier[0])
    for states in per_tier[1:]:
        for name, state in states.items():
            if rank.get(state, len(rank)) < rank.get(merged[name], len(rank)):
                merged[name] = state
    return merged


def _collect(module: str, works: list[Path]) -> dict:
    mutated = works[0] / "mutants" / module  # the same mutants in every tier's folder
    per_tier = {work.name: _tier_states(module, work) for work in works}
    states = _merged_states(list(per_tier.values()))
    lines = mutated.read_text().splitlines()
    functions = _functions("\n".join(lines))
    counts = {"killed": 0, "survived": 0, "timeout": 0, "no_tests": 0, "other": 0}
    # (A timeout is a mutant whose tests hung until mutmut's limit: detected, but not counted as killed here.)
    survivors, equivalent, unmatched = [], [], []
    judged = {entry["mutant"]: entry for entry in EQUIVALENT.get(module, [])}
    for name, state in sorted(states.items()):
        if state in ("killed", "caught by type check"):
            counts["killed"] += 1
            continue
        change = _changed_line(lines, functions, name)
        tiers = {tier: by_name[name] for tier, by_name in per_tier.items() if name in by_name}
        if state == "survived":
            entry = judged.get(name)
            if entry and entry["contains"] in change:
                equivalent.append({"mutant": name, "change": change, "why": entry["why"], "tiers": tiers})
                continue
            if module in SQL_MODULES and _sql_case_only(lines, functions, name):
                equivalent.append({"mutant": name, "change": change, "why": _SQL_CASE, "tiers": tiers})
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
        survivors.append({"mutant": name, "status": state, "change": change, "tiers": tiers})
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


def write_summary(results: dict) -> None:
    """bench/results/mutation.md: the figures as a table, the equivalent survivors with why, the notes."""
    out = ["# Mutation testing (mutmut), by module and test tier", "",
           f"Made by `{results.get('command', 'make mutation')}` with mutmut {results.get('mutmut_version')}; "
           f"{results.get('score_formula')}. Goal: {results.get('goal')}.", "",
           "| module | tiers | mutants | killed | survived | timeout | untested | equivalent | score | goal | commit |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for module, f in results["modules"].items():
        tiers = "+".join(t["tier"] for t in f.get("tiers", [{"tier": "fast"}]))
        out.append(f"| {module} | {tiers} | {f['mutants']} | {f['killed']} | {f['survived']} | {f['timeout']} | {f['no_tests']} "
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


def _tier_env(tier: Tier, work: Path, servers: argparse.Namespace) -> dict[str, str]:
    """The tier's environment: never a server the tier does not name, so a fast figure is a fast one."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_REDIS_URL")}
    home = work / "home"
    home.mkdir(exist_ok=True)
    env.update(POLARS_MAX_THREADS="1", PYTHONDONTWRITEBYTECODE="1", OBSERVATORY_HOME=str(home), SECRET_KEY=SECRET)
    if tier.name == "postgres":
        env["DATABASE_URL"] = servers.database_url
        if tier.redis:
            env.update(REDIS_URL=servers.redis_url, CACHE_REDIS_URL=servers.cache_redis_url or servers.redis_url)
    return env


def _check_servers(chosen: list[str], servers: argparse.Namespace) -> None:
    """Fail before any run when a chosen module's tier lacks what it needs."""
    tiers = [tier for module in chosen for tier in MODULES.get(module, (FAST,))]
    if any(t.name == "postgres" for t in tiers) and not servers.database_url:
        raise SystemExit("a chosen module has a postgres tier: give --database-url (or MUTATION_DATABASE_URL), "
                         "e.g. postgresql://postgres@127.0.0.1:5432/observatory")
    if any(t.redis for t in tiers) and not servers.redis_url:
        raise SystemExit("a chosen module's postgres tier needs Redis: give --redis-url (or MUTATION_REDIS_URL)")
    if any(t.name == "browser" for t in tiers) and not CHROMIUM.exists():
        raise SystemExit(f"a chosen module has a browser tier and {CHROMIUM} is missing (make chromium)")


def run_module(module: str, commit: str, servers: argparse.Namespace) -> dict:
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    works, left = [], None  # left: the mutants no tier has killed yet (None: all, for the first tier)
    for tier in MODULES.get(module, (FAST,)):
        if left is not None and not left:
            break
        work = _prepare(module, tier, commit)
        log = work / "mutmut.log"
        with log.open("w") as out:
            proc = subprocess.run([str(mutmut), "run", "--max-children", "1", *(left or ())], cwd=work,
                                  env=_tier_env(tier, work, servers), stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"mutmut failed on {module}, {tier.name} tier (exit {proc.returncode}); log {log}:\n{tail}")
        works.append(work)
        merged = _merged_states([_tier_states(module, w) for w in works])
        left = sorted(name for name, state in merged.items() if state not in ("killed", "caught by type check"))
        print(f"   {tier.name} tier: {len(left)} mutants left alive", flush=True)
    figures = _collect(module, works)
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["commit"] = commit
    figures["tiers"] = [{"tier": t.name, "tests": list(t.tests)} for t in MODULES.get(module, (FAST,))]
    return figures


@contextmanager
def _locked(path: Path):
    """An exclusive flock on `path` (created): several runs read-modify-write one results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


RESULTS_LOCK = SCRATCH / "results.lock"


def _store(module_figures: dict[str, dict]) -> None:
    """Write these modules' figures into mutation.json and mutation.md, keeping every other module's
    entry as the file has it now (another run may have written one since this run started)."""
    with _locked(RESULTS_LOCK):
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results.setdefault("modules", {}).update(module_figures)
        results.update({
            "tool": "mutmut", "mutmut_version": importlib.metadata.version("mutmut"),
            "command": "make mutation  # = python bench/mutation.py --database-url $(TEST_DATABASE_URL): every module "
                       "of MODULES in turn; each module's own run is in its `command`",
            "per_module_command": "mutmut run --max-children 1 [the mutants earlier tiers left alive]  (in "
                                  "var/mutation/<module>/<tier>/; each module's tiers and their tests are in its `tiers`)",
            "goal": f">= {GOAL:.0%} of non-equivalent mutants killed in each module",
            "score_formula": "killed (by any tier) / (mutants - equivalent); timeouts and untested mutants count as "
                             "not killed",
        })
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
        tmp.replace(RESULTS)
        write_summary(results)


def _command(module: str) -> str:
    tiers = MODULES.get(module, (FAST,))
    url = " TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/observatory" if any(
        t.name == "postgres" for t in tiers) else ""
    return "make mutation MUTATION_ARGS=" + shlex.quote(f"--module {module}") + url


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="a module path to run (default: all, in order)")
    parser.add_argument("--recount", action="store_true",
                        help="recount the last run's results in var/mutation/ (after editing EQUIVALENT) without running")
    parser.add_argument("--database-url", default=os.environ.get("MUTATION_DATABASE_URL"),
                        help="PostgreSQL for the postgres tiers (default: $MUTATION_DATABASE_URL)")
    parser.add_argument("--redis-url", default=os.environ.get("MUTATION_REDIS_URL"),
                        help="Redis for the tiers that need it (default: $MUTATION_REDIS_URL)")
    parser.add_argument("--cache-redis-url", default=os.environ.get("MUTATION_CACHE_REDIS_URL"),
                        help="the cache's Redis (default: $MUTATION_CACHE_REDIS_URL, else --redis-url)")
    args = parser.parse_args(argv)
    chosen = args.module or [m for m in MODULES if (ROOT / m).exists()]
    unknown = [m for m in chosen if not (ROOT / m).is_file()]  # (run from the commit, checked there too)
    if unknown:
        raise SystemExit(f"no such module: {', '.join(unknown)}")
    if args.recount:
        recounted = {}
        old = json.loads(RESULTS.read_text()).get("modules", {}) if RESULTS.exists() else {}
        for module in chosen:
            works = [_module_dir(module) / t.name for t in MODULES.get(module, (FAST,))]
            works = [w for w in works if (w / "mutants" / (module + ".meta")).exists()]
            if module not in old or not works:
                continue
            kept = {k: old[module].get(k) for k in ("seconds", "commit", "date", "command", "tiers")}
            kept["command"] = kept["command"] or _command(module)
            recounted[module] = {**_collect(module, works), **kept}
        _store(recounted)
        return 0
    _check_servers(chosen, args)
    commit = _commit()
    for module in chosen:
        print(f"== {module} at {commit[:10]}", flush=True)
        with _locked(SCRATCH / (_module_dir(module).name + ".run.lock")):  # one run of a module at a time
            figures = run_module(module, commit, args)
        figures["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        figures["command"] = _command(module)
        print(f"   score {figures['score']} ({figures['killed']} killed of {figures['mutants']}, "
              f"{figures['equivalent']} equivalent, {figures['survived']} survived, {figures['timeout']} timeout, "
              f"{figures['no_tests']} untested) in {figures['seconds']} s", flush=True)
        _store({module: figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())
