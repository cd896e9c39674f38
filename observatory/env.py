"""Typed readers for environment variables.

Each helper raises ImproperlyConfigured naming the variable, so a wrong setting fails at
start-up, loudly, instead of surfacing later as an odd behaviour.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_required(name: str) -> str:
    value = env_str(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    return _env_number(name, default, int, "an integer", minimum, maximum)


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    return _env_number(name, default, float, "a number", minimum, maximum)


def _env_number(name: str, default, parse, what: str, minimum, maximum):
    """int and float alike: absent is the default; unparsable or out of bounds names the variable."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be <= {maximum}, got {value}")
    return value


def env_list(name: str, default: list[str] | None = None, *, sep: str = ",") -> list[str]:
    raw = env_str(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(sep) if item.strip()]


def env_int_list(name: str, default: tuple[int, ...], *, minimum: int | None = None) -> tuple[int, ...]:
    """`0,1,3` → (0, 1, 3), sorted and without repeats; a non-integer or one below `minimum` names the variable."""
    raw = env_list(name)
    if not raw:
        return tuple(default)
    try:
        values = sorted({int(item) for item in raw})
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be comma-separated integers, got {env_str(name)!r}") from None
    if minimum is not None and values[0] < minimum:
        raise ImproperlyConfigured(f"{name} must hold integers >= {minimum}, got {values[0]}")
    return tuple(values)


def env_path(name: str, default: Path | None = None, *, must_exist: bool = False) -> Path | None:
    raw = env_str(name)
    path = Path(raw).expanduser() if raw is not None else default
    if path is None:
        return None
    if must_exist and not path.exists():
        raise ImproperlyConfigured(f"{name} points at {path}, which does not exist")
    return path


def env_mapping(name: str) -> dict[str, str]:
    """`key=value;key2=value2` → dict. Used for registering local model sources."""
    raw = env_str(name)
    if raw is None:
        return {}
    result: dict[str, str] = {}
    for part in raw.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ImproperlyConfigured(f"{name} entries must look like key=value, got {part!r}")
        key, value = part.split("=", 1)
        result[key.strip()] = value.strip()
    return result
