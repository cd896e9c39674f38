"""Logins are throttled per account and per address; failures and refusals are audited (issue 12, defect 11)."""

import pytest

from observatory.labs.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password, address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_refuses_the_right_password_after_sixty_wrong_ones(labs, client, settings):
    for _ in range(60):
        assert _login(client, "alice", "wrong-password").status_code in (200, 429)
        assert not _logged_in(client)
    refused = _login(client, "alice", "alice-pass-123")
    assert refused.status_code == 429 and not _logged_in(client)

    failed = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    refusals = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_REFUSED)
    limit = settings.AXES_FAILURE_LIMIT
    assert 1 <= failed.count() <= limit  # the wrong passwords checked before the lockout
    assert refusals.count() >= 61 - limit  # every attempt after it, the right password too
    newest = refusals.order_by("-at", "-pk").first()
    assert newest.user == labs["alice"] and newest.ip == "127.0.0.1"
    assert newest.detail["username"] == "alice" and newest.detail["path"] == LOGIN
    assert {e.user_id for e in failed} == {labs["alice"].pk}


def test_it_locks_an_address_that_tries_many_accounts(labs, client, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(client, f"someone-{i}", "guess", address="203.0.113.7")
    assert _login(client, "bob", "bob-pass-123", address="203.0.113.7").status_code == 429
    assert not _logged_in(client)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_REFUSED, ip="203.0.113.7",
                                     detail__username="bob").exists()
    # Bob himself is not locked: from his own address he gets in.
    assert _login(client, "bob", "bob-pass-123", address="198.51.100.20").status_code == 302
    assert _logged_in(client)


def test_it_locks_an_account_tried_from_many_addresses(labs, client, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "alice", "guess", address=f"192.0.2.{i + 1}")
    assert _login(client, "alice", "alice-pass-123", address="198.51.100.30").status_code == 429
    assert not _logged_in(client)
    # The address is not locked: another account logs in from it.
    assert _login(client, "bob", "bob-pass-123", address="198.51.100.30").status_code == 302
    assert _logged_in(client)
