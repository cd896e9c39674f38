"""Where a model comes from, and whether it may be loaded at all.

A model is named by a Hub id (+ revision), a locally registered source (a setting mapping a Hub
id to a directory or GGUF file: how offline and air-gapped hosts profile by Hub id), or, from the
command line only, a local directory or GGUF file. Everything here inspects files as data: JSON
configs, safetensors headers and GGUF headers are read, nothing is imported, executed or unpickled.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from observatory import vocab
from probes.errors import DownloadFailed, ModelRefused

# Hub ids: the Hub's own rule, the project's one copy (Django-free).
HUB_ID_RE = vocab.HUB_ID
REVISION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
# Files a snapshot may fetch: weights we can read without unpickling, configs and tokenizers.
HUB_ALLOW_PATTERNS = [
    "*.safetensors", "*.safetensors.index.json", "config.json", "generation_config.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
    "vocab.json", "merges.txt", "chat_template.jinja", "chat_template.json", "added_tokens.json",
]


@dataclass(frozen=True)
class Limits:
    """Caps a probe run honours; gpu_workers fills them from settings, the CLI from its options."""

    max_params_b: float = 16.0
    max_disk_gb: float = 40.0
    max_seconds: float = 3600.0


@dataclass(frozen=True)
class ModelSource:
    spec: str  # as asked: a Hub id or a path
    path: Path  # directory with config/tokenizer files (for a GGUF, the file's directory)
    gguf_file: str | None  # file name inside `path` when the weights are GGUF
    origin: str  # "hub", "registered" or "local"
    revision: str = ""  # the commit a Hub snapshot was pinned to; "" for local files
    n_params: int = 0  # counted from the weight file headers
    disk_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def weights_format(self) -> str:
        return "gguf" if self.gguf_file else "safetensors"

    def describe(self) -> dict:
        return {
            "spec": self.spec,
            "origin": self.origin,
            "revision": self.revision,
            "format": self.weights_format,
            "gguf_file": self.gguf_file or "",
            "n_params": self.n_params,
            "disk_bytes": self.disk_bytes,
        }


def validate_hub_id(hub_id: str) -> str:
    if not isinstance(hub_id, str) or not HUB_ID_RE.match(hub_id) or ".." in hub_id:
        raise ModelRefused(
            f"not a valid Hub model id: {hub_id!r} (expected {vocab.HUB_ID_DESCRIPTION})"
        )
    return hub_id


def validate_revision(revision: str) -> str:
    if revision and (not REVISION_RE.match(revision) or ".." in revision):
        raise ModelRefused(f"not a valid revision: {revision!r}")
    return revision


def resolve_source(
    spec: str,
    *,
    revision: str = "",
    local_sources: dict[str, str] | None = None,
    allow_local_paths: bool = False,
    limits: Limits = Limits(),
    hf_endpoint: str | None = None,
    hf_token: str | None = None,
    cache_dir: str | None = None,
) -> ModelSource:
    """Find the model's files and check them; raise ModelRefused with the reason if unacceptable."""
    local_sources = local_sources or {}
    if spec in local_sources:
        source = inspect_local(Path(local_sources[spec]), spec=spec, origin="registered")
    elif allow_local_paths and (spec.startswith(("/", "./", "../", "~")) or Path(spec).exists()):
        source = inspect_local(Path(spec).expanduser(), spec=spec, origin="local")
    else:
        validate_hub_id(spec)
        validate_revision(revision)
        source = fetch_from_hub(spec, revision=revision, limits=limits, endpoint=hf_endpoint, token=hf_token,
                                cache_dir=cache_dir)
    check_limits(source, limits)
    return source


def check_limits(source: ModelSource, limits: Limits) -> None:
    params_b = source.n_params / 1e9
    if params_b > limits.max_params_b:
        raise ModelRefused(
            f"model too large: {params_b:.3f}B parameters is over the cap of {limits.max_params_b}B (PROBE_MAX_PARAMS_B)"
        )
    disk_gb = source.disk_bytes / 1e9
    if disk_gb > limits.max_disk_gb:
        raise ModelRefused(f"model too large on disk: {disk_gb:.2f} GB is over the cap of {limits.max_disk_gb} GB")


# --- Local files -----------------------------------------------------------------------------


def inspect_local(path: Path, *, spec: str, origin: str) -> ModelSource:
    if not path.exists():
        raise ModelRefused(f"model source not found: {path}")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            if path.suffix.lower() in PICKLE_SUFFIXES:
                raise ModelRefused(f"refusing pickle checkpoint {path.name}: only safetensors or GGUF weights are loaded")
            raise ModelRefused(f"unsupported model file {path.name}: give a directory with safetensors or a .gguf file")
        n_params = gguf_param_count(path)
        return ModelSource(spec=spec, path=path.parent, gguf_file=path.name, origin=origin,
                           n_params=n_params, disk_bytes=path.stat().st_size)
    files = [p for p in path.iterdir() if p.is_file()]
    names = {p.name for p in files}
    safetensors = sorted(p for p in files if p.name.endswith(".safetensors"))
    ggufs = sorted(p for p in files if p.name.lower().endswith(".gguf"))
    pickles = sorted(p.name for p in files if p.name.lower().endswith(PICKLE_SUFFIXES))
    if not safetensors and not ggufs:
        if pickles:
            raise ModelRefused(
                f"refusing {path}: it holds only pickle checkpoints ({', '.join(pickles)}); "
                "pickles can execute code when loaded, so only safetensors or GGUF weights are accepted"
            )
        raise ModelRefused(f"no model weights (safetensors or GGUF) in {path}")
    for config_name in ("config.json", "tokenizer_config.json"):
        if config_name in names:
            check_config_file(path / config_name)
    if safetensors:
        if "config.json" not in names:
            raise ModelRefused(f"no config.json in {path}")
        check_architecture(json.loads((path / "config.json").read_text()))
        n_params = sum(safetensors_param_count(p) for p in safetensors)
        disk = sum(p.stat().st_size for p in safetensors)
        return ModelSource(spec=spec, path=path, gguf_file=None, origin=origin, n_params=n_params, disk_bytes=disk)
    gguf = ggufs[0]
    return ModelSource(spec=spec, path=path, gguf_file=gguf.name, origin=origin,
                       n_params=gguf_param_count(gguf), disk_bytes=gguf.stat().st_size)


def check_config_file(config_path: Path) -> None:
    try:
        config = json.loads(config_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelRefused(f"unreadable {config_path.name}: {exc}") from exc
    if not isinstance(config, dict):
        raise ModelRefused(f"{config_path.name} is not a JSON object")
    if "auto_map" in config or config.get("trust_remote_code"):
        raise ModelRefused(
            f"refusing model: {config_path.name} asks for custom code (auto_map/trust_remote_code); "
            "remote code is never executed"
        )


def check_architecture(config: dict) -> None:
    from transformers import CONFIG_MAPPING

    model_type = config.get("model_type")
    if not model_type or model_type not in CONFIG_MAPPING:
        raise ModelRefused(f"unsupported architecture: model_type={model_type!r} is not built into Transformers")


def safetensors_param_count(path: Path) -> int:
    """Count parameters from a safetensors header (8-byte length + JSON) without loading tensors."""
    with path.open("rb") as handle:
        raw = handle.read(8)
        if len(raw) != 8:
            raise ModelRefused(f"{path.name} is not a safetensors file (too short)")
        (length,) = struct.unpack("<Q", raw)
        if length > 100_000_000:
            raise ModelRefused(f"{path.name} has an implausible safetensors header ({length} bytes)")
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelRefused(f"{path.name} has a corrupt safetensors header: {exc}") from exc
    total = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for dim in entry.get("shape", []):
            count *= int(dim)
        total += count
    return total


def gguf_param_count(path: Path) -> int:
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelRefused(f"{path.name} is not a GGUF file")
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except Exception as exc:  # a malformed header: refuse, whatever the parser tripped on
        raise ModelRefused(f"{path.name} has a malformed GGUF header: {exc}") from exc
    return int(sum(int(t.n_elements) for t in reader.tensors))


# --- The Hub ---------------------------------------------------------------------------------


def _hub_unavailable(exc: Exception) -> bool:
    """A failure of the Hub, not of the model: no answer at all, a timeout, a 5xx or a 429."""
    import httpx2

    if isinstance(exc, httpx2.TransportError):  # refused connection, reset, timeout, truncated body
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status is not None and (status >= 500 or status == 429)


def _download_error(repo_id: str, what: str, exc: Exception) -> Exception:
    """DownloadFailed for the Hub's own trouble (worth a later try), ModelRefused for the rest."""
    if _hub_unavailable(exc):
        return DownloadFailed(f"{what} of {repo_id} failed, the Hub's trouble: {exc.__class__.__name__}: {exc}")
    return ModelRefused(f"{what} of {repo_id} failed: {exc}")


def check_hub_config(repo_id: str, info, names: list[str], *, token: str | None, endpoint: str | None,
                     cache_dir: str | None) -> None:
    """Refuse custom code before any weight is downloaded: first by the Hub's own summary of the
    config (model_info's `config`), then by the config files themselves, fetched alone and read
    as JSON (a few kB; nothing is imported or executed)."""
    import httpx2
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError

    summary = getattr(info, "config", None) or {}
    if isinstance(summary, dict) and ("auto_map" in summary or summary.get("trust_remote_code")):
        raise ModelRefused(f"refusing {repo_id}: its config asks for custom code (auto_map/trust_remote_code); "
                           "remote code is never executed")
    for config_name in ("config.json", "tokenizer_config.json"):
        if config_name not in names:
            continue
        try:
            path = hf_hub_download(repo_id, config_name, revision=info.sha, token=token, endpoint=endpoint,
                                   cache_dir=cache_dir)
        except (HfHubHTTPError, httpx2.TransportError) as exc:
            raise _download_error(repo_id, f"download of {config_name}", exc) from exc
        check_config_file(Path(path))
        if config_name == "config.json" and any(n.endswith(".safetensors") for n in names):
            check_architecture(json.loads(Path(path).read_text()))


def fetch_from_hub(repo_id: str, *, revision: str, limits: Limits, endpoint: str | None, token: str | None,
                   cache_dir: str | None) -> ModelSource:
    import httpx2
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = HfApi(endpoint=endpoint, token=token)
    try:
        info = api.model_info(repo_id, revision=revision or None, files_metadata=True)
    except GatedRepoError as exc:
        raise ModelRefused(f"{repo_id} is gated: accept its terms on the Hub and set HF_TOKEN") from exc
    except RevisionNotFoundError as exc:
        raise ModelRefused(f"{repo_id} has no revision {revision!r}") from exc
    except RepositoryNotFoundError as exc:
        raise ModelRefused(f"{repo_id} not found on the Hub (or private)") from exc
    except (HfHubHTTPError, httpx2.TransportError) as exc:
        if _hub_unavailable(exc):
            raise _download_error(repo_id, "model_info", exc) from exc
        raise ModelRefused(f"the Hub refused {repo_id}: {exc}") from exc
    if getattr(info, "gated", False) and not token:
        raise ModelRefused(f"{repo_id} is gated: accept its terms on the Hub and set HF_TOKEN")
    siblings = info.siblings or []
    names = [s.rfilename for s in siblings]
    sizes = {s.rfilename: (s.size or 0) for s in siblings}
    safetensors = [n for n in names if n.endswith(".safetensors") and "/" not in n]
    ggufs = sorted(n for n in names if n.lower().endswith(".gguf") and "/" not in n)
    if not safetensors and not ggufs:
        pickles = [n for n in names if n.lower().endswith(PICKLE_SUFFIXES)]
        if pickles:
            raise ModelRefused(f"refusing {repo_id}: only pickle checkpoints ({', '.join(pickles[:5])}); "
                               "only safetensors or GGUF weights are loaded")
        raise ModelRefused(f"{repo_id} has no safetensors or GGUF weights")
    weights = safetensors or ggufs[:1]
    disk = sum(sizes.get(n, 0) for n in weights)
    params = getattr(getattr(info, "safetensors", None), "total", None)
    # Refuse by the Hub's own numbers before downloading anything large.
    check_limits(ModelSource(spec=repo_id, path=Path("."), gguf_file=None, origin="hub",
                             n_params=int(params or 0), disk_bytes=disk), limits)
    check_hub_config(repo_id, info, names, token=token, endpoint=endpoint, cache_dir=cache_dir)
    patterns = list(HUB_ALLOW_PATTERNS) if safetensors else [*HUB_ALLOW_PATTERNS, ggufs[0]]
    try:
        local = snapshot_download(repo_id, revision=info.sha, allow_patterns=patterns, token=token,
                                  endpoint=endpoint, cache_dir=cache_dir)
    except LocalEntryNotFoundError as exc:  # the Hub went away mid-snapshot and nothing is cached
        raise DownloadFailed(f"download of {repo_id} failed, the Hub's trouble: {exc}") from exc
    except (HfHubHTTPError, httpx2.TransportError) as exc:
        raise _download_error(repo_id, "download", exc) from exc
    source = inspect_local(Path(local), spec=repo_id, origin="hub")
    return ModelSource(spec=repo_id, path=source.path, gguf_file=source.gguf_file, origin="hub",
                       revision=info.sha or "", n_params=source.n_params, disk_bytes=source.disk_bytes)
