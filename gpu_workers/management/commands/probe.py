"""Run one probe in this process: `manage.py probe --model <id|path|gguf> --probe benchmark|finetune|tooling`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from probes.errors import ProbeError
from probes.result import PROBES


class Command(BaseCommand):
    help = "Run a benchmark, fine-tunability or tooling probe on a model (Hub id, local directory or GGUF file)."

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True,
                            help="Hub id, a registered id (PROBE_LOCAL_SOURCES), a directory or a .gguf")
        parser.add_argument("--probe", required=True, choices=PROBES)
        parser.add_argument("--revision", default="")
        parser.add_argument("--json", dest="json_out", help="write the result record here")
        parser.add_argument("--lm-eval-out", help="benchmark only: write the lm-evaluation-harness-shaped results here")
        parser.add_argument("--config", default="{}", help='JSON overrides of the probe config, e.g. \'{"limit": 10}\'')
        parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when present)")
        parser.add_argument("--max-seconds", type=float, default=None)
        parser.add_argument("--max-params-b", type=float, default=None)
        parser.add_argument("--save", action="store_true", help="also store the result as a probe run in the database")

    def handle(self, *args, **opts):
        from probes.runner import run_probe
        from probes.sources import Limits

        try:
            overrides = json.loads(opts["config"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--config is not JSON: {exc}") from exc
        if not isinstance(overrides, dict):
            raise CommandError("--config must be a JSON object")
        limits = Limits(max_params_b=opts["max_params_b"] or settings.PROBE_MAX_PARAMS_B,
                        max_disk_gb=settings.PROBE_MAX_DISK_GB,
                        max_seconds=opts["max_seconds"] or settings.PROBE_MAX_SECONDS)
        verbose = opts["verbosity"] >= 1
        last = {"step": ""}

        def progress(fraction: float, step: str) -> None:
            if verbose and step != last["step"]:
                last["step"] = step
                self.stderr.write(f"[{fraction:6.1%}] {step}")

        try:
            result = run_probe(opts["model"], opts["probe"], revision=opts["revision"], config=overrides,
                               local_sources=dict(settings.PROBE_LOCAL_SOURCES), allow_local_paths=True,
                               limits=limits, device=opts["device"], progress=progress,
                               hf_endpoint=settings.HF_ENDPOINT, hf_token=settings.HF_TOKEN,
                               benchmarks_dir=settings.OBSERVATORY_BENCHMARKS_DIR)
        except (ProbeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if opts["json_out"]:
            Path(opts["json_out"]).write_text(json.dumps(result, indent=2))
        if opts["lm_eval_out"] and "lm_eval" in result:
            Path(opts["lm_eval_out"]).write_text(json.dumps(result["lm_eval"], indent=2))
        if opts["save"]:
            self.save(opts["model"], result)
        summary = {k: v for k, v in result["metrics"].items() if not isinstance(v, dict)}
        self.stdout.write(json.dumps({"probe": result["probe"], "model": opts["model"], "metrics": summary,
                                      "checks": [[c["name"], c["passed"]] for c in result["checks"]]}, indent=2))
        sys.stdout.flush()

    def save(self, model: str, result: dict) -> None:
        from gpu_workers.leaderboard import record_probe_score
        from gpu_workers.models import ProbeRun
        from gpu_workers.services import create_probe_run
        from observatory.catalog.models import Run

        probe_run = create_probe_run(model, result["probe"], config=result["config"])
        # Run here, in this process, not by a worker: claimed and finished at once, never sent.
        Run.objects.claim(probe_run.run_id, count_attempt=False)
        Run.objects.finish(probe_run.run_id, step="done (CLI)")
        ProbeRun.objects.filter(pk=probe_run.pk).update(result=result)
        probe_run.refresh_from_db()
        record_probe_score(probe_run)
        self.stderr.write(f"saved as probe run {probe_run.pk}")
