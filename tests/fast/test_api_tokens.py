"""Lab API tokens (observatory.labs.tokens): the keyed digest, the token's form, and that only an
active, well-formed, known token authenticates (rows on the embedded default's SQLite here)."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from django.contrib.auth import get_user_model

from observatory.labs import tokens
from observatory.labs.models import ApiToken, Lab


def _expected_digest(secret: str, token: str) -> str:
    key = hashlib.sha256(b"observatory.labs.api-token:" + secret.encode()).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def test_it_keys_the_digest_with_a_hash_of_the_secret_key(settings):
    settings.SECRET_KEY = "one secret"
    token = "omo_" + "A" * 43
    assert tokens.digest(token) == _expected_digest("one secret", token)
    settings.SECRET_KEY = "another secret"
    assert tokens.digest(token) == _expected_digest("another secret", token)
    assert tokens.digest(token) != hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(("text", "ok"), [
    ("omo_" + "a" * 43, True), ("omo_" + "Z9_-" * 10 + "abc", True),
    ("omo_" + "a" * 42, False), ("omo_" + "a" * 44, False), ("omx_" + "a" * 43, False),
    ("omo_" + "a" * 42 + "=", False), ("omo_" + "a" * 42 + "\n", False), (" omo_" + "a" * 43, False),
])
def test_it_accepts_only_the_prefix_and_43_url_safe_characters(text, ok):
    assert bool(tokens.TOKEN_RE.match(text)) is ok


@pytest.fixture
def lab(db):
    return Lab.objects.create(name="Lab", slug="lab")


def test_it_stores_only_the_digest_and_the_first_twelve_characters(lab, settings):
    settings.SECRET_KEY = "s"
    user = get_user_model().objects.create_user("ada", password="x" * 16)
    row, plain = tokens.create_token(lab, "ci", user=user)
    assert re.fullmatch(r"omo_[A-Za-z0-9_-]{43}", plain)
    stored = ApiToken.objects.get(pk=row.pk)
    assert (stored.lab_id, stored.created_by_id, stored.name, stored.prefix, stored.digest) == (
        lab.pk, user.pk, "ci", plain[:12], _expected_digest("s", plain))
    assert plain not in {stored.name, stored.prefix, stored.digest}
    other_row, other = tokens.create_token(lab, "second")
    assert other != plain and other_row.created_by_id is None


def test_it_authenticates_an_active_token_and_records_its_use(lab):
    row, plain = tokens.create_token(lab, "ci")
    assert ApiToken.objects.get(pk=row.pk).last_used_at is None
    found = tokens.authenticate(plain)
    assert found.pk == row.pk and found.lab == lab and found.last_used_at is not None
    assert ApiToken.objects.get(pk=row.pk).last_used_at == found.last_used_at


@pytest.mark.parametrize("presented", [None, 42, b"omo_", "", "omo_" + "a" * 43, "garbage"])
def test_it_refuses_a_malformed_or_unknown_token(lab, presented):
    tokens.create_token(lab, "ci")
    assert tokens.authenticate(presented) is None
    assert tokens.find_revoked(presented) is None


def test_it_refuses_a_revoked_token_and_finds_it_for_the_audit_log(lab):
    row, plain = tokens.create_token(lab, "ci")
    _, other = tokens.create_token(lab, "other")
    assert tokens.find_revoked(plain) is None  # still active
    assert tokens.revoke(row) is True
    assert row.revoked_at is not None
    assert tokens.authenticate(plain) is None
    assert tokens.find_revoked(plain).pk == row.pk
    assert tokens.revoke(row) is False  # once only
    assert tokens.authenticate(other) is not None
    assert tokens.find_revoked(other) is None  # another token's revocation is not this one's
    assert tokens.find_revoked("omo_" + "b" * 43) is None


def test_it_refuses_a_row_whose_stored_digest_differs(lab, settings):
    row, plain = tokens.create_token(lab, "ci")
    settings.SECRET_KEY = "rotated"  # every stored digest now belongs to another key
    assert tokens.authenticate(plain) is None
