"""A replay Hub: the Hub's list endpoint and /api/models/{id}, served over real HTTP.

The list endpoint is rebuilt from hub-stats rows (Hub API field names) in the Hub's wire format:
a JSON array per page, `Link: <…>; rel="next"` carrying an opaque cursor, the `author`, `search`,
`sort`, `direction`, `limit` and `expand`/`expand[]` parameters; every model has a `sha` (its
main commit: a served repository's own, a recording's, else a stand-in derived from the id and
lastModified). `/api/models/{id}` answers from real recorded responses, 307 redirects of renamed
repos included. Faults (429 with Retry-After,
500, a truncated body, a slow answer) are injected at a configurable rate; a request repeated before
its 429's Retry-After has passed gets another 429 and is logged as early. Every request is
logged, so tests and benchmarks can count what the crawler asked for. Given a RepoStore
(ingest.hub.replay_repos), it also serves model repositories (info, tree, resolve, a CDN) to
huggingface_hub's downloads.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LIST_FIELDS = {"author", "createdAt", "lastModified", "downloads", "downloadsAllTime", "likes", "trendingScore",
               "tags", "cardData", "safetensors", "gguf", "baseModels", "pipeline_tag", "library_name", "gated",
               "sha"}
DEFAULT_FIELDS = ["author", "createdAt", "downloads", "likes", "tags", "pipeline_tag", "library_name"]
MAX_LIMIT = 1000
FAULT_KINDS = {"429", "500", "truncated", "slow"}


def _wire_value(key: str, value):
    """hub-stats stores some fields flattened; the API sends objects."""
    if key == "cardData" and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    if key == "safetensors" and isinstance(value, dict):
        params = {k: v for k, v in (value.get("parameters") or {}).items() if v is not None}
        return {"parameters": params, "total": value.get("total")} if value.get("total") is not None else None
    if key == "gguf" and value in (None, "None", ""):
        return None
    if key == "baseModels" and isinstance(value, dict):
        models = [{"id": m["id"]} for m in value.get("models") or [] if m and m.get("id")]
        return {"relation": value.get("relation"), "models": models} if models else None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return value


def load_records(data_dir: Path) -> list[dict]:
    import polars as pl

    path = next((data_dir / "hub").glob("hub_stats_frozen_*.parquet"))
    records = []
    for row in pl.read_parquet(path).to_dicts():
        record = {key: _wire_value(key, value) for key, value in row.items()}
        record["_id"] = f"{abs(hash(row['id'])) % (1 << 48):012x}"
        record["modelId"] = row["id"]
        record["gated"] = False
        records.append(record)
    return records


def load_model_info(data_dir: Path) -> dict[str, dict]:
    """Recorded /api/models/{id} responses, keyed by request path (query string included)."""
    folder = data_dir / "hub" / "model_info"
    responses: dict[str, dict] = {}
    for path in sorted(folder.glob("*.json")):
        recording = json.loads(path.read_text(encoding="utf-8"))
        uri = urllib.parse.urlsplit(recording["request"]["uri"])
        key = uri.path + (f"?{uri.query}" if uri.query else "")
        responses[key] = recording["response"]  # several vintages: the newest file name sorts last
    return responses


@dataclass
class Faults:
    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "truncated", "slow")
    slow_seconds: float = 2.0
    retry_after: int = 1
    seed: int = 0
    only_list: bool = True
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self):
        if not 0 <= self.rate <= 1:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        unknown = set(self.kinds) - FAULT_KINDS
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {sorted(FAULT_KINDS)}")
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            if self.rate <= 0 or self._random.random() >= self.rate:
                return None
            return self._random.choice(self.kinds)


class ReplayHub:
    def __init__(self, data_dir: Path, *, faults: Faults | None = None, log_path: Path | None = None,
                 records: list[dict] | None = None, repos=None):
        self.repos = repos  # an ingest.hub.replay_repos.RepoStore, or None: no repositories served
        self.cdn: ThreadingHTTPServer | None = None
        self.model_info = load_model_info(data_dir) if (data_dir / "hub" / "model_info").exists() else {}
        self.records = [r if r.get("sha") else {**r, "sha": self._commit(r)}
                        for r in (records if records is not None else load_records(data_dir))]
        self.faults = faults or Faults()
        self.log_path = log_path
        self.log: list[dict] = []
        self._log_lock = threading.Lock()
        # request path (query included) -> the time its last 429 announced it may be asked again
        self._rate_limited_until: dict[str, float] = {}
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def _commit(self, record: dict) -> str:
        """Every Hub repo has a commit its main branch is at (`sha` in the list and in model_info).
        A recorded model_info answer gives the real one; hub-stats rows carry none, so a stand-in
        is derived from the id and lastModified, which moves with every commit: stable across
        restarts, changed exactly when the repo changed."""
        recorded = (self.model_info.get(f"/api/models/{record['id']}") or {}).get("json")
        if isinstance(recorded, dict) and isinstance(recorded.get("sha"), str):
            return recorded["sha"]
        return hashlib.sha1(f"{record['id']}\n{record.get('lastModified')}".encode()).hexdigest()

    def _served_sha(self, hub_id: str) -> str | None:
        """A repository the RepoStore serves is at its own main commit, in the list as in model_info."""
        if self.repos is None or not any(h.lower() == hub_id.lower() for h in self.repos.builders):
            return None
        repo = self.repos.find(hub_id)
        return repo.main if repo is not None else None

    # -- the endpoints ------------------------------------------------------------------------
    def list_page(self, query: dict[str, list[str]], base_url: str) -> tuple[list[dict], str | None]:
        rows = self.records
        author = (query.get("author") or [None])[0]
        if author:
            rows = [r for r in rows if r["id"].split("/", 1)[0] == author]
        search = (query.get("search") or [None])[0]
        if search:
            rows = [r for r in rows if search.lower() in r["id"].lower()]
        sort = (query.get("sort") or [None])[0]
        if sort:
            if sort not in LIST_FIELDS | {"id"}:
                raise ValueError(f"unknown sort {sort!r}")
            descending = (query.get("direction") or ["-1"])[0] == "-1"
            rows = sorted(rows, key=lambda r: (r.get(sort) is not None, r.get(sort) or 0, r["id"]), reverse=descending)
        try:
            limit = min(int((query.get("limit") or [MAX_LIMIT])[0]), MAX_LIMIT)
        except ValueError:
            raise ValueError("limit must be an integer") from None
        if limit <= 0:
            raise ValueError("limit must be positive")
        offset = 0
        if query.get("cursor"):
            try:
                offset = int(json.loads(base64.urlsafe_b64decode(query["cursor"][0].encode()))["offset"])
            except Exception:
                raise ValueError("invalid cursor") from None
        expand = query.get("expand[]", []) + query.get("expand", [])
        fields = [f for f in expand if f in LIST_FIELDS] if expand else DEFAULT_FIELDS
        page = [{"_id": r["_id"], "id": r["id"], **({"modelId": r["id"]} if not expand else {}),
                 **{f: r.get(f) for f in fields}} for r in rows[offset:offset + limit]]
        if "sha" in fields:
            for entry in page:
                entry["sha"] = self._served_sha(entry["id"]) or entry["sha"]
        next_url = None
        if offset + limit < len(rows):
            cursor = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values] + [("cursor", cursor)]
            next_url = f"{base_url}/api/models?{urllib.parse.urlencode(params)}"
        return page, next_url

    # -- serving --------------------------------------------------------------------------------
    def record(self, entry: dict) -> None:
        with self._log_lock:
            self.log.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # the request log replaces stderr noise
                pass

            def do_GET(self):
                hub.handle(self)

            def do_HEAD(self):
                hub.handle(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A client that gave up on a slow or truncated answer is part of the game.
                import sys

                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.server = Server((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        if self.repos is not None:
            class CdnHandler(Handler):
                def do_GET(self):
                    hub.repos.handle_cdn(self, urllib.parse.urlsplit(self.path).path, hub.record)

                do_HEAD = do_GET

            # Another origin, as the Hub's CDN is: the client stops at the redirect for metadata.
            self.cdn = Server((host, 0), CdnHandler)
            self.cdn.daemon_threads = True
            threading.Thread(target=self.cdn.serve_forever, daemon=True).start()
            cdn_host, cdn_port = self.cdn.server_address[:2]
            self.repos.cdn_url = f"http://{cdn_host}:{cdn_port}"
        return self.url

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.cdn:
            self.cdn.shutdown()
            self.cdn.server_close()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(request.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=False)
        if self.repos is not None and self.repos.handle(request, split.path, query, self.record):
            return
        is_list = split.path == "/api/models"
        now = time.time()
        # Retry-After is enforced, as the Hub's rate limiter does: the same request again before the
        # announced time gets another 429 (for the time still left) and is logged as early, so a test
        # can tell a client that honours the header from one that merely backs off.
        with self._log_lock:
            until = self._rate_limited_until.get(request.path)
        if until is not None and now < until:
            left = math.ceil(until - now)
            self.record({"t": now, "path": split.path, "query": split.query, "list": is_list, "fault": None,
                         "status": 429, "early": True, "retry_after": left})
            return self._send(request, 429, {"error": "Too many requests"}, headers={"Retry-After": str(left)})
        fault = self.faults.draw() if (is_list or not self.faults.only_list) and split.path.startswith("/api/models") else None
        entry = {"t": now, "path": split.path, "query": split.query, "list": is_list, "fault": fault, "early": False}
        if fault == "429":
            with self._log_lock:
                self._rate_limited_until[request.path] = now + self.faults.retry_after
            self.record({**entry, "status": 429, "retry_after": self.faults.retry_after})
            return self._send(request, 429, {"error": "Too many requests"},
                              headers={"Retry-After": str(self.faults.retry_after)})
        if fault == "500":
            self.record({**entry, "status": 500})
            return self._send(request, 500, {"error": "Internal Error"})
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
        try:
            status, body, headers = self.route(split.path, query, split.query)
        except ValueError as exc:
            status, body, headers = 400, {"error": str(exc)}, {}
        self.record({**entry, "status": status, "count": len(body) if isinstance(body, list) else None})
        self._send(request, status, body, headers=headers, truncate=fault == "truncated")

    def route(self, path: str, query: dict, raw_query: str):
        if path == "/api/agent-harnesses":
            return 404, {"error": "Not found"}, {}
        if path == "/api/models":
            page, next_url = self.list_page(query, self.url)
            return 200, page, ({"Link": f'<{next_url}>; rel="next"'} if next_url else {})
        if path.startswith("/api/models/"):
            key = path + (f"?{raw_query}" if raw_query else "")
            recorded = self.model_info.get(key) or self.model_info.get(path)
            if recorded is None:
                hub_id = path.removeprefix("/api/models/")
                # The Hub resolves repo ids case-insensitively and answers with the repo's own spelling.
                match = next((r for r in self.records if r["id"].lower() == hub_id.lower()), None)
                if match is None:
                    return 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}
                return 200, match, {}
            if recorded["status"] in (301, 302, 307, 308):
                target = recorded["text"].rsplit(" ", 1)[-1]
                return recorded["status"], recorded["text"], {"Location": target}
            return recorded["status"], recorded["json"], {}
        return 404, {"error": "Not found"}, {}

    @staticmethod
    def _send(request, status: int, body, *, headers: dict | None = None, truncate: bool = False) -> None:
        if isinstance(body, str):
            payload, content_type = body.encode(), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        if truncate:  # announce the whole body, send half, hang up: what a dropped connection looks like
            request.send_header("Connection", "close")
            request.end_headers()
            request.wfile.write(payload[: max(1, len(payload) // 2)])
            request.wfile.flush()
            request.close_connection = True
            return
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)
