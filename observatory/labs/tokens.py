"""API tokens: made from 32 random bytes, shown once, stored as a keyed hash (HMAC-SHA256).

The hash key is derived from SECRET_KEY, so a leaked database alone does not let anyone check
guesses against the stored digests.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.utils import timezone

from observatory.labs.models import ApiToken, Lab

TOKEN_PREFIX = "omo_"
# omo_ + 43 url-safe base64 characters (32 bytes).
TOKEN_RE = re.compile(r"^omo_[A-Za-z0-9_-]{43}$")


def _hash_key() -> bytes:
    return hashlib.sha256(b"observatory.labs.api-token:" + settings.SECRET_KEY.encode()).digest()


def digest(token: str) -> str:
    return hmac.new(_hash_key(), token.encode(), hashlib.sha256).hexdigest()


def create_token(lab: Lab, name: str, user=None) -> tuple[ApiToken, str]:
    """Create a token row and return it with the plain token (which is not stored anywhere)."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(lab=lab, created_by=user, name=name, prefix=plain[:12], digest=digest(plain))
    return row, plain


def authenticate(plain: str) -> ApiToken | None:
    """The active token row for a presented token, or None (malformed, unknown or revoked)."""
    if not isinstance(plain, str) or not TOKEN_RE.match(plain):
        return None
    row = ApiToken.objects.select_related("lab").filter(digest=digest(plain)).first()
    if row is None or row.revoked_at is not None:
        return None
    # Compare again in constant time; the index lookup above already matched the digest.
    if not hmac.compare_digest(row.digest, digest(plain)):
        return None
    now = timezone.now()
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    row.last_used_at = now
    return row


def find_revoked(plain: str) -> ApiToken | None:
    """The revoked token row a presented token belonged to, for the audit log; None otherwise."""
    if not isinstance(plain, str) or not TOKEN_RE.match(plain):
        return None
    return ApiToken.objects.select_related("lab").filter(digest=digest(plain), revoked_at__isnull=False).first()


def revoke(token: ApiToken) -> bool:
    """Revoke once; True if this call revoked it."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return changed == 1
