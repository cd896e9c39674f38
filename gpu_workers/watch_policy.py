"""The release watch's policy: which probes a new tracked release gets, at most how many new
models a day, the size cap, the priority, the probes' configs and the public benchmark subsets.

Set in the admin (one WatchPolicy row, gpu_workers.models); with no row, the WATCH_* settings.
Both are read through the same checks, so a wrong value is refused the same way from either: the
admin shows the reason beside the field and saves nothing, a setting raises ImproperlyConfigured
naming itself. Django-free but for `effective()` and `from_settings()`.
"""

from __future__ import annotations

import dataclasses
import json

from probes import registry
from probes.itemsets import ITEMS_DIR
from probes.public_sets import NAMES as PUBLIC_SETS
from probes.result import config_hash, full_config

PRIORITIES = ("downloads", "ram", "size_class")
BENCHMARK = "benchmark"  # the probe planned once more per public set


def check_probes(value) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'a list of probe names, e.g. ["benchmark", "tooling"]; known: {", ".join(registry.NAMES)}')
    unknown = [p for p in value if p not in registry.NAMES]
    if unknown:
        raise ValueError(f"unknown probe(s) {', '.join(repr(p)[1:-1][:40] for p in unknown)}; "
                         f"known: {', '.join(registry.NAMES)}")
    if len(set(value)) != len(value):
        raise ValueError("a probe is listed twice")
    return tuple(value)


def check_priority(value) -> str:
    if value not in PRIORITIES:
        raise ValueError(f"must be one of {', '.join(PRIORITIES)}, got {str(value)[:40]!r}")
    return value


def _item_sets() -> set[str]:
    return {p.stem for p in ITEMS_DIR.glob("*.jsonl")} | set(PUBLIC_SETS)


def _check_value(probe: str, key: str, value, default) -> None:
    """A value of the default's kind (an integer where the default is one, a list for a list…):
    the watch must never queue a config a worker would trip over."""
    where = f"{probe}.{key}"
    if key == "item_set":
        if value not in _item_sets():
            raise ValueError(f"{where} must be one of {', '.join(sorted(_item_sets()))}, got {str(value)[:40]!r}")
        return
    if key == "limit" or (default is None and isinstance(value, int)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{where} must be a positive integer or null (all items), got {json.dumps(value)[:40]}")
        return
    wanted = _KINDS.get(type(default))
    if wanted is None:
        return
    types, said = wanted
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise ValueError(f"{where} must be {said} like its default {json.dumps(default)[:60]}, "
                         f"got {json.dumps(value, default=str)[:40]}")


_KINDS = {bool: ((bool,), "true or false"), int: ((int,), "an integer"), float: ((int, float), "a number"),
          str: ((str,), "a string"), list: ((list,), "a list"), dict: ((dict,), "an object")}


def check_overrides(probe: str, values) -> dict:
    if not isinstance(values, dict):
        raise ValueError(f"the config of {probe} must be an object of option: value")
    defaults = full_config(probe)
    for key, value in values.items():
        if key not in defaults:
            raise ValueError(f"unknown {probe} config key {str(key)[:40]!r}; known: {', '.join(sorted(defaults))}")
        _check_value(probe, key, value, defaults[key])
    full_config(probe, values)
    return dict(values)


def check_probe_config(value) -> dict[str, dict]:
    """{probe: {option: value}}: each probe known, each option one of its defaults', of its kind."""
    if not isinstance(value, dict):
        raise ValueError('an object {probe: {option: value}}, e.g. {"benchmark": {"limit": 20}}')
    out = {}
    for probe, values in value.items():
        if probe not in registry.NAMES:
            raise ValueError(f"config for unknown probe {str(probe)[:40]!r}; known: {', '.join(registry.NAMES)}")
        out[probe] = check_overrides(probe, values)
    return out


def check_public_sets(value) -> dict[str, int | None]:
    """{public set: items of its fixed subset, or null for the whole set}."""
    if not isinstance(value, dict):
        raise ValueError('an object {set: items}, e.g. {"hellaswag": 100, "gsm8k": null} (null: the whole set)')
    out: dict[str, int | None] = {}
    for name, limit in value.items():
        if name not in PUBLIC_SETS:
            raise ValueError(f"unknown public set {str(name)[:40]!r}; known: {', '.join(PUBLIC_SETS)}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"{name}: a positive number of items or null (the whole set), "
                             f"got {json.dumps(limit, default=str)[:40]}")
        out[name] = limit
    return out


@dataclasses.dataclass(frozen=True)
class Ask:
    """One probe run the watch may ask for: the probe, its config overrides and how the plan names it."""

    probe: str
    overrides: dict
    label: str
    attempt: int = 1  # a retry's number of runs so far plus one (gpu_workers.watch_retries)

    def config(self) -> dict:
        return full_config(self.probe, self.overrides)

    def hash(self) -> str:
        return config_hash(self.probe, self.config())


@dataclasses.dataclass(frozen=True)
class WatchConfig:
    probes: tuple[str, ...]
    overrides: dict[str, dict]  # probe → config keys that differ from its default
    public_sets: dict[str, int | None]  # set → subset size (None: whole), for the benchmark probe
    max_per_day: int
    max_params_b: float
    max_age_days: int
    priority: str
    gpu_hosts: bool = False  # WATCH_GPU_HOSTS: every public set whole
    source: str = "settings"  # or "admin"

    def config(self, probe: str) -> dict:
        return full_config(probe, self.overrides.get(probe))

    def hash(self, probe: str) -> str:
        return config_hash(probe, self.config(probe))

    def asks(self, probes: list[str] | tuple[str, ...] | None = None) -> list[Ask]:
        """The runs for these probes (all the policy's by default): each probe once with its
        overrides, and the benchmark once more per public set on its subset."""
        out = []
        for probe in self.probes if probes is None else probes:
            own = dict(self.overrides.get(probe, {}))
            out.append(Ask(probe, own, probe))
            if probe == BENCHMARK:
                for name, limit in self.public_sets.items():
                    out.append(Ask(probe, {**own, "item_set": name, "limit": None if self.gpu_hosts else limit},
                                   f"{probe}:{name}"))
        return out


def parse_env_probe_config(raw: dict[str, str]) -> dict[str, dict]:
    """WATCH_PROBE_CONFIG's `probe.key=JSON` pairs as {probe: {key: value}} (a bare word is a string)."""
    out: dict[str, dict] = {}
    for key, text in raw.items():
        probe, _, name = key.partition(".")
        if probe not in registry.NAMES or not name:
            raise ValueError(f"{key!r} is not probe.key (probes: {', '.join(registry.NAMES)})")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out.setdefault(probe, {})[name] = value
    return out


def parse_env_public_sets(raw: dict[str, str]) -> dict[str, int | None]:
    out: dict = {}
    for name, text in raw.items():
        if text.lower() == "full":
            out[name] = None
            continue
        try:
            out[name] = int(text)
        except ValueError:
            out[name] = text  # refused, with the set's name, by check_public_sets
    return out


def from_settings() -> WatchConfig:
    """The WATCH_* settings, checked: a wrong one names itself (ImproperlyConfigured), never a worker error."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    checked = {}
    for name, check in (("WATCH_PROBES", lambda: check_probes(list(settings.WATCH_PROBES))),
                        ("WATCH_PRIORITY", lambda: check_priority(settings.WATCH_PRIORITY)),
                        ("WATCH_PROBE_CONFIG", lambda: check_probe_config(
                            parse_env_probe_config(settings.WATCH_PROBE_CONFIG))),
                        ("WATCH_PUBLIC_SETS", lambda: check_public_sets(
                            parse_env_public_sets(settings.WATCH_PUBLIC_SETS)))):
        try:
            checked[name] = check()
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}") from None
    return WatchConfig(probes=checked["WATCH_PROBES"], overrides=checked["WATCH_PROBE_CONFIG"],
                       public_sets=checked["WATCH_PUBLIC_SETS"], max_per_day=settings.WATCH_MAX_PER_DAY,
                       max_params_b=min(settings.WATCH_MAX_PARAMS_B, settings.PROBE_MAX_PARAMS_B),
                       max_age_days=settings.WATCH_MAX_AGE_DAYS, priority=checked["WATCH_PRIORITY"],
                       gpu_hosts=settings.WATCH_GPU_HOSTS)


def effective() -> WatchConfig:
    """The admin's policy when one is saved, else the settings. WATCH_GPU_HOSTS (a fact about the
    fleet, not a policy) and the probes' own PROBE_MAX_PARAMS_B cap apply to both."""
    from django.apps import apps
    from django.conf import settings

    # Through the app registry: the model's fields validate with this module's checks, so an
    # import of gpu_workers.models here would make the two modules import each other.
    row = apps.get_model("gpu_workers", "WatchPolicy").objects.first()
    if row is None:
        return from_settings()
    return WatchConfig(probes=tuple(row.probes), overrides=dict(row.probe_config), public_sets=dict(row.public_sets),
                       max_per_day=row.max_per_day, max_params_b=min(row.max_params_b, settings.PROBE_MAX_PARAMS_B),
                       max_age_days=row.max_age_days, priority=row.priority, gpu_hosts=settings.WATCH_GPU_HOSTS,
                       source="admin")
