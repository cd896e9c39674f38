"""Set up Django for a benchmark on its own PostgreSQL database (created and migrated if missing)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database: str = "obs_bench") -> None:
    os.environ.setdefault("DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/{database}")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
    import psycopg

    admin_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def bootstrapped(description: str) -> argparse.Namespace:
    """`--database` and `--data-dir` parsed, Django set up on that database, and the real data
    bootstrapped into it when it holds no model yet (the forecast benches read the real histories)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="obs_bench")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    setup(args.database)
    from django.core.management import call_command

    from observatory.catalog.models import HubModel

    if not HubModel.objects.exists():
        call_command("bootstrap", "--data-dir", str(args.data_dir), "--no-progress", verbosity=0)
    return args


def write_result(name: str, result: dict) -> Path:
    import json

    path = ROOT / "bench" / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
