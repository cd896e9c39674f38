"""The settings helpers fail loudly, naming the variable."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from observatory import env


def test_it_reads_booleans_in_their_usual_spellings(monkeypatch):
    for raw, expected in [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False), ("", False)]:
        monkeypatch.setenv("OBS_FLAG", raw)
        assert env.env_bool("OBS_FLAG") is expected


def test_it_names_the_variable_when_a_boolean_is_garbage(monkeypatch):
    monkeypatch.setenv("OBS_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="OBS_FLAG"):
        env.env_bool("OBS_FLAG")


def test_it_names_the_variable_when_an_integer_is_garbage_or_out_of_range(monkeypatch):
    monkeypatch.setenv("OBS_N", "12abc")
    with pytest.raises(ImproperlyConfigured, match="OBS_N must be an integer"):
        env.env_int("OBS_N", 1)
    monkeypatch.setenv("OBS_N", "-3")
    with pytest.raises(ImproperlyConfigured, match="OBS_N must be >= 0"):
        env.env_int("OBS_N", 1, minimum=0)


def test_it_parses_local_source_mappings_and_rejects_malformed_entries(monkeypatch):
    monkeypatch.setenv("OBS_MAP", "org/a=/x/a.gguf; org/b=/y")
    assert env.env_mapping("OBS_MAP") == {"org/a": "/x/a.gguf", "org/b": "/y"}
    monkeypatch.setenv("OBS_MAP", "org/a")
    with pytest.raises(ImproperlyConfigured, match="OBS_MAP"):
        env.env_mapping("OBS_MAP")


def _start_django(environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with only `environment` (and PATH) set."""
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='observatory.settings'; django.setup()"],
        env={"PATH": "/usr/bin:/bin", **environment}, capture_output=True, text=True,
    )


def test_it_refuses_to_start_without_a_secret_key_when_a_database_url_is_set(tmp_path):
    result = _start_django({"DATABASE_URL": "postgresql://u@127.0.0.1/x", "OBSERVATORY_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_disabling_embedded_tasks_without_a_broker(tmp_path):
    result = _start_django({"EMBEDDED_TASKS": "0", "OBSERVATORY_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "EMBEDDED_TASKS=0 needs REDIS_URL" in result.stderr
