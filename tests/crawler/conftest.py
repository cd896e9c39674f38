import pytest

from ingest.hub.replay import Faults, ReplayHub, load_model_info, load_records


@pytest.fixture(autouse=True)
def _private_hf_home(tmp_path, monkeypatch):
    """huggingface_hub in this process keeps its caches (the agent-harness registry) in a temp HF_HOME."""
    from huggingface_hub import constants

    home = tmp_path / "hf-home-test"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(home / ".agent_harnesses.json"))


@pytest.fixture(autouse=True)
def _empty_catalog(request):
    """Every crawler test that uses the database starts from an empty catalogue, whatever an earlier
    test committed (the session's `loaded_db` bootstrap). In a rolled-back test the emptying rolls
    back with it; transactional tests flush the tables afterwards anyway."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(names & {"transactional_db", "celery_worker_factory"}) or bool(
        marker and marker.kwargs.get("transaction"))
    if not (transactional or marker or "db" in names):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_hubmodel, catalog_organization, catalog_quarantinedrecord, catalog_run, "
                       "catalog_trackedlistentry, ingest_crawlplan RESTART IDENTITY CASCADE")
    yield


@pytest.fixture(scope="session")
def replay_records(shared_data):
    return load_records(shared_data)


@pytest.fixture
def replay_hub(shared_data, replay_records, tmp_path, monkeypatch):
    """Start a replay Hub on a free port: `replay_hub(fault_rate=0.1)`."""
    hubs = []

    def start(fault_rate: float = 0.0, records=None, **fault_options) -> ReplayHub:
        hub = ReplayHub(shared_data, faults=Faults(rate=fault_rate, **fault_options),
                        log_path=tmp_path / f"replay-{len(hubs)}.jsonl",
                        records=records if records is not None else replay_records)
        hub.start()
        hubs.append(hub)
        from huggingface_hub import constants

        # What HF_ENDPOINT does for a fresh process, for this one: the client's own requests
        # (the agent-harness registry) go to the replay Hub, never to the internet.
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        return hub

    yield start
    for hub in hubs:
        hub.stop()


@pytest.fixture
def hub_env(tmp_path, settings, monkeypatch):
    """What a process talking to a replay Hub needs: its URL and a private HF_HOME."""
    def configure(hub, **extra):
        env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf-home"), "CRAWL_RETRY_BASE_SECONDS": "0.05",
               "CRAWL_STALE_SECONDS": "1", "CRAWL_HTTP_TIMEOUT": "1", **{k: str(v) for k, v in extra.items()}}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings.HF_ENDPOINT = hub.url
        return env

    return configure


__all__ = ["load_model_info"]


@pytest.fixture
def empty_catalog(transactional_db):
    """Transactional tests start from whatever committed data the session loaded: clear it."""
    from django.db import connection

    tables = ["catalog_lineageedge", "catalog_downloadsnapshot", "catalog_modelalias", "catalog_quarantinedrecord",
              "catalog_hubmodel", "catalog_organization"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
