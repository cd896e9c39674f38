"""Pin a submission to exactly one version of the model's files at acceptance.

- A Hub id is pinned to the commit sha the Hub reports for the asked revision
  (huggingface_hub's model_info against settings.HF_ENDPOINT).
- A locally registered source (settings.PROBE_LOCAL_SOURCES) has no commits: it is pinned to the
  SHA-256 of its weight and config files, and the submission records that it was (pin_kind).
Size caps (PROBE_MAX_PARAMS_B, PROBE_MAX_DISK_GB) are checked here too, before anything queues.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from observatory.labs.models import Submission

_HASHED_SUFFIXES = (".gguf", ".safetensors", ".json", ".model", ".txt", ".jinja")


class Refused(ValueError):
    """The model can't be accepted; the message says why (and which field it concerns)."""

    def __init__(self, field: str, message: str, status: int = 400):
        self.field = field
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Pin:
    resolved_revision: str
    pin_kind: str
    gated: bool = False
    n_params: int = 0
    disk_bytes: int = 0


def pin(hub_id: str, revision: str, access_token: str = "") -> Pin:
    local = settings.PROBE_LOCAL_SOURCES.get(hub_id)
    if local:
        return pin_local(Path(local), revision)
    return pin_hub(hub_id, revision, access_token)


# (path, size, mtime) → digest: hashing a weight file takes a while, and it only changes with the file.
_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo in _DIGESTS:
        return _DIGESTS[memo]
    key = f"labs:sha256:{hashlib.sha256(memo[0].encode()).hexdigest()}:{stat.st_size}:{stat.st_mtime_ns}"
    cached = cache.get(key)
    if cached:
        _DIGESTS[memo] = cached
        return cached
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    value = sha.hexdigest()
    cache.set(key, value, 7 * 24 * 3600)
    _DIGESTS[memo] = value
    return value


def pin_local(path: Path, revision: str) -> Pin:
    if revision not in ("", "main"):
        raise Refused("revision", "this model is served from a locally registered copy, which has no revisions: "
                                  "leave revision empty (it is pinned to the SHA-256 of the files)")
    if not path.exists():
        raise Refused("hub_id", "the locally registered copy of this model is missing on this server", status=503)
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_HASHED_SUFFIXES))
    disk = sum(p.stat().st_size for p in files)
    _check_disk(disk)
    if len(files) == 1:
        digest = _file_sha256(files[0])
    else:
        combined = hashlib.sha256()
        for p in files:
            combined.update(f"{p.name}\0{_file_sha256(p)}\n".encode())
        digest = combined.hexdigest()
    return Pin(resolved_revision=digest, pin_kind=Submission.PinKind.LOCAL_SHA256, disk_bytes=disk)


def _check_disk(disk_bytes: int) -> None:
    if disk_bytes / 1e9 > settings.PROBE_MAX_DISK_GB:
        raise Refused("hub_id", f"model too large: {disk_bytes / 1e9:.2f} GB of weights is over this server's cap "
                                f"of {settings.PROBE_MAX_DISK_GB} GB")


def pin_hub(hub_id: str, revision: str, access_token: str) -> Pin:
    import httpx2
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = HfApi(endpoint=settings.HF_ENDPOINT, token=access_token or False)
    try:
        info = api.model_info(hub_id, revision=revision or None, files_metadata=True, timeout=20)
    except GatedRepoError:
        raise Refused("access_token", f"{hub_id} is gated: accept its terms on the Hub and supply an "
                                      "access_token that may read it") from None
    except RevisionNotFoundError:
        raise Refused("revision", f"{hub_id} has no revision {revision!r}") from None
    except RepositoryNotFoundError:
        raise Refused("hub_id", f"{hub_id} was not found on the Hub (or is private to someone else)") from None
    except HFValidationError as exc:
        raise Refused("hub_id", f"the Hub client refused this id: {exc}") from None
    except HfHubHTTPError as exc:
        code = getattr(getattr(exc, "response", None), "status_code", None)
        raise Refused("hub_id", f"the Hub could not be asked about {hub_id} (HTTP {code}); try again later",
                      status=503) from None
    except (OSError, httpx2.HTTPError) as exc:  # connection refused, DNS, timeouts
        raise Refused("hub_id", f"the Hub could not be reached ({exc.__class__.__name__}); try again later",
                      status=503) from None
    sha = getattr(info, "sha", None) or ""
    if len(sha) != 40:
        raise Refused("revision", f"the Hub gave no commit for {hub_id}@{revision or 'main'}", status=503)
    gated = bool(getattr(info, "gated", False))
    if gated and not access_token:
        raise Refused("access_token", f"{hub_id} is gated: supply an access_token that may read it "
                                      "(it is stored encrypted and deleted when the run ends)")
    siblings = getattr(info, "siblings", None) or []
    weights = [s for s in siblings if s.rfilename.endswith((".safetensors", ".gguf"))]
    disk = sum((s.size or 0) for s in weights if s.rfilename.endswith(".safetensors")) or \
        min(((s.size or 0) for s in weights), default=0)
    _check_disk(disk)
    params = int(getattr(getattr(info, "safetensors", None), "total", 0) or 0)
    if params / 1e9 > settings.PROBE_MAX_PARAMS_B:
        raise Refused("hub_id", f"model too large: {params / 1e9:.2f}B parameters is over this server's cap of "
                                f"{settings.PROBE_MAX_PARAMS_B}B")
    return Pin(resolved_revision=sha, pin_kind=Submission.PinKind.HUB_COMMIT, gated=gated, n_params=params,
               disk_bytes=disk)
