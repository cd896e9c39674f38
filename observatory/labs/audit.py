"""The audit log: one row per submission, cancel, publish, and token creation, revocation and use."""

from __future__ import annotations

from django.core.cache import cache

from observatory.labs.models import AuditEvent


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be unless a trusted
    # proxy sets it, and this project configures none.
    return request.META.get("REMOTE_ADDR") if request is not None else None


def printable(value):
    """Strings made safe for a JSONB column: NULs and lone surrogates (which PostgreSQL refuses) and
    other unprintable characters are written as escapes, so a hostile path or name is still logged."""
    if isinstance(value, str):
        return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in value)
    if isinstance(value, dict):
        return {printable(str(k)): printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    return value


def record(action: str, *, request=None, lab=None, user=None, token=None, submission=None, **detail) -> AuditEvent:
    if user is None and request is not None and getattr(request, "user", None) is not None \
            and request.user.is_authenticated:
        user = request.user
    return AuditEvent.objects.create(action=action, lab=lab, user=user, token=token, submission=submission,
                                     ip=client_ip(request), detail=printable(detail))


def record_token_use(request, token) -> None:
    """Writes are always logged with their token; reads at most once a minute per token."""
    if request.method != "GET" or cache.add(f"labs:token-used:{token.pk}", 1, 60):
        record(AuditEvent.Action.TOKEN_USED, request=request, lab=token.lab, token=token,
               method=request.method, path=request.path[:200])
