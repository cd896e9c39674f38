"""Django settings for the Open Model Observatory.

Everything comes from the environment (see README, "Configuration"). With neither DATABASE_URL
nor REDIS_URL set the observatory runs on its embedded default: a SQLite file under
OBSERVATORY_HOME, tasks executed in-process, a local-memory cache. That switch is explicit
(EMBEDDED_TASKS) and never the base default for a deployment with a broker.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from observatory.caching import local_caches, redis_caches
from observatory.env import (
    env_bool,
    env_float,
    env_int,
    env_int_list,
    env_list,
    env_mapping,
    env_path,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Where the observatory keeps its own state in the embedded default (SQLite file, secret key).
OBSERVATORY_HOME = env_path("OBSERVATORY_HOME", BASE_DIR / "var")
# Where import files are read (the layout of shared/data: hub/, atom/, downloads/, leaderboards/).
OBSERVATORY_DATA_DIR = env_path("OBSERVATORY_DATA_DIR")

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")

DEBUG = env_bool("DEBUG", default=DATABASE_URL is None)


def _secret_key() -> str:
    value = env_str("SECRET_KEY")
    if value:
        return value
    if DATABASE_URL is not None:
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set (only the embedded default generates one)")
    # Embedded default: generate once and keep it, so sessions survive restarts.
    OBSERVATORY_HOME.mkdir(parents=True, exist_ok=True)
    key_file = OBSERVATORY_HOME / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- HTTPS -----------------------------------------------------------------------------------
# OBSERVATORY_HTTPS=true: the site is served over HTTPS only, behind a TLS-terminating proxy that
# sets X-Forwarded-Proto (and strips any the client sent). Plain HTTP is redirected, browsers are
# told to use HTTPS for a year (HSTS), and cookies never travel over HTTP. Off by default: the
# embedded default and `make run` serve plain HTTP on localhost.
OBSERVATORY_HTTPS = env_bool("OBSERVATORY_HTTPS", default=False)
if OBSERVATORY_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("OBSERVATORY_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("OBSERVATORY_HSTS_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("OBSERVATORY_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Every response carries a Content-Security-Policy (observatory/content_security.py); frames:
# X-Frame-Options DENY everywhere but the /embed/ pages.
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "observatory.catalog",
    "ingest",
    "gpu_workers",
    "observatory.dashboards",
    "observatory.labs",
    "axes",  # login throttling: failed attempts per account and per address, in the database
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "observatory.content_security.ContentSecurityPolicyMiddleware",
    "observatory.nul_paths.NulPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the 429 response.
    "axes.middleware.AxesMiddleware",
]

# The count aggregates' unique keys treat NULLs as equal (nulls_distinct=False), which SQLite cannot
# declare. They are kept and read on PostgreSQL only (analytics.counts; SQLite reads the raw rows),
# so on the embedded default the warning says nothing a user can act on.
SILENCED_SYSTEM_CHECKS = ["models.W047"]

ROOT_URLCONF = "observatory.urls"
WSGI_APPLICATION = "observatory.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if DATABASE_URL is None:
    OBSERVATORY_HOME.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": OBSERVATORY_HOME / "observatory.sqlite3",
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    }
else:
    try:
        # Django keeps a connection per thread for DATABASE_CONN_MAX_AGE seconds. Off by default:
        # runserver starts a thread per request and never closes a finished thread's connection,
        # so a kept connection is one idle PostgreSQL session per request until max_connections
        # runs out. Under long-lived threads (gunicorn) set it to reuse them. A kept connection is
        # checked before its first query in each request (CONN_HEALTH_CHECKS), so one the server
        # dropped (restart, pg_terminate_backend) is replaced instead of failing the request.
        DATABASES = {"default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0), conn_health_checks=True)}
    except Exception as exc:  # dj_database_url raises bare ValueErrors
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc

# The Arrow (ADBC) connections the metric loaders read through: a bounded pool per process
# (observatory/analytics/arrow_pool.py), on top of Django's own connection per thread.
ARROW_POOL_SIZE = env_int("ARROW_POOL_SIZE", 4, minimum=1, maximum=64)
ARROW_POOL_IDLE_SECONDS = env_float("ARROW_POOL_IDLE_SECONDS", 60.0, minimum=0.0)
ARROW_POOL_WAIT_SECONDS = env_float("ARROW_POOL_WAIT_SECONDS", 60.0, minimum=0.1)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = OBSERVATORY_HOME / "static"
STATICFILES_DIRS = [BASE_DIR / "observatory" / "static"]

LOGIN_URL = "/accounts/login/"
# Without ?next=, Django would send a fresh login to /accounts/profile/, which is no page here;
# the people who log in are lab members, and their page is the labs dashboard.
LOGIN_REDIRECT_URL = "labs-dashboard"

# --- Login throttling (django-axes) ----------------------------------------------------------
# AxesStandaloneBackend first: it refuses a locked-out account or address before any password
# check. Each entry of the lockout parameters locks on its own: an account after this many
# failures from anywhere, an address after this many failures on any accounts. Refusals go
# to the labs audit log (observatory.labs.audit).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = env_float("LOGIN_COOLOFF_MINUTES", 15.0, minimum=0.1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# REMOTE_ADDR only, as the audit log: no trusted proxy is configured, so X-Forwarded-For is the client's word.
AXES_CLIENT_IP_CALLABLE = "observatory.labs.audit.client_ip"

# --- Cache and tasks -----------------------------------------------------------------------
# Embedded mode runs tasks in-process; it is on exactly when no broker is configured, and can
# be forced either way with EMBEDDED_TASKS.
EMBEDDED_TASKS = env_bool("EMBEDDED_TASKS", default=REDIS_URL is None)
if not EMBEDDED_TASKS and REDIS_URL is None:
    raise ImproperlyConfigured("EMBEDDED_TASKS=0 needs REDIS_URL for the Celery broker")

# The cache belongs in its own Redis server, started with a memory cap and LRU eviction
# (`--maxmemory 1gb --maxmemory-policy allkeys-lru`), so a flood of distinct views evicts old
# views instead of growing without bound; the broker's Redis keeps `noeviction`, or it would
# lose queued jobs (README, "Running on PostgreSQL + Redis"). Every key the observatory writes
# carries a TTL. It falls back to REDIS_URL (fine for one machine, without a memory cap).
CACHE_REDIS_URL = env_str("CACHE_REDIS_URL", REDIS_URL)
if CACHE_REDIS_URL is not None:
    CACHES = redis_caches(CACHE_REDIS_URL, key_prefix=env_str("CACHE_KEY_PREFIX", "observatory"),
                          timeout=60 * 60 * 24)
else:
    CACHES = local_caches(timeout=60 * 60 * 24)
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True  # a degraded cache logs each error it ignored

# Metric results, pages and images: views without a date range or free-text filter (the finite
# menu of the pages' selects) are kept for a day; the rest, unbounded in number, only briefly.
METRIC_CACHE_SECONDS = env_int("METRIC_CACHE_SECONDS", 24 * 3600, minimum=1)
METRIC_CACHE_SHORT_SECONDS = env_int("METRIC_CACHE_SHORT_SECONDS", 300, minimum=1)
# After new data, pages keep reading the old data version while a worker warms the cache for the
# new one (every chart's default view and common filter sets, dashboards.warming), then publish
# it; at most DATA_VERSION_PUBLISH_DEADLINE_SECONDS later it is read warmed or not. Off in the
# embedded default: no worker warms beside the import there, so it publishes at once.
DATA_VERSION_WARM = env_bool("DATA_VERSION_WARM", default=not EMBEDDED_TASKS)
DATA_VERSION_PUBLISH_DEADLINE_SECONDS = env_int("DATA_VERSION_PUBLISH_DEADLINE_SECONDS", 1800, minimum=0)
# Besides every chart's default view, the warm computes its common filter sets (each region, each
# size class, the WARM_TOP_ORGANIZATIONS most downloaded organisations, where it has the filter).
WARM_FILTER_SETS = env_bool("WARM_FILTER_SETS", default=True)
WARM_TOP_ORGANIZATIONS = env_int("WARM_TOP_ORGANIZATIONS", 5, minimum=0)
# Per client address and minute: metric computations that missed the cache, and image renders.
METRIC_COMPUTATIONS_PER_MINUTE = env_int("METRIC_COMPUTATIONS_PER_MINUTE", 30, minimum=1)
EXPORT_RENDERS_PER_MINUTE = env_int("EXPORT_RENDERS_PER_MINUTE", 10, minimum=1)
# Image renders in flight per process (one browser renders one at a time; the others wait for
# it); past this a request gets 503 + Retry-After instead of joining an unbounded queue.
EXPORT_MAX_CONCURRENT = env_int("EXPORT_MAX_CONCURRENT", 2, minimum=1)

# The longest job is a probe run (PROBE_MAX_SECONDS) or a full crawl page; the broker must not
# redeliver a job that is still running, so the visibility timeout sits well above both.
PROBE_MAX_SECONDS = env_int("PROBE_MAX_SECONDS", 3600, minimum=10)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = EMBEDDED_TASKS
CELERY_TASK_EAGER_PROPAGATES = EMBEDDED_TASKS
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(PROBE_MAX_SECONDS * 1.2) + 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "ingest.tasks.crawl_*": {"queue": "crawl"},
    "gpu_workers.tasks.run_probe": {"queue": "gpu"},
}
# Task modules besides each app's tasks.py (which autodiscovery finds).
CELERY_IMPORTS = ("gpu_workers.tooling_schedule", "gpu_workers.watch")
CELERY_TIMEZONE = "UTC"


def _every(task: str, seconds: int, *, expires: int) -> dict:
    """A beat entry every `seconds`; its message expires a little before the next one is sent, so a
    worker that was down does not work through a pile of stale copies."""
    return {"task": task, "schedule": float(seconds), "options": {"expires": expires}}


CELERY_BEAT_SCHEDULE = {
    "daily-hub-crawl": {
        "task": "ingest.tasks.crawl_start_scheduled",
        "schedule": crontab(hour=env_int("CRAWL_HOUR_UTC", 3, minimum=0, maximum=23), minute=15),
        # A little under the period, so a backlog of missed crawls does not pile up.
        "options": {"expires": 23 * 3600},
    },
    "resume-stalled-crawls": _every("ingest.tasks.crawl_resume_stalled", 120, expires=110),
    "reap-stale-runs": _every("gpu_workers.tasks.reap_stale_runs", 60, expires=55),
    # Imports and bootstraps whose worker died: re-sent (a bootstrap continues where it was), then failed.
    "reap-stale-import-runs": _every("ingest.tasks.reap_stale_import_runs", 60, expires=55),
    # Probe runs whose broker message was lost (queued, not in the broker, no worker took them).
    "resend-lost-probe-runs": _every("gpu_workers.tasks.resend_lost_probe_runs", 60, expires=55),
    # Watched models' tooling re-checks (days after release, new revisions): gpu_workers.tooling_schedule.
    "schedule-tooling-checks": _every("gpu_workers.tooling_schedule.schedule_tooling_checks", 3600, expires=3300),
    # Gated models' access tokens of runs that ended by a plain UPDATE (no signal) are deleted here.
    "purge-spent-access-tokens": _every("observatory.labs.tasks.purge_spent_access_tokens", 60, expires=55),
}

# --- Hub crawling ----------------------------------------------------------------------------
HF_ENDPOINT = env_str("HF_ENDPOINT", "https://huggingface.co")
HF_TOKEN = env_str("HF_TOKEN")
CRAWL_TOP_N = env_int("CRAWL_TOP_N", 10_000, minimum=0)
CRAWL_PAGE_SIZE = env_int("CRAWL_PAGE_SIZE", 1000, minimum=1, maximum=1000)
CRAWL_MAX_RETRIES = env_int("CRAWL_MAX_RETRIES", 6, minimum=0)
CRAWL_HTTP_TIMEOUT = env_float("CRAWL_HTTP_TIMEOUT", 30.0, minimum=0.1)
CRAWL_RETRY_BASE_SECONDS = env_float("CRAWL_RETRY_BASE_SECONDS", 5.0, minimum=0.0)
# A running crawl whose heartbeat is older than this has lost its worker and is resumed.
CRAWL_STALE_SECONDS = env_float("CRAWL_STALE_SECONDS", 300.0, minimum=0.0)
# An import or bootstrap run whose heartbeat is older than this has lost its worker: the reaper
# re-sends it once (a bootstrap skips the datasets it finished), then fails it.
IMPORT_HEARTBEAT_STALE_SECONDS = env_int("IMPORT_HEARTBEAT_STALE_SECONDS", 300, minimum=5)
# Tracked ids the list segments did not return (renamed or removed repos) are looked up one by
# one with /api/models/{id}, at most this many a crawl, this many a page task.
CRAWL_LOOKUP_MAX = env_int("CRAWL_LOOKUP_MAX", 1000, minimum=0)
CRAWL_LOOKUP_PAGE = env_int("CRAWL_LOOKUP_PAGE", 25, minimum=1, maximum=1000)
# Parents the catalogue names but does not hold, looked up one by one (a 307 is a rename) per crawl.
CRAWL_PARENT_LOOKUP_MAX = env_int("CRAWL_PARENT_LOOKUP_MAX", 1000, minimum=0)
# Where `manage.py fakehub` keeps the model repositories it builds for download (None: the
# user's cache, observatory/replay-repos), by the source GGUF's content hash.
REPLAY_HUB_CACHE_DIR = env_path("REPLAY_HUB_CACHE_DIR")

# --- Probes ----------------------------------------------------------------------------------
# Hub id → local directory or GGUF file; how offline and air-gapped hosts profile by Hub id.
PROBE_LOCAL_SOURCES = env_mapping("PROBE_LOCAL_SOURCES")
# The public benchmark files (HellaSwag, MMLU-Redux, GSM8K) the benchmark probe can run; see probes/public_sets.py.
OBSERVATORY_BENCHMARKS_DIR = env_path("OBSERVATORY_BENCHMARKS_DIR",
                                      OBSERVATORY_DATA_DIR / "benchmarks" if OBSERVATORY_DATA_DIR else None)
PROBE_MAX_PARAMS_B = env_float("PROBE_MAX_PARAMS_B", 16.0, minimum=0.001)
PROBE_MAX_DISK_GB = env_float("PROBE_MAX_DISK_GB", 40.0, minimum=0.001)
PROBE_HEARTBEAT_STALE_SECONDS = env_int("PROBE_HEARTBEAT_STALE_SECONDS", 300, minimum=5)
# A probe run still queued this long after its last send, whose message is in no broker queue and
# held by no worker, lost its message: it is re-sent at most PROBE_MAX_RESENDS times, then failed.
PROBE_QUEUED_RESEND_SECONDS = env_int("PROBE_QUEUED_RESEND_SECONDS", 300, minimum=5)
PROBE_MAX_RESENDS = env_int("PROBE_MAX_RESENDS", 3, minimum=0)
# Tooling readiness: a watched model's tooling probe runs again this many days after its release
# (and on every new revision); beat queues at most TOOLING_CHECKS_PER_RUN such checks an hour.
TOOLING_CHECK_DAYS = env_int_list("TOOLING_CHECK_DAYS", (0, 1, 3, 7, 14, 30), minimum=0)
TOOLING_CHECKS_PER_RUN = env_int("TOOLING_CHECKS_PER_RUN", 20, minimum=1)
# The release watch (gpu_workers.watch): after every crawl and hub-stats import, new tracked
# releases get these probes, at most WATCH_MAX_PER_DAY new models a day (the first by
# WATCH_PRIORITY: downloads, ram or size_class), up to WATCH_MAX_PARAMS_B parameters, released at
# most WATCH_MAX_AGE_DAYS ago. WATCH_PROBE_CONFIG overrides the probes' configs: probe.key=JSON;…
WATCH_ENABLED = env_bool("WATCH_ENABLED", True)
WATCH_PROBES = env_list("WATCH_PROBES", ["benchmark", "tooling", "finetune"])
WATCH_MAX_PER_DAY = env_int("WATCH_MAX_PER_DAY", 10, minimum=0)
WATCH_MAX_PARAMS_B = env_float("WATCH_MAX_PARAMS_B", 8.0, minimum=0.001)
WATCH_MAX_AGE_DAYS = env_int("WATCH_MAX_AGE_DAYS", 30, minimum=0)
WATCH_PRIORITY = env_str("WATCH_PRIORITY", "downloads")
WATCH_PROBE_CONFIG = env_mapping("WATCH_PROBE_CONFIG")
# The benchmark probe is also planned once per public set (probes.public_sets), on a fixed seeded
# subset of this many items: set=N;… (`full`: the whole set; `none`: no public sets). The defaults
# fit a CPU worker's budget (items/s in bench/results/probe_vs_lm_eval_*). A fleet whose gpu
# workers have CUDA sets WATCH_GPU_HOSTS: every public set then runs whole. Decided when the watch
# plans, not on the worker, because the limit is part of the run's config hash: a subset and the
# full set are different measurements and must never be deduplicated or ranked as one.
WATCH_PUBLIC_SETS = ({} if (env_str("WATCH_PUBLIC_SETS") or "").lower() == "none" else
                     env_mapping("WATCH_PUBLIC_SETS") or {"hellaswag": "100", "mmlu-redux": "100", "gsm8k": "10"})
WATCH_GPU_HOSTS = env_bool("WATCH_GPU_HOSTS", False)
# A watched run that failed for a transient reason (worker lost, time budget, a Hub download
# error, lost in the queue) is asked again by a later watch, at most WATCH_RETRY_MAX_ATTEMPTS runs
# in all, the n-th retry at least WATCH_RETRY_BACKOFF_MINUTES × 2^(n-1) after the last failure.
WATCH_RETRY_MAX_ATTEMPTS = env_int("WATCH_RETRY_MAX_ATTEMPTS", 3, minimum=1)
WATCH_RETRY_BACKOFF_MINUTES = env_float("WATCH_RETRY_BACKOFF_MINUTES", 60.0, minimum=0.0)

# --- Feeds -------------------------------------------------------------------------------------
# The authority of the feeds' tag: URIs (RFC 4151): a domain the deployment owns. Entry ids are
# built from it, the Hub id, the event kind and the event's date, so they survive a rebuild.
FEED_TAG_AUTHORITY = env_str("FEED_TAG_AUTHORITY", "observatory.invalid")

# --- Lab submissions ---------------------------------------------------------------------------
# Per-lab caps: submissions per minute (rate limit, counted in the cache), queued+running probe
# runs at once and submissions per day (quota), API requests per token per minute.
LABS_SUBMISSIONS_PER_MINUTE = env_int("LABS_SUBMISSIONS_PER_MINUTE", 6, minimum=1)
LABS_SUBMISSIONS_PER_DAY = env_int("LABS_SUBMISSIONS_PER_DAY", 100, minimum=1)
LABS_MAX_ACTIVE_RUNS = env_int("LABS_MAX_ACTIVE_RUNS", 6, minimum=1)
LABS_API_REQUESTS_PER_MINUTE = env_int("LABS_API_REQUESTS_PER_MINUTE", 240, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"kv": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
