"""The cache configuration (settings.CACHES) for a Redis cache or the embedded default.

Two aliases over one store:
- `default` holds what can be recomputed (metric results, pages, images, counts). It degrades:
  with Redis unreachable a read is a miss and a write is dropped (django-redis's supported
  IGNORE_EXCEPTIONS), so pages serve from the database instead of answering 500.
- `limits` holds the rate-limit counters. It does not degrade: a limit that cannot be counted
  raises, and the caller decides (observatory.labs.limits).

Short socket timeouts, because a blackholed Redis must cost a request a second, not a minute.
"""

from __future__ import annotations

# Seconds; a cached metric body can be a few MB, which Redis sends in well under this.
CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 3.0
LOCAL_LOCATION = "observatory"


def redis_caches(url: str, *, key_prefix: str, timeout: int) -> dict:
    def alias(ignore_exceptions: bool) -> dict:
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
            "TIMEOUT": timeout,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": ignore_exceptions,
                "SOCKET_CONNECT_TIMEOUT": CONNECT_TIMEOUT,
                "SOCKET_TIMEOUT": SOCKET_TIMEOUT,
            },
        }

    return {"default": alias(True), "limits": alias(False)}


def local_caches(*, timeout: int) -> dict:
    # Same LOCATION: locmem caches with one name share one store, so clearing one clears both.
    alias = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": LOCAL_LOCATION,
             "TIMEOUT": timeout}
    return {"default": dict(alias), "limits": dict(alias)}
