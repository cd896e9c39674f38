"""Run one probe on one model: resolve the source, load it safely, probe, release, and return
a result record in the one schema. Django-free: gpu_workers and the CLI pass settings in."""

from __future__ import annotations

import datetime as dt
import time

from probes import registry
from probes.errors import ModelRefused
from probes.loading import configure_threads, load_model, release
from probes.progress import ProgressCallback, Reporter
from probes.result import config_hash, device_info, full_config, validate, versions
from probes.sources import Limits, resolve_source


def run_probe(
    spec: str,
    probe: str,
    *,
    revision: str = "",
    config: dict | None = None,
    local_sources: dict[str, str] | None = None,
    allow_local_paths: bool = False,
    limits: Limits = Limits(),
    device: str | None = None,
    progress: ProgressCallback | None = None,
    hf_endpoint: str | None = None,
    hf_token: str | None = None,
    benchmarks_dir=None,
) -> dict:
    """Raises ModelRefused (nothing was loaded), ProbeTimeout or ProbeInterrupted; else a result."""
    entry = registry.get(probe)
    config = full_config(probe, config)
    report = Reporter(progress, max_seconds=limits.max_seconds)
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    report(0.0, f"resolving {spec}")
    source = resolve_source(spec, revision=revision, local_sources=local_sources, allow_local_paths=allow_local_paths,
                            limits=limits, hf_endpoint=hf_endpoint, hf_token=hf_token)
    report(0.02, f"loading {source.weights_format} weights ({source.n_params / 1e6:.0f}M parameters)")
    loaded, load_error = None, ""
    try:
        loaded = load_model(source, device=device)
    except ModelRefused:
        raise
    except Exception as exc:
        if not entry.runs_unloaded:
            raise
        load_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    report(0.1, "model loaded")
    body_report = report.part(0.1, 0.88)
    try:
        run_versions = versions()
        body = entry.run(loaded, config, body_report,
                         registry.Context(spec=spec, versions=run_versions, load_error=load_error,
                                          benchmarks_dir=benchmarks_dir))
        device_used = loaded.device if loaded else (device or "cpu")
        dtype = loaded.dtype if loaded else ""
        model = {**source.describe(), "name": spec,
                 "architecture": getattr(getattr(loaded.model, "config", None), "model_type", "") if loaded else "",
                 "loaded_params": loaded.n_params if loaded else 0}
        load_seconds = round(loaded.load_seconds, 3) if loaded else None
        from probes.finetune import peak_memory_mb

        # Process peak RSS on CPU (a fresh worker process per job makes it the job's own), or the
        # device's peak allocation on CUDA.
        peak_mb = round(peak_memory_mb(device_used), 1)
    finally:
        memory = release(loaded)
        loaded = None
    configure_threads()
    result = {
        "probe": probe,
        "model": model,
        "config": config,
        "config_hash": config_hash(probe, config),
        "versions": run_versions,
        "device": {**device_info(device_used, dtype), "memory_after_release": memory},
        "metrics": body["metrics"],
        "checks": body.get("checks", []),
        "started_at": started_at.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "load_seconds": load_seconds,
        "peak_memory_mb": peak_mb,
    }
    # What a probe returns besides metrics and checks (the benchmark's per_item and lm_eval); it
    # may add to the record, never replace what the runner measured.
    extras = {k: v for k, v in body.items() if k not in ("metrics", "checks")}
    clashing = sorted(set(extras) & set(result))
    if clashing:
        raise ValueError(f"{probe} probe returned {', '.join(clashing)}, which the runner sets")
    result.update(extras)
    report(1.0, "done")
    return validate(result)
