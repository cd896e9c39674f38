"""Failed and refused logins in the audit log, from Django's and django-axes's signals.

django-axes counts failures per account and per address (settings, "Login throttling") and
refuses a locked-out one before any password check; each refusal (the right password too) is
an audit row, as is each failure that was not refused.
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from observatory.labs import audit
from observatory.labs.models import AuditEvent


def _account(username):
    if not username:
        return None
    return get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()


def _path(request) -> str:
    return request.path[:200] if request is not None else ""


@receiver(user_login_failed, dispatch_uid="labs-audit-login-failed")
def record_failed_login(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None or getattr(request, "axes_locked_out", False):
        return  # refused before the password was checked: user_locked_out records it
    username = str(credentials.get("username") or "")[:150]
    audit.record(AuditEvent.Action.LOGIN_FAILED, request=request, user=_account(username),
                 username=username, path=_path(request))


@receiver(user_locked_out, dispatch_uid="labs-audit-login-refused")
def record_refused_login(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    username = str(username or "")[:150]
    audit.record(AuditEvent.Action.LOGIN_REFUSED, request=request, user=_account(username),
                 username=username, path=_path(request), reason="too many failed logins for this account or address")
