"""The site's own stylesheets and scripts, served by the app like plotly.js (no CDN, no inline code).

The pages carry no inline <script> or <style> (the Content-Security-Policy forbids them), so these
few files must be served wherever the app runs, DEBUG or not, without a separate static server:
a fixed list read once from observatory/static/observatory/, nothing else reachable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

ASSET_DIR = Path(__file__).resolve().parent / "static" / "observatory"
TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8"}
ASSETS = ("site.css", "embed.css", "charts.js", "dashboard.js", "submission.js")


@lru_cache(maxsize=len(ASSETS))
def _read(name: str) -> bytes:
    return (ASSET_DIR / name).read_bytes()


@require_GET
def asset(request: HttpRequest, name: str) -> HttpResponse:
    if name not in ASSETS:
        raise Http404("no such asset")
    response = HttpResponse(_read(name), content_type=TYPES[Path(name).suffix])
    response["Cache-Control"] = "public, max-age=3600"
    return response
