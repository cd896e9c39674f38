"""Every module of the web app, the crawler and the GPU workers' planning side imports in the
web-only environment that `make run` builds (no probes extra, so no torch or transformers).

The test venv has every extra installed, so a web module that imports a probes-only package
(numpy did once, through the adoption forecast) passes the whole suite and still breaks the
README's first command at `migrate`. CI runs this in a venv built by `make web-env`.
"""

import importlib
import os
import pkgutil
import sys
import tempfile

PACKAGES = ("observatory", "ingest", "gpu_workers")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
    os.environ.setdefault("OBSERVATORY_HOME", tempfile.mkdtemp(prefix="web-env-"))
    for name in ("DATABASE_URL", "REDIS_URL", "CACHE_REDIS_URL"):
        os.environ.pop(name, None)  # the embedded default, as `make run` starts it
    import django

    django.setup()
    failures, count = [], 0
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            count += 1
            try:
                importlib.import_module(info.name)
            except Exception as error:  # every failure is reported, then CI fails
                failures.append(f"{info.name}: {type(error).__name__}: {error}")
    for line in failures:
        print(f"does not import in the web-only environment: {line}", file=sys.stderr)
    print(f"{count - len(failures)} of {count} modules import without the probes extra")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
