"""One result schema (JSON) for every probe, and the config each probe runs with.

A result holds at least: probe, model, config, versions, device, metrics, checks (a list of
{name, passed, error}). The config is the full merged config, so a result can be reproduced and
two results compare only when their config_hash matches.
"""

from __future__ import annotations

import hashlib
import json
import platform

from probes import registry

SCHEMA_VERSION = 1
PROBES = registry.NAMES
REQUIRED_KEYS = ("probe", "model", "config", "versions", "device", "metrics", "checks")
REQUIRED_METRICS = {p.name: p.required_metrics for p in registry.PROBES}


def default_config(probe: str) -> dict:
    return registry.get(probe).default_config()


def full_config(probe: str, overrides: dict | None = None) -> dict:
    """Defaults merged with overrides (one level deep for dict values); unknown keys are an error."""
    config = default_config(probe)
    for key, value in (overrides or {}).items():
        if key not in config:
            raise ValueError(f"unknown {probe} config key {key!r}; known: {', '.join(sorted(config))}")
        if isinstance(config[key], dict) and isinstance(value, dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


def config_hash(probe: str, config: dict) -> str:
    """The probe's full config, hashed: results compare only under the same hash."""
    canonical = json.dumps({"probe": probe, "config": config}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def versions() -> dict:
    import importlib.metadata as md

    out = {"schema": SCHEMA_VERSION, "python": platform.python_version()}
    for package in ("torch", "transformers", "peft", "gguf", "huggingface_hub"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            out[package] = None
    return out


def device_info(device: str, dtype: str) -> dict:
    import torch

    info = {"type": device.split(":")[0], "dtype": dtype, "threads": torch.get_num_threads()}
    if device.startswith("cuda"):
        info["name"] = torch.cuda.get_device_name()
        info["memory_gb"] = round(torch.cuda.get_device_properties(0).total_memory / 1e9, 1)
    else:
        info["name"] = platform.processor() or platform.machine()
    return info


def validate(result: dict) -> dict:
    """Raise ValueError when a result does not follow the schema; return it otherwise."""
    missing = [k for k in REQUIRED_KEYS if k not in result]
    if missing:
        raise ValueError(f"result lacks {', '.join(missing)}")
    if result["probe"] not in PROBES:
        raise ValueError(f"unknown probe {result['probe']!r}")
    lacking = [k for k in REQUIRED_METRICS[result["probe"]] if k not in result["metrics"]]
    if lacking:
        raise ValueError(f"{result['probe']} metrics lack {', '.join(lacking)}")
    for item in result["checks"]:
        if set(item) < {"name", "passed", "error"} or not isinstance(item["passed"], bool):
            raise ValueError(f"malformed check {item!r}")
    json.dumps(result)  # must be plain JSON
    return result
