"""Talking to the Hub through huggingface_hub's own HTTP machinery, one request at a time.

The crawler pages by hand (one Celery task a page, a cursor checkpoint between them), so it
uses the client's shared session, headers and error mapping rather than `list_models`'s
generator, which cannot be resumed. Errors are sorted into transient ones, worth a retry, and
permanent ones, which are not.
"""

from __future__ import annotations

import json
import urllib.parse

import httpx2
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

# `sha` (the commit main is at) is what the release watch pins its runs to and re-checks tooling on.
EXPAND = ["downloads", "downloadsAllTime", "likes", "createdAt", "lastModified", "cardData", "safetensors",
          "tags", "baseModels", "pipeline_tag", "library_name", "gated", "gguf", "author", "sha"]


class HubError(Exception):
    """Anything that went wrong talking to the Hub."""


class HubTransientError(HubError):
    """Worth retrying: 5xx, a dropped or truncated answer, a timeout."""


class HubRateLimited(HubTransientError):
    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        super().__init__(f"rate limited: retry after {retry_after:g}s")


class HubPermanentError(HubError):
    """Not worth retrying: 4xx other than 429, an answer that is not what the Hub sends."""

    def __init__(self, message: str, *, status: int | None = None):
        self.status = status
        super().__init__(message)


def list_url(endpoint: str, *, author: str | None = None, search: str | None = None, sort: str | None = None,
             direction: int | None = None, limit: int = 1000, expand: list[str] | None = None) -> str:
    """The first page's URL, built with the same parameters HfApi.list_models sends."""
    params: list[tuple[str, str]] = []
    if author:
        params.append(("author", author))
    if search:
        params.append(("search", search))
    if sort:
        params.append(("sort", sort))
    if direction is not None:
        params.append(("direction", str(direction)))
    params.append(("limit", str(limit)))
    for field in expand if expand is not None else EXPAND:
        params.append(("expand[]", field))
    return f"{endpoint.rstrip('/')}/api/models?{urllib.parse.urlencode(params)}"


def _parse_retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def get_json(url: str, *, timeout: float, token: str | None = None, follow_redirects: bool = True):
    """GET one URL; returns (json, response). Raises HubTransientError / HubPermanentError."""
    try:
        response = get_session().get(url, headers=build_hf_headers(token=token), timeout=timeout,
                                     follow_redirects=follow_redirects)
        response.read()
    except (httpx2.TimeoutException, httpx2.TransportError) as exc:  # timeouts, resets, truncated bodies
        raise HubTransientError(f"{exc.__class__.__name__}: {exc}") from exc
    if response.status_code == 429:
        raise HubRateLimited(_parse_retry_after(response.headers.get("Retry-After")))
    if response.status_code >= 500:
        raise HubTransientError(f"HTTP {response.status_code} from {url}")
    try:
        hf_raise_for_status(response)
    except Exception as exc:
        raise HubPermanentError(f"HTTP {response.status_code} from {url}: {str(exc)[:300]}",
                                status=response.status_code) from exc
    try:
        return json.loads(response.content), response
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        # A body cut short by a dropped connection looks like this when Content-Length lied.
        raise HubTransientError(f"unreadable JSON from {url}: {exc}") from exc


def next_link(response) -> str | None:
    return response.links.get("next", {}).get("url")
