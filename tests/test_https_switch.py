"""OBSERVATORY_HTTPS=true turns on HSTS, the SSL redirect, secure cookies and the proxy header:
`manage.py check --deploy` is then clean with DEBUG off and a strong SECRET_KEY."""

import json
import secrets
import subprocess
import sys

from tests.conftest import REPO_ROOT

SHOW = ("import django, json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'observatory.settings'; django.setup();"
        "from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in ("
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SESSION_COOKIE_SECURE',"
        "'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER')}))")


def _env(tmp_path, **extra) -> dict:
    return {"PATH": "/usr/bin:/bin", "OBSERVATORY_HOME": str(tmp_path), "DEBUG": "false",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/observatory",
            "SECRET_KEY": secrets.token_urlsafe(50), **extra}


def _check_deploy(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_it_passes_check_deploy_with_https_on(tmp_path):
    result = _check_deploy(_env(tmp_path, OBSERVATORY_HTTPS="true"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_names_each_https_warning_with_https_off(tmp_path):
    result = _check_deploy(_env(tmp_path))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, warning


def test_it_turns_on_every_https_setting_with_the_switch(tmp_path):
    on = subprocess.run([sys.executable, "-c", SHOW], cwd=REPO_ROOT, env=_env(tmp_path, OBSERVATORY_HTTPS="yes"),
                        capture_output=True, text=True, check=True)
    assert json.loads(on.stdout.splitlines()[-1]) == {
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31_536_000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}
    off = subprocess.run([sys.executable, "-c", SHOW], cwd=REPO_ROOT, env=_env(tmp_path),
                         capture_output=True, text=True, check=True)
    assert json.loads(off.stdout.splitlines()[-1]) == {
        "SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_PROXY_SSL_HEADER": None}


def test_it_refuses_a_garbage_https_switch_naming_it(tmp_path):
    result = subprocess.run([sys.executable, "-c", SHOW], cwd=REPO_ROOT,
                            env=_env(tmp_path, OBSERVATORY_HTTPS="perhaps"), capture_output=True, text=True)
    assert result.returncode != 0 and "OBSERVATORY_HTTPS must be a boolean" in result.stderr
