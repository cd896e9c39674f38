"""The README's configuration table names every environment variable the code reads: each one
`observatory/settings.py` reads through an `observatory/env.py` helper, and each one a module
reads straight from `os.environ` (the Django-free probes, the export browser). And no row names a
variable nothing reads. Parsed from the source with `ast`, not imported, so nothing is executed."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("observatory", "ingest", "probes", "gpu_workers")


def _table_variables() -> set[str]:
    """The first column of the table under "## Configuration": every `NAME` in it."""
    section = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows[0].replace(" ", "") == "|variable|default|meaning|", rows[0]
    names: set[str] = set()
    for row in rows[2:]:  # after the header and the |---| line
        first = row.split("|")[1]
        found = re.findall(r"`([A-Z][A-Z0-9_]*)`", first)
        assert found, f"a configuration row without a variable: {row[:80]}"
        names.update(found)
    return names


def _env_helpers() -> set[str]:
    tree = ast.parse(ROOT.joinpath("observatory", "env.py").read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("env_")}


def _first_string(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _settings_variables() -> set[str]:
    helpers = _env_helpers()
    tree = ast.parse(ROOT.joinpath("observatory", "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers:
            name = _first_string(node)
            assert name, f"settings.py line {node.lineno}: {node.func.id} with a name that is not a literal"
            names.add(name)
    return names


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
        and node.value.id == "os"


def _direct_reads() -> dict[str, str]:
    """`os.environ.get("X")`, `os.environ["X"]` and `os.getenv("X")` outside settings.py and env.py."""
    reads = {}
    for package in PACKAGES:
        for path in sorted(ROOT.joinpath(package).rglob("*.py")):
            if "migrations" in path.parts or path.name in ("settings.py", "env.py"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = None
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    if node.func.attr == "get" and _is_os_environ(node.func.value):
                        name = _first_string(node)
                    elif node.func.attr == "getenv" and isinstance(node.func.value, ast.Name) \
                            and node.func.value.id == "os":
                        name = _first_string(node)
                elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) \
                        and isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant):
                    name = node.slice.value
                if name:
                    reads[name] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return reads


def test_the_parsers_find_what_is_plainly_there():
    # Written out by hand from settings.py and probes/loading.py: a parser that found nothing
    # would otherwise pass every check below.
    assert {"DATABASE_URL", "CACHE_KEY_PREFIX", "CRAWL_HOUR_UTC", "CRAWL_LOOKUP_PAGE", "CSRF_TRUSTED_ORIGINS",
            "LOG_LEVEL"} <= _settings_variables()
    assert "PROBE_TORCH_THREADS" in _direct_reads()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= _table_variables()


def test_every_variable_settings_reads_is_in_the_readme_table():
    missing = sorted(_settings_variables() - _table_variables())
    assert not missing, f"read in observatory/settings.py, missing from the README's configuration table: {missing}"


def test_every_variable_a_module_reads_directly_is_in_the_readme_table():
    reads = _direct_reads()
    missing = sorted(f"{name} ({where})" for name, where in reads.items() if name not in _table_variables())
    assert not missing, f"read from os.environ, missing from the README's configuration table: {missing}"


def test_no_row_names_a_variable_nothing_reads():
    stale = sorted(_table_variables() - _settings_variables() - set(_direct_reads()))
    assert not stale, f"in the README's configuration table, read nowhere: {stale}"
